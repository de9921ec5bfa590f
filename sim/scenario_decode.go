package sim

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/internal/jsonfield"
	"github.com/svcnet/svcnet/internal/k8sschema"
	"github.com/svcnet/svcnet/internal/yamldoc"
	"github.com/svcnet/svcnet/service"
)

// DecodeError is one problem with one document of a scenario stream:
// where it is (the file, the document's position and first line), which
// object, which field, and what is wrong with the value there. Decoding
// reports every problem it finds, joined with errors.Join; errors.As
// gives the first.
//
// errors.Is(err, ErrInvalidScenario) holds for every DecodeError, and
// errors.Is(err, service.ErrInvalid) or service.ErrDecode as well when
// the problem came from package service's rules.
type DecodeError struct {
	// File is the file the document came from; "" for a stream given
	// as bytes.
	File string
	// Doc is the document's position in its file, from 1, counting the
	// documents that hold more than blank lines and comments; Line is the
	// line it starts on, from 1. Both are 0 for a problem of the stream
	// as a whole (no Scenario document at all).
	Doc, Line int
	// Kind and Name say which object, when known: "Deployment",
	// "default/web".
	Kind, Name string
	// Field is the field path (spec.template.spec.containers[0].name),
	// or "" for the whole document.
	Field string
	// Item is the List item the problem is in ("items[3]"; Field starts
	// with it), "" outside a List. ItemLine and FieldLine are the lines
	// of the item and of the field in the file, from 1, or 0 when they
	// could not be located (a field in flow style, {a: 1}, is located at
	// its enclosing key). Error gives them, so that an error in the
	// middle of a long kubectl get -o yaml names where it is.
	Item                string
	ItemLine, FieldLine int
	// Problem says what is wrong, quoting the value when there is one:
	// `invalid value -1: must not be negative`, `unknown field`.
	Problem string
	// Err is the error underneath, if any: a *service.FieldError or a
	// *service.DecodeError.
	Err error
}

// Error formats as
// `sim: web.yaml: document 2 (line 14): Deployment "default/web": spec.replicas: invalid value -1: must not be negative`.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("sim: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Doc > 0 {
		fmt.Fprintf(&b, "document %d (line %d): ", e.Doc, e.Line)
	}
	field := e.Field
	if e.Item != "" {
		b.WriteString(e.Item)
		if e.ItemLine > 0 {
			fmt.Fprintf(&b, " (line %d)", e.ItemLine)
		}
		b.WriteString(": ")
		field = strings.TrimPrefix(strings.TrimPrefix(field, e.Item), ".")
	}
	if e.Kind != "" {
		b.WriteString(e.Kind)
		if e.Name != "" {
			b.WriteString(" " + strconv.Quote(e.Name))
		}
		b.WriteString(": ")
	}
	if field != "" {
		b.WriteString(field)
		if e.Item != "" && e.FieldLine > 0 && e.FieldLine != e.ItemLine {
			fmt.Fprintf(&b, " (line %d)", e.FieldLine)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

// Unwrap returns ErrInvalidScenario and Err, so that errors.Is finds
// either.
func (e *DecodeError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidScenario}
	}
	return []error{ErrInvalidScenario, e.Err}
}

// ScenarioSource is one part of a scenario stream: the bytes and the
// name errors give them: a file name, or "" for none.
type ScenarioSource struct {
	Name string
	Data []byte
}

// DecodeScenario decodes a scenario stream: YAML (or JSON) documents
// separated by "---" lines, exactly one of which is the `kind: Scenario`
// document (apiVersion sim.svcnet.dev/v1alpha1), the others ordinary
// Kubernetes manifests: v1 Service, Pod and Node, apps/v1 Deployment,
// StatefulSet, DaemonSet and ReplicaSet, discovery.k8s.io/v1
// EndpointSlice (user-managed slices; the controller's are skipped), and
// v1 List of those (v1 Namespace, as a `kubectl get -A -o yaml` dump
// lists it, decodes and is not simulated). Every field Kubernetes defines for a kind decodes, and what
// sim does not model is carried (service.Carried); the metadata an API
// server sets (resourceVersion, uid, managedFields, ...) is cleared, as
// service.ClearSystemFields says. Manifests are appended, in stream
// order, to the Scenario's Services, Deployments, StatefulSets, DaemonSets,
// ReplicaSets, Pods, Nodes and EndpointSlices after
// any the Scenario document lists itself; namespaced objects without a
// namespace get "default", as kubectl gives them.
//
// Decoding is strict: a field Kubernetes does not define (at any depth),
// a duplicate key, a value of the wrong type, an unknown apiVersion or
// kind, an object that breaks Kubernetes' validation, two objects of the
// same kind and name, an unknown action or algorithm, or a reference (a
// traffic flow's Service, a timeline event's target) to an object the
// scenario does not define is a *DecodeError. All of them are reported at
// once. The checks that need the whole cluster (address ranges,
// capacities) are Run's.
//
// DecodeScenario never panics, whatever the input.
func DecodeScenario(stream []byte) (Scenario, error) {
	return DecodeScenarioSources(ScenarioSource{Data: stream})
}

// ReadScenarioFiles reads the files and decodes them as one scenario
// stream, in order: the Scenario document in one of them, manifests in
// any (`svcsim run scenario.yaml my-app/*.yaml`). Errors name the file.
func ReadScenarioFiles(paths ...string) (Scenario, error) {
	srcs := make([]ScenarioSource, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return Scenario{}, fmt.Errorf("%w: %w", ErrInvalidScenario, err)
		}
		srcs[i] = ScenarioSource{Name: p, Data: b}
	}
	return DecodeScenarioSources(srcs...)
}

// DecodeScenarioSources decodes the sources as one scenario stream, as
// DecodeScenario does, naming each source in its errors.
func DecodeScenarioSources(srcs ...ScenarioSource) (Scenario, error) {
	d := &decoder{seen: map[objectKey]docRef{}}
	for _, src := range srcs {
		i := -1
		for doc := range service.YAMLDocuments(src.Data) {
			i++
			if d.full() {
				// Past the error cap nothing more is reported, so the
				// rest of the stream is not decoded either.
				return Scenario{}, errors.Join(d.errs...)
			}
			if len(doc.Data) > service.MaxDocumentBytes {
				d.fail(docRef{file: src.Name, doc: i + 1, line: doc.Line}, "", "", "",
					fmt.Sprintf("%d bytes: larger than the limit of %d bytes", len(doc.Data), service.MaxDocumentBytes), nil)
				continue
			}
			d.document(docRef{file: src.Name, doc: i + 1, line: doc.Line, src: doc.Data}, doc.Data)
		}
	}
	d.finish()
	if len(d.errs) > 0 {
		return Scenario{}, errors.Join(d.errs...)
	}
	return d.s, nil
}

// maxDecodeErrors bounds how many problems one decode reports.
const maxDecodeErrors = 50

// docRef locates a document.
type docRef struct {
	file      string
	doc, line int
	// src is the document, to locate the fields of a List's items in.
	src []byte
}

type objectKey struct {
	kind string
	key  service.NamespacedName
}

// decoder gathers the documents of a stream into one Scenario.
type decoder struct {
	s        Scenario
	scenario *docRef
	// scenarioOK says the Scenario document decoded, so its references
	// can be checked.
	scenarioOK bool
	errs       []error
	seen       map[objectKey]docRef
}

// full reports whether the decoder has reported all it will.
func (d *decoder) full() bool { return len(d.errs) > maxDecodeErrors }

func (d *decoder) fail(ref docRef, kind, name, field, problem string, err error) {
	if len(d.errs) == maxDecodeErrors {
		d.errs = append(d.errs, &DecodeError{File: ref.file, Problem: "too many errors"})
	}
	if len(d.errs) > maxDecodeErrors {
		return
	}
	e := &DecodeError{File: ref.file, Doc: ref.doc, Line: ref.line, Kind: kind, Name: name, Field: field, Problem: problem, Err: err}
	if strings.HasPrefix(field, "items[") {
		if end := strings.IndexByte(field, ']'); end > 0 {
			e.Item = field[:end+1]
			at := func(path string) int {
				if l := yamlLine(ref.src, path); l > 0 {
					return ref.line + l - 1
				}
				return 0
			}
			e.ItemLine, e.FieldLine = at(e.Item), at(field)
		}
	}
	d.errs = append(d.errs, e)
}

// failField reports a FieldError, its path under prefix.
func (d *decoder) failField(ref docRef, kind, name, prefix string, fe *service.FieldError) {
	problem := strings.TrimPrefix(fe.Error(), fe.Path+": ")
	d.fail(ref, kind, name, prefix+fe.Path, problem, fe)
}

// failValidation reports every FieldError of a validation error.
func (d *decoder) failValidation(ref docRef, kind, name, prefix string, err error) {
	var ve *service.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			d.failField(ref, kind, name, prefix, fe)
		}
		return
	}
	var fe *service.FieldError
	if errors.As(err, &fe) {
		d.failField(ref, kind, name, prefix, fe)
		return
	}
	d.fail(ref, kind, name, strings.TrimSuffix(prefix, "."), err.Error(), err)
}

// The apiVersions and kinds a scenario stream holds.
const (
	apiVersionApps      = "apps/v1"
	kindDeployment      = "Deployment"
	apiVersionDiscovery = "discovery.k8s.io/v1"
	kindEndpointSlice   = "EndpointSlice"
	knownKinds          = "Scenario, Service, Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Node, Namespace, EndpointSlice or List"
)

// document decodes one document and adds what it holds to the Scenario.
// The document is parsed once (yamldoc.Parse): every check and the
// typed decode read that parse.
func (d *decoder) document(ref docRef, doc []byte) {
	src, err := yamldoc.Parse(doc)
	if err != nil {
		d.fail(ref, "", "", "", "not YAML or JSON: "+err.Error(), nil)
		return
	}
	generic, err := src.JSON()
	if err != nil {
		d.fail(ref, "", "", "", "not YAML or JSON: "+err.Error(), nil)
		return
	}
	m, ok := generic.(map[string]any)
	if !ok {
		d.fail(ref, "", "", "", fmt.Sprintf("a %s, want an object with apiVersion and kind", jsonKind(generic)), nil)
		return
	}
	d.object(ref, m, src, "")
}

// object decodes one object: a whole document or an item of a List
// (prefix is "items[i]."); src is its parse.
func (d *decoder) object(ref docRef, m map[string]any, src yamldoc.Value, prefix string) {
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if kind == "" {
		d.fail(ref, "", "", prefix+"kind", "required value: want "+knownKinds, nil)
		return
	}
	want := ""
	switch kind {
	case KindScenario:
		want = APIVersion
	case "List":
		want = "v1"
	default:
		want = manifestKinds[kind].apiVersion
	}
	switch {
	case want == "":
		d.fail(ref, "", "", prefix+"kind", fmt.Sprintf("invalid value %q: want %s", kind, knownKinds), nil)
		return
	case apiVersion != want:
		d.fail(ref, kind, "", prefix+"apiVersion", fmt.Sprintf("invalid value %q: want %q for kind %s", apiVersion, want, kind), nil)
		return
	}
	switch kind {
	case "List":
		if prefix != "" {
			d.fail(ref, "", "", prefix+"kind", "a List inside a List", nil)
			return
		}
		d.list(ref, m, src)
	case KindScenario:
		if prefix != "" {
			d.fail(ref, kind, "", prefix+"kind", "a Scenario inside a List", nil)
			return
		}
		d.scenarioDoc(ref, m, src)
	default:
		obj, ok := d.decodeKind(ref, kind, m, prefix)
		if !ok {
			return
		}
		if add := manifestKinds[kind].add; add != nil {
			add(d, ref, obj, prefix, true)
		}
	}
}

// list decodes the items of a v1 List, as kubectl get -o yaml writes it.
func (d *decoder) list(ref docRef, m map[string]any, src yamldoc.Value) {
	if list, ok := k8sschema.Lookup("v1", "List"); ok {
		if p := list.Check(m, ""); p != nil {
			d.fail(ref, "List", "", p.Field, p.Text, nil)
			return
		}
	}
	items, ok := m["items"].([]any)
	if !ok && m["items"] != nil {
		d.fail(ref, "List", "", "items", fmt.Sprintf("a %s, want a list", jsonKind(m["items"])), nil)
		return
	}
	for i, it := range items {
		path := fmt.Sprintf("items[%d]", i)
		im, ok := it.(map[string]any)
		if !ok {
			d.fail(ref, "List", "", path, fmt.Sprintf("a %s, want an object", jsonKind(it)), nil)
			continue
		}
		d.object(ref, im, src.Field("items").Item(i), path+".")
	}
}

// decodeKind decodes an object of one of manifestKinds strictly
// against Kubernetes' schema of its kind (yamldoc.DecodeKind, behind
// service.Decode too), so that every field Kubernetes defines decodes
// and is carried when svcnet does not model it; a problem is reported
// with a *service.DecodeError beneath, as service.Decode reports it.
func (d *decoder) decodeKind(ref docRef, kind string, m map[string]any, prefix string) (service.Object, bool) {
	k := manifestKinds[kind]
	schema, ok := k8sschema.Lookup(k.apiVersion, kind)
	if !ok {
		d.fail(ref, kind, manifestName(kind, m), prefix+"kind", fmt.Sprintf("%q has no schema", kind), nil)
		return nil, false
	}
	obj := k.new()
	name := manifestName(kind, m)
	if p := yamldoc.DecodeKind(m, schema, obj, ""); p != nil {
		err := &service.DecodeError{Doc: 1, Field: p.Field, Problem: p.Text}
		field := p.Field
		if field == "" {
			field = strings.TrimSuffix(prefix, ".")
		} else {
			field = prefix + field
		}
		d.fail(ref, kind, name, field, p.Text, err)
		return nil, false
	}
	return obj, true
}

// decodeInto decodes m strictly into out: every field known, every
// value of the right type, then src's target-aware decoding (so that
// `version: 1.10` in a string field stays a string, as kubectl reads
// it) when lenient, or Go's JSON decoder for a List item.
func (d *decoder) decodeInto(ref docRef, kind string, m map[string]any, src yamldoc.Value, lenient bool, prefix string, out any) bool {
	t := reflect.TypeOf(out).Elem()
	c := typeChecker{lenient: lenient}
	c.value(m, t, strings.TrimSuffix(prefix, "."))
	if len(c.errs) > 0 {
		for _, e := range c.errs {
			d.fail(ref, kind, manifestName(kind, m), e.path, e.problem, nil)
		}
		return false
	}
	var err error
	if lenient {
		err = src.Decode(out)
	} else {
		var j []byte
		if j, err = json.Marshal(m); err == nil {
			err = json.Unmarshal(j, out)
		}
	}
	if err != nil {
		d.fail(ref, kind, manifestName(kind, m), strings.TrimSuffix(prefix, "."), err.Error(), err)
		return false
	}
	return true
}

// manifestName is an object's name as errors give it: namespace/name,
// the namespace defaulted, for namespaced kinds.
func manifestName(kind string, m map[string]any) string {
	md, _ := m["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if name == "" || kind == "Node" || kind == KindScenario {
		return name
	}
	ns, _ := md["namespace"].(string)
	if ns == "" {
		ns = "default"
	}
	return ns + "/" + name
}

// scenarioDoc decodes the Scenario document.
func (d *decoder) scenarioDoc(ref docRef, m map[string]any, src yamldoc.Value) {
	if d.scenario != nil {
		first := d.scenario
		where := fmt.Sprintf("document %d", first.doc)
		if first.file != "" {
			where = first.file + ": " + where
		}
		d.fail(ref, KindScenario, "", "", "a second Scenario document (the first is "+where+"); a stream holds one", nil)
		return
	}
	r := ref
	d.scenario = &r
	var s Scenario
	if !d.decodeInto(ref, KindScenario, m, src, true, "", &s) {
		return
	}
	d.scenarioOK = true
	// The Scenario's own objects come first, then the manifests decoded
	// so far: d.s holds those.
	manifests := d.s
	d.s = s
	for i, o := range s.Services {
		if o == nil {
			d.fail(ref, KindScenario, s.Metadata.Name, fmt.Sprintf("services[%d]", i), "null: want a Service", nil)
			continue
		}
		d.addService(ref, o, fmt.Sprintf("services[%d].", i), false)
	}
	for i, o := range s.Deployments {
		if o == nil {
			d.fail(ref, KindScenario, s.Metadata.Name, fmt.Sprintf("deployments[%d]", i), "null: want a Deployment", nil)
			continue
		}
		d.addDeployment(ref, o, fmt.Sprintf("deployments[%d].", i), false)
	}
	for i, o := range s.Pods {
		if o == nil {
			d.fail(ref, KindScenario, s.Metadata.Name, fmt.Sprintf("pods[%d]", i), "null: want a Pod", nil)
			continue
		}
		d.addPod(ref, o, fmt.Sprintf("pods[%d].", i), false)
	}
	for i, o := range s.StatefulSets {
		if o == nil {
			d.fail(ref, KindScenario, s.Metadata.Name, fmt.Sprintf("statefulSets[%d]", i), "null: want a StatefulSet", nil)
			continue
		}
		d.addStatefulSet(ref, o, fmt.Sprintf("statefulSets[%d].", i), false)
	}
	for i, o := range s.DaemonSets {
		if o == nil {
			d.fail(ref, KindScenario, s.Metadata.Name, fmt.Sprintf("daemonSets[%d]", i), "null: want a DaemonSet", nil)
			continue
		}
		d.addDaemonSet(ref, o, fmt.Sprintf("daemonSets[%d].", i), false)
	}
	for i, o := range s.ReplicaSets {
		if o == nil {
			d.fail(ref, KindScenario, s.Metadata.Name, fmt.Sprintf("replicaSets[%d]", i), "null: want a ReplicaSet", nil)
			continue
		}
		d.addReplicaSet(ref, o, fmt.Sprintf("replicaSets[%d].", i), false)
	}
	for i, o := range s.Nodes {
		if o == nil {
			d.fail(ref, KindScenario, s.Metadata.Name, fmt.Sprintf("nodes[%d]", i), "null: want a Node", nil)
			continue
		}
		d.addNode(ref, o, fmt.Sprintf("nodes[%d].", i), false)
	}
	for i, o := range s.EndpointSlices {
		if o == nil {
			d.fail(ref, KindScenario, s.Metadata.Name, fmt.Sprintf("endpointSlices[%d]", i), "null: want an EndpointSlice", nil)
			continue
		}
		d.addSlice(ref, o, fmt.Sprintf("endpointSlices[%d].", i), false)
	}
	// Null entries were reported; drop them so the checks below see
	// only objects.
	d.s.Services = slices.DeleteFunc(d.s.Services, func(o *service.Service) bool { return o == nil })
	d.s.Deployments = slices.DeleteFunc(d.s.Deployments, func(o *Deployment) bool { return o == nil })
	d.s.Pods = slices.DeleteFunc(d.s.Pods, func(o *service.Pod) bool { return o == nil })
	d.s.Nodes = slices.DeleteFunc(d.s.Nodes, func(o *service.Node) bool { return o == nil })
	d.s.EndpointSlices = slices.DeleteFunc(d.s.EndpointSlices, func(o *endpoints.Slice) bool { return o == nil })
	d.s.EndpointSlices = append(d.s.EndpointSlices, manifests.EndpointSlices...)
	d.s.StatefulSets = slices.DeleteFunc(d.s.StatefulSets, func(o *StatefulSet) bool { return o == nil })
	d.s.DaemonSets = slices.DeleteFunc(d.s.DaemonSets, func(o *DaemonSet) bool { return o == nil })
	d.s.ReplicaSets = slices.DeleteFunc(d.s.ReplicaSets, func(o *ReplicaSet) bool { return o == nil })
	d.s.Services = append(d.s.Services, manifests.Services...)
	d.s.Deployments = append(d.s.Deployments, manifests.Deployments...)
	d.s.Pods = append(d.s.Pods, manifests.Pods...)
	d.s.Nodes = append(d.s.Nodes, manifests.Nodes...)
	d.s.StatefulSets = append(d.s.StatefulSets, manifests.StatefulSets...)
	d.s.DaemonSets = append(d.s.DaemonSets, manifests.DaemonSets...)
	d.s.ReplicaSets = append(d.s.ReplicaSets, manifests.ReplicaSets...)
}

// unique records an object's key and reports a second definition.
func (d *decoder) unique(ref docRef, kind, prefix string, key service.NamespacedName) bool {
	k := objectKey{kind, key}
	if first, ok := d.seen[k]; ok {
		where := fmt.Sprintf("document %d (line %d)", first.doc, first.line)
		if first.file != "" {
			where = first.file + ": " + where
		}
		name := key.Name
		if key.Namespace != "" {
			name = key.String()
		}
		d.fail(ref, kind, name, prefix+"metadata.name", fmt.Sprintf("duplicate value %q: already defined in %s", key.Name, where), nil)
		return false
	}
	d.seen[k] = ref
	return true
}

func defaultObjectNamespace(m *service.ObjectMeta) {
	if m.Namespace == "" {
		m.Namespace = "default"
	}
}

// The add functions take an object decoded from a manifest or listed by
// the Scenario document. Each first clears the metadata an API server
// sets itself (service.ClearSystemFields: a dump's resourceVersion, uid,
// managedFields...), as creating the object from the manifest would.
func (d *decoder) addService(ref docRef, svc *service.Service, prefix string, manifest bool) {
	service.ClearSystemFields(svc)
	defaultObjectNamespace(&svc.ObjectMeta)
	name := svc.Key().String()
	if svc.Kind != "" && svc.Kind != "Service" || svc.APIVersion != "" && svc.APIVersion != "v1" {
		d.fail(ref, "Service", name, prefix+"kind", fmt.Sprintf("invalid value %q/%q: want v1 Service", svc.APIVersion, svc.Kind), nil)
	}
	c := svc.DeepCopy()
	service.Default(c)
	if err := c.Validate(); err != nil {
		d.failValidation(ref, "Service", name, prefix, err)
	}
	if a, has := svc.Annotations[algorithmAnnotation]; has && !knownAlgorithm(a) {
		d.fail(ref, "Service", name, prefix+"metadata.annotations["+algorithmAnnotation+"]", fmt.Sprintf("invalid value %q: want one of %s", a, strings.Join(lbAlgorithms(), ", ")), nil)
	}
	if !d.unique(ref, "Service", prefix, svc.Key()) {
		return
	}
	if manifest {
		d.s.Services = append(d.s.Services, svc)
	}
}

func (d *decoder) addPod(ref docRef, p *service.Pod, prefix string, manifest bool) {
	service.ClearSystemFields(p)
	defaultObjectNamespace(&p.ObjectMeta)
	if fe := service.NormalizePodIPs(p); fe != nil {
		d.failField(ref, "Pod", p.Key().String(), prefix, fe)
		return
	}
	name := p.Key().String()
	if p.Kind != "" && p.Kind != "Pod" || p.APIVersion != "" && p.APIVersion != "v1" {
		d.fail(ref, "Pod", name, prefix+"kind", fmt.Sprintf("invalid value %q/%q: want v1 Pod", p.APIVersion, p.Kind), nil)
	}
	if err := p.Validate(); err != nil {
		d.failValidation(ref, "Pod", name, prefix, err)
	}
	if !d.unique(ref, "Pod", prefix, p.Key()) {
		return
	}
	if manifest {
		d.s.Pods = append(d.s.Pods, p)
	}
}

func (d *decoder) addNode(ref docRef, n *service.Node, prefix string, manifest bool) {
	service.ClearSystemFields(n)
	if n.Kind != "" && n.Kind != "Node" || n.APIVersion != "" && n.APIVersion != "v1" {
		d.fail(ref, "Node", n.Name, prefix+"kind", fmt.Sprintf("invalid value %q/%q: want v1 Node", n.APIVersion, n.Kind), nil)
	}
	if err := n.Validate(); err != nil {
		d.failValidation(ref, "Node", n.Name, prefix, err)
	}
	if !d.unique(ref, "Node", prefix, service.NamespacedName{Name: n.Name}) {
		return
	}
	if manifest {
		d.s.Nodes = append(d.s.Nodes, n)
	}
}

func (d *decoder) addDeployment(ref docRef, dep *Deployment, prefix string, manifest bool) {
	service.ClearSystemFields(dep)
	defaultObjectNamespace(&dep.ObjectMeta)
	name := dep.Key().String()
	if dep.Kind != "" && dep.Kind != kindDeployment || dep.APIVersion != "" && dep.APIVersion != apiVersionApps {
		d.fail(ref, kindDeployment, name, prefix+"kind", fmt.Sprintf("invalid value %q/%q: want apps/v1 Deployment", dep.APIVersion, dep.Kind), nil)
	}
	for _, fe := range validateDeployment(dep) {
		d.failField(ref, kindDeployment, name, prefix, fe)
	}
	if !d.unique(ref, kindDeployment, prefix, dep.Key()) {
		return
	}
	if manifest {
		d.s.Deployments = append(d.s.Deployments, dep)
	}
}

func (d *decoder) addSlice(ref docRef, sl *endpoints.Slice, prefix string, manifest bool) {
	defaultObjectNamespace(&sl.ObjectMeta)
	name := sl.Namespace + "/" + sl.Name
	if sl.Kind != "" && sl.Kind != kindEndpointSlice || sl.APIVersion != "" && sl.APIVersion != apiVersionDiscovery {
		d.fail(ref, kindEndpointSlice, name, prefix+"kind", fmt.Sprintf("invalid value %q/%q: want discovery.k8s.io/v1 EndpointSlice", sl.APIVersion, sl.Kind), nil)
	}
	if err := svcnet.ValidateEndpointSlice(sl); err != nil {
		d.failValidation(ref, kindEndpointSlice, name, prefix, err)
	}
	if !d.unique(ref, kindEndpointSlice, prefix, sl.Key()) {
		return
	}
	if manifest {
		d.s.EndpointSlices = append(d.s.EndpointSlices, sl)
	}
}

// withNS defaults a workload's namespace as kubectl does and returns it.
func withNS[T any](o *T, m *service.ObjectMeta) *T {
	defaultObjectNamespace(m)
	return o
}

// addWorkload checks a StatefulSet, DaemonSet or ReplicaSet (its
// namespace defaulted, errs its validation) and, for a manifest, keeps it
// (add).
func (d *decoder) addWorkload(ref docRef, kind string, tm *service.TypeMeta, m *service.ObjectMeta, errs service.ErrorList, prefix string, add func()) {
	name := m.Key().String()
	if tm.Kind != "" && tm.Kind != kind || tm.APIVersion != "" && tm.APIVersion != apiVersionApps {
		d.fail(ref, kind, name, prefix+"kind", fmt.Sprintf("invalid value %q/%q: want apps/v1 %s", tm.APIVersion, tm.Kind, kind), nil)
	}
	for _, fe := range errs {
		d.failField(ref, kind, name, prefix, fe)
	}
	if !d.unique(ref, kind, prefix, m.Key()) {
		return
	}
	if add != nil {
		add()
	}
}

// addStatefulSet, addDaemonSet and addReplicaSet check a workload, as
// addDeployment does a Deployment: the system metadata cleared, checked,
// and for a manifest (not one the Scenario document lists) added to the
// Scenario.
func (d *decoder) addStatefulSet(ref docRef, o *StatefulSet, prefix string, manifest bool) {
	service.ClearSystemFields(o)
	d.addWorkload(ref, kindStatefulSet, &o.TypeMeta, &o.ObjectMeta, validateStatefulSet(withNS(o, &o.ObjectMeta)), prefix, addIf(manifest, func() { d.s.StatefulSets = append(d.s.StatefulSets, o) }))
}

func (d *decoder) addDaemonSet(ref docRef, o *DaemonSet, prefix string, manifest bool) {
	service.ClearSystemFields(o)
	d.addWorkload(ref, kindDaemonSet, &o.TypeMeta, &o.ObjectMeta, validateDaemonSet(withNS(o, &o.ObjectMeta)), prefix, addIf(manifest, func() { d.s.DaemonSets = append(d.s.DaemonSets, o) }))
}

func (d *decoder) addReplicaSet(ref docRef, o *ReplicaSet, prefix string, manifest bool) {
	service.ClearSystemFields(o)
	d.addWorkload(ref, kindReplicaSet, &o.TypeMeta, &o.ObjectMeta, validateReplicaSet(withNS(o, &o.ObjectMeta)), prefix, addIf(manifest, func() { d.s.ReplicaSets = append(d.s.ReplicaSets, o) }))
}

// addIf is add for a manifest, nil for an object the Scenario document
// lists itself (it is in the Scenario already).
func addIf(manifest bool, add func()) func() {
	if manifest {
		return add
	}
	return nil
}

// finish checks the stream as a whole: one Scenario document, and the
// Scenario's own fields and references.
func (d *decoder) finish() {
	if d.scenario == nil {
		if len(d.errs) == 0 {
			d.errs = append(d.errs, &DecodeError{Problem: "no Scenario document: a scenario stream holds one `apiVersion: " + APIVersion + "`, `kind: Scenario` document"})
		}
		return
	}
	if !d.scenarioOK {
		return
	}
	ref := *d.scenario
	for _, fe := range d.checkScenario() {
		d.failField(ref, KindScenario, d.s.Metadata.Name, "", fe)
	}
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

// typeChecker walks a decoded JSON value against the Go type it decodes
// into and reports, with their paths, the fields the type does not have
// and the values of the wrong type or out of range.
type typeChecker struct {
	// lenient accepts a number or a boolean for a string field, as
	// sigs.k8s.io/yaml's target-aware decoding turns them into strings.
	lenient bool
	errs    []typeError
}

// typeError is a field the type does not have or a value it cannot hold.
type typeError struct{ path, problem string }

var (
	durationType    = reflect.TypeFor[Duration]()
	intOrStringType = reflect.TypeFor[service.IntOrString]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	timeType        = reflect.TypeFor[time.Time]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	// textUnmarshalerType: a netip.Addr reads a string (encoding/json
	// decodes it through UnmarshalText).
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (c *typeChecker) bad(path string, v any, rule string) {
	fe := service.Invalid(path, displayValue(v), rule)
	c.add(path, strings.TrimPrefix(fe.Error(), path+": "))
}

func (c *typeChecker) add(path, problem string) {
	if len(c.errs) < maxDecodeErrors {
		c.errs = append(c.errs, typeError{path, problem})
	}
}

// displayValue is a decoded JSON value as an error quotes it.
func displayValue(v any) any {
	switch v := v.(type) {
	case nil:
		return "null"
	case json.Number:
		return v // printed as written, unquoted
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return v
}

// value checks v against t, and everything under it (jsonfield.Walk).
func (c *typeChecker) value(v any, t reflect.Type, path string) {
	jsonfield.Walk(v, t, path, c.visit)
}

// visit checks one value against its type: it reports the unknown field
// or the bad value and returns Skip, or Descend into an object or list.
func (c *typeChecker) visit(v any, t reflect.Type, path string) jsonfield.Action {
	if t == nil {
		c.add(path, "unknown field")
		return jsonfield.Skip
	}
	if v == nil {
		return jsonfield.Skip // null: the zero value, as encoding/json decodes it
	}
	if k, ok := scenarioKindTypes()[t]; ok {
		// An object a Scenario document lists: Kubernetes' schema of its
		// kind says which fields it has and what they hold.
		if p := k.Check(v, path); p != nil {
			c.add(p.Field, p.Text)
		}
		return jsonfield.Skip
	}
	switch t {
	case rawMessageType:
		return jsonfield.Skip
	case durationType:
		switch v := v.(type) {
		case string:
			if _, err := ParseDuration(v); err != nil {
				c.bad(path, v, "must be a duration such as \"30s\" or \"1m30s\", or a number of seconds")
			}
		case json.Number:
			if _, err := ParseDuration(v.String()); err != nil {
				c.bad(path, v, "must be a duration such as \"30s\" or \"1m30s\", or a number of seconds")
			}
		default:
			c.bad(path, v, "must be a duration such as \"30s\" or \"1m30s\", or a number of seconds")
		}
		return jsonfield.Skip
	case intOrStringType:
		switch v := v.(type) {
		case string:
		case json.Number:
			if _, err := strconv.ParseInt(v.String(), 10, 32); err != nil {
				c.bad(path, v, "must be a 32-bit integer or a string")
			}
		default:
			c.bad(path, v, "must be an integer or a string")
		}
		return jsonfield.Skip
	case timeType:
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339, s); !ok || err != nil {
			c.bad(path, v, "must be an RFC 3339 time")
		}
		return jsonfield.Skip
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return jsonfield.Skip
	}
	if _, ok := v.(string); ok && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return jsonfield.Skip
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if _, ok := v.(map[string]any); !ok {
			c.bad(path, v, "must be an object")
			return jsonfield.Skip
		}
		return jsonfield.Descend
	case reflect.Slice:
		if _, ok := v.([]any); !ok {
			c.bad(path, v, "must be a list")
			return jsonfield.Skip
		}
		return jsonfield.Descend
	case reflect.String:
		switch v.(type) {
		case string:
		case json.Number, bool:
			if !c.lenient {
				c.bad(path, v, "must be a string")
			}
		default:
			c.bad(path, v, "must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.bad(path, v, "must be true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			c.bad(path, v, "must be an integer")
			break
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			c.bad(path, v, fmt.Sprintf("must be a %d-bit integer", t.Bits()))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			c.bad(path, v, "must be a non-negative integer")
			break
		}
		if _, err := strconv.ParseUint(n.String(), 10, t.Bits()); err != nil {
			c.bad(path, v, fmt.Sprintf("must be a non-negative %d-bit integer", t.Bits()))
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			c.bad(path, v, "must be a number")
			break
		}
		if _, err := strconv.ParseFloat(n.String(), t.Bits()); err != nil {
			c.bad(path, v, "must be a finite number")
		}
	case reflect.Interface:
	default:
		c.bad(path, v, "cannot be decoded")
	}
	return jsonfield.Skip
}
