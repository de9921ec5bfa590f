package sim

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/internal/yamldoc"
	"github.com/svcnet/svcnet/service"
	"sigs.k8s.io/yaml"
)

// ImportDuration is the duration of an imported scenario: long enough
// for the periodic checks to run a few times; edit it for more.
const ImportDuration = 60 * time.Second

// The verdicts of an ImportNote, in the order the report lists them.
const (
	// NoteKept: the object is in the scenario as it was in the dump.
	NoteKept = "kept"
	// NoteChanged: the object is in the scenario with something changed,
	// said in Message.
	NoteChanged = "changed"
	// NoteConflict: a value the dump gives cannot be allocated as given
	// (taken by another object, out of the simulator's range); the
	// simulator allocates another.
	NoteConflict = "conflict"
	// NoteDiffers: what the dump holds is not what svcnet computes (an
	// EndpointSlice of the dump and the controller's for the same
	// Service).
	NoteDiffers = "differs"
	// NoteNotImported: a pod of a controller svcnet's simulator does not
	// run or the dump does not hold (a Job's, a CronJob's).
	NoteNotImported = "not yet imported"
	// NoteDropped: the object is not in the scenario, for the reason in
	// Message (a Deployment makes it, it is not Service networking, ...).
	NoteDropped = "dropped"
)

var noteOrder = []string{NoteKept, NoteChanged, NoteConflict, NoteDiffers, NoteNotImported, NoteDropped}

// ImportNote is one line of an import report: what became of one object
// of the dump, or of one field of it.
type ImportNote struct {
	// Verdict is one of the Note constants.
	Verdict string
	// Kind and Name say which object: "Service", "kube-system/kube-dns"
	// (a Node's Name has no namespace).
	Kind, Name string
	// Message says what and why, quoting values.
	Message string
}

// String formats the note as one line: `conflict  Service default/web: ...`.
func (n ImportNote) String() string {
	return fmt.Sprintf("%-16s %s %s: %s", n.Verdict, n.Kind, n.Name, n.Message)
}

// ImportReport is what Import did with every object of a dump.
type ImportReport struct {
	Notes []ImportNote
}

// Count returns how many notes have the verdict.
func (r ImportReport) Count(verdict string) int {
	n := 0
	for _, x := range r.Notes {
		if x.Verdict == verdict {
			n++
		}
	}
	return n
}

// Find returns the notes about one object, in report order.
func (r ImportReport) Find(kind, name string) []ImportNote {
	var out []ImportNote
	for _, x := range r.Notes {
		if x.Kind == kind && x.Name == name {
			out = append(out, x)
		}
	}
	return out
}

// String is the report as text: a summary line, then one line per note,
// by verdict (kept first) then kind and name.
func (r ImportReport) String() string {
	var b strings.Builder
	var counts []string
	for _, v := range noteOrder {
		if n := r.Count(v); n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, v))
		}
	}
	fmt.Fprintf(&b, "import: %s\n", strings.Join(counts, ", "))
	for _, n := range r.Notes {
		b.WriteString(n.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func (r *ImportReport) add(verdict, kind, name, format string, args ...any) {
	r.Notes = append(r.Notes, ImportNote{Verdict: verdict, Kind: kind, Name: name, Message: fmt.Sprintf(format, args...)})
}

func (r *ImportReport) sort() {
	rank := func(v string) int { return slices.Index(noteOrder, v) }
	slices.SortStableFunc(r.Notes, func(a, b ImportNote) int {
		return cmp.Or(cmp.Compare(rank(a.Verdict), rank(b.Verdict)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
}

// ImportResult is a scenario made from a cluster dump, and the report
// of how.
type ImportResult struct {
	// Scenario simulates the dumped cluster: its Nodes, Services
	// (clusterIPs and nodePorts as the dump has them), Deployments, bare
	// Pods and user-managed EndpointSlices in its lists, the cluster's
	// address ranges and zones inferred from them, no traffic.
	Scenario Scenario
	// Report says what was kept, changed, dropped, and where the dump and
	// svcnet disagree.
	Report ImportReport
}

// YAML returns the scenario as a stream `svcsim run` reads: the Scenario
// document (without its object lists), then each object as a manifest
// document with apiVersion and kind, Nodes, Services, EndpointSlices,
// Deployments, Pods, each kind sorted by namespace and name.
func (r ImportResult) YAML() ([]byte, error) {
	head := r.Scenario
	head.APIVersion, head.Kind = APIVersion, KindScenario
	head.Nodes, head.Services, head.Deployments, head.Pods, head.EndpointSlices = nil, nil, nil, nil, nil
	var out []byte
	doc := func(v any) error {
		j, err := json.Marshal(v)
		if err != nil {
			return err
		}
		y, err := yaml.JSONToYAML(j)
		if err != nil {
			return err
		}
		if len(out) > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, y...)
		return nil
	}
	if err := doc(head); err != nil {
		return nil, err
	}
	s := r.Scenario
	for _, n := range s.Nodes {
		o := n.DeepCopy()
		o.TypeMeta = service.TypeMeta{APIVersion: "v1", Kind: "Node"}
		if err := doc(o); err != nil {
			return nil, err
		}
	}
	for _, v := range s.Services {
		o := v.DeepCopy()
		o.TypeMeta = service.TypeMeta{APIVersion: "v1", Kind: "Service"}
		if err := doc(o); err != nil {
			return nil, err
		}
	}
	for _, v := range s.EndpointSlices {
		o := *v
		o.TypeMeta = service.TypeMeta{APIVersion: apiVersionDiscovery, Kind: kindEndpointSlice}
		if err := doc(&o); err != nil {
			return nil, err
		}
	}
	for _, v := range s.Deployments {
		o := *v
		o.TypeMeta = service.TypeMeta{APIVersion: apiVersionApps, Kind: kindDeployment}
		if err := doc(&o); err != nil {
			return nil, err
		}
	}
	for _, v := range s.Pods {
		o := v.DeepCopy()
		o.TypeMeta = service.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		if err := doc(o); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dumpItem is one object of a dump, as parsed.
type dumpItem struct {
	ref    docRef
	prefix string // "items[3]." in a List, else ""
	m      map[string]any
	kind   string
	ns     string
	name   string
}

func (it *dumpItem) key() string {
	if it.kind == "Node" || it.kind == "Namespace" {
		return it.name
	}
	return it.ns + "/" + it.name
}

// owner is the controller owner reference of an object, if any.
type owner struct{ kind, name string }

func controllerOf(m map[string]any) (owner, bool) {
	md, _ := m["metadata"].(map[string]any)
	refs, _ := md["ownerReferences"].([]any)
	for _, r := range refs {
		rm, _ := r.(map[string]any)
		if c, _ := rm["controller"].(bool); c {
			k, _ := rm["kind"].(string)
			n, _ := rm["name"].(string)
			return owner{k, n}, true
		}
	}
	return owner{}, false
}

// serverMetadata are the metadata fields an API server sets on create,
// and the annotations its controllers and kubectl write: a dump has
// them, a manifest to create from has not.
var (
	serverMetadata    = []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"}
	serverAnnotations = []string{"kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision"}
)

// cleanMeta removes the server-set metadata from an object's generic
// form: what the API server would ignore or refuse on create.
func cleanMeta(m map[string]any) {
	md, _ := m["metadata"].(map[string]any)
	if md == nil {
		return
	}
	for _, f := range serverMetadata {
		delete(md, f)
	}
	if an, ok := md["annotations"].(map[string]any); ok {
		for _, a := range serverAnnotations {
			delete(an, a)
		}
		if len(an) == 0 {
			delete(md, "annotations")
		}
	}
}

// Import reads a cluster dump — what `kubectl get
// svc,endpointslices,pods,nodes,deploy,sts,ds,rs -A -o yaml` writes: a v1
// List, or several documents, in one source or several — and makes a
// scenario that simulates that cluster:
//
//   - Nodes keep their names, labels (zones), addresses and spec; the
//     scenario's zones are theirs, and its nodeCIDR and podCIDR cover
//     their addresses and pod ranges. Their status but addresses and
//     nodeInfo is dropped: the simulator's nodes start Ready (a node that
//     was not, and a NoSchedule taint, which the simulator's scheduler
//     does not read, are NoteChanged).
//   - Services keep their spec as it is, clusterIPs, nodePorts and
//     healthCheckNodePort included; they are allocated as given, in dump
//     order, and a value that cannot be (two Services with one
//     ClusterIP, a nodePort taken twice) is a NoteConflict, cleared so
//     that the simulator allocates another. The cluster's serviceCIDR is
//     kube-apiserver's --service-cluster-ip-range when the dump holds its
//     static pod, else the range the ClusterIPs are in (one per family:
//     a dual-stack dump gives a dual-stack scenario, whose pods have
//     IPv4 addresses only). Their status (load balancer ingress) is
//     dropped: the simulator's pool assigns LoadBalancer IPs, from a
//     range covering the dump's.
//   - Deployments are scenario Deployments with their replicas, template
//     and strategy. ReplicaSets a Deployment owns, and the pods those own,
//     are not imported: the Deployment makes them.
//   - Pods without a controller owner are bare pods, kept on their node
//     with their first IP (podIPs filled from podIP as the API server
//     does), running and ready. Host-network pods, finished ones and
//     static (mirror) pods are dropped.
//   - StatefulSets, DaemonSets and ReplicaSets without a Deployment are
//     scenario workloads too, with their replicas, template and update
//     strategy; the pods they own are not imported (they make them). A
//     pod whose controller the dump does not hold (a Job's, say) is
//     NoteNotImported.
//   - EndpointSlices are compared with what svcnet's controller computes
//     from the dump's Services, nodes and pods: each difference is a
//     NoteDiffers. Slices another controller manages (their
//     endpointslice.kubernetes.io/managed-by label) of a Service without
//     a selector are carried as they are (Scenario.EndpointSlices); those
//     of a Service with a selector are not (the simulator computes that
//     Service's slices) and are reported.
//   - Namespaces are implicit (made with their objects); other kinds are
//     dropped.
//
// Server-set metadata (uid, resourceVersion, generation,
// creationTimestamp, managedFields, selfLink, kubectl's
// last-applied-configuration) is removed from every object. What is left
// is decoded as strictly as DecodeScenario decodes, and its errors are
// *DecodeErrors naming the source, the item, its line and the field.
//
// The result is deterministic: the same dump gives the same scenario
// and report.
func Import(srcs ...ScenarioSource) (ImportResult, error) {
	d := &decoder{seen: map[objectKey]docRef{}}
	var items []*dumpItem
	for _, src := range srcs {
		i := -1
		for doc := range service.YAMLDocuments(src.Data) {
			i++
			ref := docRef{file: src.Name, doc: i + 1, line: doc.Line, src: doc.Data}
			if len(doc.Data) > service.MaxDocumentBytes {
				d.fail(ref, "", "", "", fmt.Sprintf("%d bytes: larger than the limit of %d bytes", len(doc.Data), service.MaxDocumentBytes), nil)
				continue
			}
			items = append(items, d.dumpDocument(ref, doc.Data)...)
		}
	}
	if len(d.errs) > 0 {
		return ImportResult{}, errors.Join(d.errs...)
	}
	im := importer{d: d, items: items}
	return im.run()
}

// dumpDocument parses one document of a dump into its objects.
func (d *decoder) dumpDocument(ref docRef, doc []byte) []*dumpItem {
	src, err := yamldoc.Parse(doc)
	if err != nil {
		d.fail(ref, "", "", "", "not YAML or JSON: "+err.Error(), nil)
		return nil
	}
	generic, err := src.JSON()
	if err != nil {
		d.fail(ref, "", "", "", "not YAML or JSON: "+err.Error(), nil)
		return nil
	}
	m, ok := generic.(map[string]any)
	if !ok {
		d.fail(ref, "", "", "", fmt.Sprintf("a %s, want an object with apiVersion and kind", jsonKind(generic)), nil)
		return nil
	}
	if k, _ := m["kind"].(string); k != "List" && !strings.HasSuffix(k, "List") {
		return d.dumpItem(ref, m, "")
	}
	raw, ok := m["items"].([]any)
	if !ok && m["items"] != nil {
		d.fail(ref, "List", "", "items", fmt.Sprintf("a %s, want a list", jsonKind(m["items"])), nil)
		return nil
	}
	var out []*dumpItem
	for i, it := range raw {
		path := fmt.Sprintf("items[%d]", i)
		im, ok := it.(map[string]any)
		if !ok {
			d.fail(ref, "List", "", path, fmt.Sprintf("a %s, want an object", jsonKind(it)), nil)
			continue
		}
		out = append(out, d.dumpItem(ref, im, path+".")...)
	}
	return out
}

func (d *decoder) dumpItem(ref docRef, m map[string]any, prefix string) []*dumpItem {
	kind, _ := m["kind"].(string)
	if kind == "" {
		d.fail(ref, "", "", prefix+"kind", "required value", nil)
		return nil
	}
	md, _ := m["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	if ns == "" {
		ns = "default"
	}
	return []*dumpItem{{ref: ref, prefix: prefix, m: m, kind: kind, ns: ns, name: name}}
}

// importer holds one Import's state.
type importer struct {
	d     *decoder
	items []*dumpItem
	rep   ImportReport
	// deployOf maps a ReplicaSet (namespace/name) to the Deployment that
	// controls it.
	deployOf map[string]string
	// workloads holds the StatefulSets, DaemonSets and ReplicaSets
	// without a Deployment the dump lists, as "kind namespace/name": the
	// scenario runs them, so their pods are theirs to make.
	workloads map[string]bool
	// allPods are every pod of the dump, decoded leniently, for the
	// EndpointSlice comparison (those the scenario does not carry too).
	allPods []*service.Pod
	slices  []*dumpItem
	// ingress are the IPv4 load balancer ingress addresses of the dump's
	// Services.
	ingress []netip.Addr
	// serviceRange is kube-apiserver's --service-cluster-ip-range, when
	// the dump holds its (static) pod.
	serviceRange string
}

func (im *importer) run() (ImportResult, error) {
	im.deployOf = map[string]string{}
	im.workloads = map[string]bool{}
	for _, it := range im.items {
		switch it.kind {
		case kindReplicaSet:
			if o, ok := controllerOf(it.m); ok && o.kind == kindDeployment {
				im.deployOf[it.key()] = it.ns + "/" + o.name
				continue
			}
			im.workloads[it.kind+" "+it.key()] = true
		case kindStatefulSet, kindDaemonSet:
			im.workloads[it.kind+" "+it.key()] = true
		}
	}
	for _, it := range im.items {
		im.item(it)
	}
	if len(im.d.errs) > 0 {
		return ImportResult{}, errors.Join(im.d.errs...)
	}
	s := &im.d.s
	s.APIVersion, s.Kind = APIVersion, KindScenario
	s.Seed = 1
	s.Duration = Duration(ImportDuration)
	if len(im.items) > 0 {
		name := im.items[0].ref.file
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		s.Metadata.Description = "Imported by svcsim import."
		if name != "" {
			s.Metadata.Description = "Imported by svcsim import from " + name + "."
		}
	}
	s.Metadata.Name = "imported-cluster"
	im.cluster(s)
	if len(s.Nodes) == 0 {
		// Pods and Deployments need nodes to run on.
		s.Cluster.Nodes = 3
		im.rep.add(NoteChanged, "Scenario", "cluster.nodes", "the dump has no Node: the scenario generates 3 (node-0, node-1, node-2)")
	}
	if err := im.allocate(s); err != nil {
		return ImportResult{}, err
	}
	sortObjects(s)
	im.rep.sort()
	return ImportResult{Scenario: *s, Report: im.rep}, nil
}

// item sorts one dump object into the scenario or the report.
func (im *importer) item(it *dumpItem) {
	key := it.key()
	switch it.kind {
	case "Node", "Service", kindDeployment, kindStatefulSet, kindDaemonSet, kindReplicaSet:
		if dep, ok := im.deployOf[key]; ok && it.kind == kindReplicaSet {
			im.rep.add(NoteDropped, it.kind, key, "made by Deployment %s, which the scenario runs", dep)
			return
		}
		cleanMeta(it.m)
		switch it.kind {
		case "Node":
			if spec, ok := it.m["spec"].(map[string]any); ok {
				taints, _ := spec["taints"].([]any)
				for _, t := range taints {
					tm, _ := t.(map[string]any)
					if e, _ := tm["effect"].(string); e == "NoSchedule" || e == "NoExecute" {
						k, _ := tm["key"].(string)
						im.rep.add(NoteChanged, it.kind, key, "taint %s:%s is carried, not simulated: the simulator's scheduler places pods on the node", k, e)
					}
				}
			}
			if c := condition(it.m, "Ready"); c != "True" {
				im.rep.add(NoteChanged, it.kind, key, "Ready %s in the dump: the simulator's nodes start Ready (a killNode event at 0s takes it down)", orNone(c))
			}
			if st, ok := it.m["status"].(map[string]any); ok {
				for k := range st {
					if k != "addresses" && k != "nodeInfo" {
						delete(st, k)
					}
				}
			}
		case "Service":
			if st, ok := it.m["status"].(map[string]any); ok {
				if lb, ok := st["loadBalancer"].(map[string]any); ok {
					if ing, ok := lb["ingress"].([]any); ok && len(ing) > 0 {
						var ips []string
						for _, x := range ing {
							xm, _ := x.(map[string]any)
							if ip, _ := xm["ip"].(string); ip != "" {
								ips = append(ips, ip)
								if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
									im.ingress = append(im.ingress, a)
								}
							} else if h, _ := xm["hostname"].(string); h != "" {
								ips = append(ips, h)
							}
						}
						im.rep.add(NoteChanged, it.kind, key, "status.loadBalancer.ingress %s dropped: the simulator's pool assigns LoadBalancer IPs (cluster.loadBalancerRange covers the dump's)", strings.Join(ips, ","))
					}
				}
				delete(it.m, "status")
			}
		case kindDeployment, kindStatefulSet, kindDaemonSet, kindReplicaSet:
			delete(it.m, "status") // the simulator's controllers compute it
			if spec, ok := it.m["spec"].(map[string]any); ok {
				if tpl, ok := spec["template"].(map[string]any); ok {
					if tmd, ok := tpl["metadata"].(map[string]any); ok {
						// kubectl writes a template's creationTimestamp: null.
						delete(tmd, "creationTimestamp")
					}
				}
			}
		}
		im.decode(it)
	case "Pod":
		im.pod(it)
	case kindEndpointSlice:
		im.slices = append(im.slices, it)
	case "Namespace":
		im.rep.add(NoteDropped, it.kind, key, "namespaces are implicit in svcnet: made with their objects")
	default:
		im.rep.add(NoteDropped, it.kind, key, "not a kind svcnet simulates (Services, EndpointSlices, Pods, Nodes, Deployments)")
	}
}

// decode decodes a cleaned object strictly, as DecodeScenario would,
// into the scenario's lists; its errors name the dump's source and item.
func (im *importer) decode(it *dumpItem) {
	j, err := json.Marshal(it.m)
	if err != nil {
		im.d.fail(it.ref, it.kind, it.key(), strings.TrimSuffix(it.prefix, "."), err.Error(), err)
		return
	}
	src, err := yamldoc.Parse(j)
	if err != nil {
		im.d.fail(it.ref, it.kind, it.key(), strings.TrimSuffix(it.prefix, "."), err.Error(), err)
		return
	}
	generic, _ := src.JSON()
	m, _ := generic.(map[string]any)
	count := func() int {
		s := &im.d.s
		return len(s.Services) + len(s.Pods) + len(s.Nodes) + len(s.Deployments) + len(s.StatefulSets) + len(s.DaemonSets) + len(s.ReplicaSets)
	}
	n := count()
	im.d.object(it.ref, m, src, it.prefix)
	if count() > n {
		msg := "as in the dump"
		switch it.kind {
		case kindDeployment:
			dep := im.d.s.Deployments[len(im.d.s.Deployments)-1]
			msg = fmt.Sprintf("%d replicas from its pod template", dep.ReplicaCount())
		case kindStatefulSet:
			o := im.d.s.StatefulSets[len(im.d.s.StatefulSets)-1]
			msg = fmt.Sprintf("%d replicas %s-0… under Service %s, from its pod template", o.ReplicaCount(), o.Name, orNone(o.Spec.ServiceName))
		case kindDaemonSet:
			msg = "a pod on every node it selects, from its pod template"
		case kindReplicaSet:
			o := im.d.s.ReplicaSets[len(im.d.s.ReplicaSets)-1]
			msg = fmt.Sprintf("%d replicas from its pod template", o.ReplicaCount())
		case "Pod":
			p := im.d.s.Pods[len(im.d.s.Pods)-1]
			msg = fmt.Sprintf("a bare pod on node %s, IP %s", orNone(p.Spec.NodeName), orNone(p.Status.PodIP))
		case "Node":
			nd := im.d.s.Nodes[len(im.d.s.Nodes)-1]
			msg = fmt.Sprintf("zone %s, addresses %s", orNone(nd.Zone()), addrList(nd))
		case "Service":
			return // allocate reports it
		}
		im.rep.add(NoteKept, it.kind, it.key(), "%s", msg)
	}
}

// condition returns the status of an object's condition of the type
// ("True", "False", "Unknown"), or "" when it has none.
func condition(m map[string]any, typ string) string {
	st, _ := m["status"].(map[string]any)
	cs, _ := st["conditions"].([]any)
	for _, c := range cs {
		cm, _ := c.(map[string]any)
		if t, _ := cm["type"].(string); t == typ {
			s, _ := cm["status"].(string)
			return s
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func addrList(n *service.Node) string {
	var out []string
	for _, a := range n.Status.Addresses {
		out = append(out, a.Type+"="+a.Address)
	}
	return orNone(strings.Join(out, ","))
}

// pod sorts a pod: a controller's are not imported (the Deployment makes
// them, or the controller is not simulated yet); a bare pod is.
func (im *importer) pod(it *dumpItem) {
	key := it.key()
	// Every pod counts in the comparison of slices, decoded leniently.
	if j, err := json.Marshal(it.m); err == nil {
		var p service.Pod
		if json.Unmarshal(j, &p) == nil {
			if p.Namespace == "" {
				p.Namespace = "default"
			}
			im.allPods = append(im.allPods, &p)
		}
	}
	if o, ok := controllerOf(it.m); ok {
		switch {
		case o.kind == "ReplicaSet" && im.deployOf[it.ns+"/"+o.name] != "":
			im.rep.add(NoteDropped, "Pod", key, "made by Deployment %s (through ReplicaSet %s): the scenario's Deployment makes its pods", im.deployOf[it.ns+"/"+o.name], o.name)
		case o.kind == "Node":
			im.rep.add(NoteDropped, "Pod", key, "a static (mirror) pod of node %s: the kubelet runs it, not the API", o.name)
			if r := apiserverFlag(it.m, "--service-cluster-ip-range="); r != "" {
				im.serviceRange = r
			}
		case im.workloads[o.kind+" "+it.ns+"/"+o.name]:
			im.rep.add(NoteDropped, "Pod", key, "made by %s %s/%s, which the scenario runs", o.kind, it.ns, o.name)
		default:
			im.rep.add(NoteNotImported, "Pod", key, "owned by %s %s, which the dump does not hold or svcnet does not simulate", o.kind, o.name)
		}
		return
	}
	spec, _ := it.m["spec"].(map[string]any)
	if hn, _ := spec["hostNetwork"].(bool); hn {
		im.rep.add(NoteDropped, "Pod", key, "a host-network pod: the simulator gives every pod an IP of its own")
		return
	}
	st, _ := it.m["status"].(map[string]any)
	switch phase, _ := st["phase"].(string); phase {
	case "Succeeded", "Failed":
		im.rep.add(NoteDropped, "Pod", key, "phase %s: a finished pod is no endpoint", phase)
		return
	}
	if c := condition(it.m, "Ready"); c != "True" {
		im.rep.add(NoteChanged, "Pod", key, "Ready %s in the dump: the simulator runs a bare pod running and ready", orNone(c))
	}
	cleanMeta(it.m)
	// The simulator runs a bare pod ready on its node: its status but
	// its IPs is the simulator's.
	if st != nil {
		for k := range st {
			if k != "podIP" && k != "podIPs" {
				delete(st, k)
			}
		}
		if ip, ok := st["podIP"].(string); ok && ip != "" && st["podIPs"] == nil {
			// The API server fills podIPs from podIP when only podIP is
			// given (pkg/apis/core/v1/conversion.go,
			// Convert_v1_PodStatus_To_core_PodStatus).
			st["podIPs"] = []any{map[string]any{"ip": ip}}
		}
		if ips, ok := st["podIPs"].([]any); ok && len(ips) > 1 {
			// One IPv4 address per pod in the simulator.
			im.rep.add(NoteChanged, "Pod", key, "status.podIPs: only the first, %v, is kept (the simulator gives pods one address)", ips[0])
			st["podIPs"] = ips[:1]
		}
	}
	if md, ok := it.m["metadata"].(map[string]any); ok {
		delete(md, "ownerReferences")
	}
	im.decode(it)
}

// sortObjects puts each kind in namespace and name order.
func sortObjects(s *Scenario) {
	byKey := func(a, b service.NamespacedName) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	}
	slices.SortStableFunc(s.Nodes, func(a, b *service.Node) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortStableFunc(s.Services, func(a, b *service.Service) int { return byKey(a.Key(), b.Key()) })
	slices.SortStableFunc(s.Deployments, func(a, b *Deployment) int { return byKey(a.Key(), b.Key()) })
	slices.SortStableFunc(s.Pods, func(a, b *service.Pod) int { return byKey(a.Key(), b.Key()) })
	slices.SortStableFunc(s.EndpointSlices, func(a, b *endpoints.Slice) int { return byKey(a.Key(), b.Key()) })
}

// cluster infers the scenario's cluster: its zones and address ranges,
// from the nodes, Services and pods.
func (im *importer) cluster(s *Scenario) {
	c := &s.Cluster
	zones := map[string]bool{}
	var nodeIPs, podNets []netip.Addr
	for _, n := range s.Nodes {
		if z := n.Zone(); z != "" {
			zones[z] = true
		}
		for _, a := range n.Addrs() {
			if a.Is4() {
				nodeIPs = append(nodeIPs, a)
			}
		}
		cidrs := n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		for _, p := range cidrs {
			if pp, err := netip.ParsePrefix(p); err == nil && pp.Addr().Is4() {
				podNets = append(podNets, pp.Addr())
			}
		}
	}
	for z := range zones {
		c.Zones = append(c.Zones, z)
	}
	slices.Sort(c.Zones)
	count := len(s.Nodes)
	if len(nodeIPs) > 0 {
		p := cover(nodeIPs, 24)
		for p.Bits() > 0 && 1<<(32-p.Bits())-2 < count {
			p = netip.PrefixFrom(p.Addr(), p.Bits()-1).Masked()
		}
		c.NodeCIDR = p.String()
	}
	if len(podNets) > 0 && len(podNets) == count {
		p := cover(podNets, 24)
		for p.Bits() > 0 && 1<<(24-p.Bits()) < count {
			p = netip.PrefixFrom(p.Addr(), p.Bits()-1).Masked()
		}
		c.PodCIDR = p.String()
	}
	var v4, v6 []netip.Addr
	primary6 := false
	for _, svc := range s.Services {
		for i, ip := range svc.Spec.ClusterIPs {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				continue
			}
			if a.Is4() {
				v4 = append(v4, a)
			} else {
				v6 = append(v6, a)
			}
			if i == 0 && svc.Namespace == "default" && svc.Name == "kubernetes" {
				primary6 = !a.Is4()
			}
		}
	}
	if r := im.serviceRange; r != "" && rangeHolds(r, append(v4, v6...)) {
		// The API server's own flag: the range as the cluster has it.
		c.ServiceCIDR = r
		v4, v6 = nil, nil
		im.rep.add(NoteKept, "Pod", "kube-system/kube-apiserver", "its --service-cluster-ip-range=%s is the scenario's cluster.serviceCIDR", r)
	}
	def := netip.MustParsePrefix("10.96.0.0/12")
	var cidrs []string
	if len(v4) > 0 {
		p := cover(v4, 24)
		if !slices.ContainsFunc(v4, func(a netip.Addr) bool { return !def.Contains(a) }) {
			p = def
		}
		cidrs = append(cidrs, p.String())
	}
	if len(v6) > 0 {
		p := cover(v6, 112)
		if primary6 || len(v4) == 0 {
			cidrs = append([]string{p.String()}, cidrs...)
		} else {
			cidrs = append(cidrs, p.String())
		}
	}
	if len(cidrs) > 0 && (len(cidrs) > 1 || cidrs[0] != def.String()) {
		c.ServiceCIDR = strings.Join(cidrs, ",")
	}
	if pool := netip.MustParsePrefix("198.51.100.0/24"); slices.ContainsFunc(im.ingress, func(a netip.Addr) bool { return !pool.Contains(a) }) {
		c.LoadBalancerRange = lbRange(im.ingress)
	}
}

// apiserverFlag returns the value of a kube-apiserver flag (prefix
// "--name=") in a pod's containers' command and args, or "".
func apiserverFlag(m map[string]any, prefix string) string {
	spec, _ := m["spec"].(map[string]any)
	cs, _ := spec["containers"].([]any)
	for _, c := range cs {
		cm, _ := c.(map[string]any)
		for _, f := range []string{"command", "args"} {
			l, _ := cm[f].([]any)
			for _, a := range l {
				if s, _ := a.(string); strings.HasPrefix(s, prefix) {
					return strings.TrimPrefix(s, prefix)
				}
			}
		}
	}
	return ""
}

// rangeHolds reports whether r, one CIDR or two separated by a comma,
// parses and holds every address.
func rangeHolds(r string, addrs []netip.Addr) bool {
	var ps []netip.Prefix
	for part := range strings.SplitSeq(r, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(part))
		if err != nil {
			return false
		}
		ps = append(ps, p)
	}
	for _, a := range addrs {
		if !slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) }) {
			return false
		}
	}
	return true
}

// cover returns the longest prefix (at most maxBits long) holding every
// address of addrs, all of one family.
func cover(addrs []netip.Addr, maxBits int) netip.Prefix {
	first := addrs[0]
	bitsN := min(first.BitLen(), maxBits)
	for _, a := range addrs[1:] {
		x, y := first.As16(), a.As16()
		common := 0
		for i := range 16 {
			if d := x[i] ^ y[i]; d != 0 {
				common += bits.LeadingZeros8(d)
				break
			}
			common += 8
		}
		if first.Is4() {
			common -= 96
		}
		bitsN = min(bitsN, common)
	}
	return netip.PrefixFrom(first, bitsN).Masked()
}

// lbRange is a range of LoadBalancer IPs holding the dump's IPv4 ingress
// addresses, or "" for the default.
func lbRange(ips []netip.Addr) string {
	if len(ips) == 0 {
		return ""
	}
	return cover(ips, 24).String()
}

// allocate creates the Services in a cluster built from the inferred
// ranges, in dump order, to find the values that cannot be allocated as
// given; clears them (a conflict), and compares the dump's
// EndpointSlices with the ones that cluster's controller computes.
func (im *importer) allocate(s *Scenario) error {
	cfg, err := check(Scenario{Duration: s.Duration, Cluster: s.Cluster, Nodes: s.Nodes})
	if err != nil {
		return err
	}
	c, err := svcnet.NewCluster(svcnet.Config{ServiceCIDRs: cfg.serviceNets, PodCIDRs: []netip.Prefix{cfg.podNet},
		NodeCIDRs: []netip.Prefix{cfg.nodeNet}, ImmediateSync: true, ExternalIPs: service.AllowAllExternalIPs()})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidScenario, err)
	}
	for _, n := range s.Nodes {
		if _, err := c.AddNode(n); err != nil {
			return fmt.Errorf("%w: node %s: %w", ErrInvalidScenario, n.Name, err)
		}
	}
	for _, svc := range s.Services {
		key := svc.Key().String()
		_, err := c.CreateService(svc)
		var ve *service.ValidationError
		if err != nil && errors.As(err, &ve) {
			var cleared []string
			for _, fe := range ve.Errors {
				if what := clearAllocated(svc, fe.Path); what != "" {
					im.rep.add(NoteConflict, "Service", key, "%s %s: %s; cleared, the simulator allocates another", fe.Path, what, strings.TrimPrefix(fe.Error(), fe.Path+": "))
					cleared = append(cleared, fe.Path)
				}
			}
			if len(cleared) > 0 {
				_, err = c.CreateService(svc)
			}
		}
		if err != nil {
			return fmt.Errorf("%w: Service %s: %w", ErrInvalidScenario, key, err)
		}
		im.rep.add(NoteKept, "Service", key, "%s", serviceSummary(svc))
		for _, ip := range svc.Spec.ClusterIPs {
			if a, err := netip.ParseAddr(ip); err == nil && a.Is6() {
				im.rep.add(NoteChanged, "Service", key, "clusterIP %s: the simulator's pods have one IPv4 address, so the Service's IPv6 family has no endpoints", ip)
			}
		}
		if key == "kube-system/kube-dns" {
			// The kubelet's --cluster-dns in the simulator is the tenth
			// address of the first Service range, as kubeadm sets it.
			dns := cfg.serviceNets[0].Masked().Addr()
			for range 10 {
				dns = dns.Next()
			}
			if svc.Spec.ClusterIP != dns.String() {
				im.rep.add(NoteDiffers, "Service", key, "clusterIP %s: the simulator's pods resolve through %s, the tenth address of cluster.serviceCIDR (kubeadm's --cluster-dns)", orNone(svc.Spec.ClusterIP), dns)
			}
		}
	}
	for _, p := range im.allPods {
		_, _ = c.ApplyPod(p) // a pod the controller cannot place is no endpoint either
	}
	im.compareSlices(c, s)
	return nil
}

// clearAllocated clears the allocated value at path (a clusterIP, a
// nodePort, the healthCheckNodePort) and returns it, or "" when path is
// no allocated value.
func clearAllocated(svc *service.Service, path string) string {
	sp := &svc.Spec
	var i int
	switch {
	case path == "spec.clusterIP" || strings.HasPrefix(path, "spec.clusterIPs["):
		v := strings.Join(sp.ClusterIPs, ",")
		if v == "" {
			v = sp.ClusterIP
		}
		sp.ClusterIP, sp.ClusterIPs = "", nil
		return v
	case path == "spec.healthCheckNodePort":
		v := sp.HealthCheckNodePort
		sp.HealthCheckNodePort = 0
		return fmt.Sprint(v)
	default:
		if n, _ := fmt.Sscanf(path, "spec.ports[%d].nodePort", &i); n == 1 && i < len(sp.Ports) {
			v := sp.Ports[i].NodePort
			sp.Ports[i].NodePort = 0
			return fmt.Sprint(v)
		}
	}
	return ""
}

// serviceSummary says what a kept Service holds: its type and allocated
// values.
func serviceSummary(svc *service.Service) string {
	sp := svc.Spec
	typ := string(sp.Type)
	if typ == "" {
		typ = "ClusterIP"
	}
	parts := []string{typ}
	if len(sp.ClusterIPs) > 0 {
		parts = append(parts, "clusterIPs "+strings.Join(sp.ClusterIPs, ","))
	} else if sp.ClusterIP != "" {
		parts = append(parts, "clusterIP "+sp.ClusterIP)
	}
	var nps []string
	for _, p := range sp.Ports {
		if p.NodePort != 0 {
			nps = append(nps, fmt.Sprint(p.NodePort))
		}
	}
	if len(nps) > 0 {
		parts = append(parts, "nodePorts "+strings.Join(nps, ","))
	}
	if sp.HealthCheckNodePort != 0 {
		parts = append(parts, fmt.Sprintf("healthCheckNodePort %d", sp.HealthCheckNodePort))
	}
	if sp.ExternalTrafficPolicy != "" && sp.ExternalTrafficPolicy != service.TrafficPolicyCluster {
		parts = append(parts, "externalTrafficPolicy "+string(sp.ExternalTrafficPolicy))
	}
	if sp.Selector == nil && sp.Type != service.ServiceTypeExternalName {
		parts = append(parts, "no selector")
	}
	return strings.Join(parts, ", ")
}

// compareSlices carries the user-managed slices of Services without a
// selector into the scenario, and compares the dump's controller-managed
// slices with those c's controller computed, endpoint by endpoint.
func (im *importer) compareSlices(c *svcnet.Cluster, s *Scenario) {
	svcs := map[string]*service.Service{}
	for _, svc := range s.Services {
		svcs[svc.Key().String()] = svc
	}
	dumped := map[string][]*endpoints.Slice{}
	for _, it := range im.slices {
		key := it.key()
		cleanMeta(it.m)
		svcnet.DefaultSliceManifest(it.m)
		var sl endpoints.Slice
		j, err := json.Marshal(it.m)
		if err == nil {
			err = json.Unmarshal(j, &sl)
		}
		if err != nil {
			im.rep.add(NoteDropped, kindEndpointSlice, key, "does not decode as discovery.k8s.io/v1: %v", err)
			continue
		}
		sl.Namespace = it.ns
		svcName := sl.ServiceName()
		managedBy := sl.Labels[endpoints.LabelManagedBy]
		svcKey := it.ns + "/" + svcName
		svc := svcs[svcKey]
		switch {
		case svcName == "":
			im.rep.add(NoteDropped, kindEndpointSlice, key, "no %s label: kube-proxy and CoreDNS ignore it", endpoints.LabelServiceName)
		case svc == nil:
			im.rep.add(NoteDropped, kindEndpointSlice, key, "its Service %s is not imported", svcKey)
		case sl.AddressType != endpoints.AddressTypeIPv4 && sl.AddressType != endpoints.AddressTypeIPv6:
			im.rep.add(NoteDropped, kindEndpointSlice, key, "addressType %q: kube-proxy ignores it", sl.AddressType)
		case managedBy == endpoints.DefaultManagedBy && svc.Spec.Selector == nil:
			im.rep.add(NoteDiffers, kindEndpointSlice, key, "managed by %s, but Service %s has no selector: that controller writes no slice for it; not carried", managedBy, svcKey)
		case managedBy == endpoints.DefaultManagedBy:
			dumped[svcKey] = append(dumped[svcKey], &sl)
		case svc.Spec.Selector != nil:
			im.rep.add(NoteDiffers, kindEndpointSlice, key, "managed by %q, not by %s; not carried: the simulator computes Service %s's slices from its selector", managedBy, endpoints.DefaultManagedBy, svcKey)
		default:
			sl.TypeMeta = service.TypeMeta{}
			if err := svcnet.ValidateEndpointSlice(&sl); err != nil {
				im.rep.add(NoteDropped, kindEndpointSlice, key, "%v", err)
				continue
			}
			by := managedBy
			if by == "" {
				by = "no " + endpoints.LabelManagedBy + " label"
			} else {
				by = "managed by " + strconv.Quote(by)
			}
			im.rep.add(NoteKept, kindEndpointSlice, key, "user-managed (%s) slice of %s, which has no selector: carried as it is, %d endpoints", by, svcKey, len(sl.Endpoints))
			s.EndpointSlices = append(s.EndpointSlices, &sl)
		}
	}
	if len(im.slices) == 0 {
		return // the dump has no slices: nothing to compare
	}
	keys := make([]string, 0, len(svcs))
	for k := range svcs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		svc := svcs[k]
		if svc.Spec.Selector == nil || svc.Spec.Type == service.ServiceTypeExternalName {
			continue
		}
		want, wantPorts := sliceContent(c.Slices(svc.Key()))
		got, gotPorts := sliceContent(dumped[k])
		if len(dumped[k]) == 0 {
			im.rep.add(NoteDiffers, "Service", k, "the dump has no EndpointSlice of it managed by %s; svcnet computes %d endpoints", endpoints.DefaultManagedBy, len(want))
			continue
		}
		if !slices.Equal(want, got) {
			im.rep.add(NoteDiffers, "Service", k, "its EndpointSlices in the dump hold %d endpoints, svcnet computes %d; only in the dump: %s; only svcnet's: %s",
				len(got), len(want), firstOf(minus(got, want)), firstOf(minus(want, got)))
		}
		if !slices.Equal(wantPorts, gotPorts) {
			im.rep.add(NoteDiffers, "Service", k, "its EndpointSlices' ports in the dump are %s, svcnet computes %s", firstOf(gotPorts), firstOf(wantPorts))
		}
	}
}

// sliceContent returns the endpoints and ports of a Service's slices, as
// sorted sets of strings: what the slices say, whatever their names and
// packing.
func sliceContent(sls []*endpoints.Slice) (eps, ports []string) {
	for _, sl := range sls {
		for _, e := range sl.Endpoints {
			eps = append(eps, fmt.Sprintf("%s ready=%t serving=%t terminating=%t node=%s zone=%s",
				e.Address(), e.Conditions.Ready, e.Conditions.Serving, e.Conditions.Terminating, orNone(e.NodeName), orNone(e.Zone)))
		}
		for _, p := range sl.Ports {
			ports = append(ports, fmt.Sprintf("%s/%s:%d", p.Name, p.Protocol, p.Port))
		}
	}
	slices.Sort(eps)
	slices.Sort(ports)
	return eps, slices.Compact(ports)
}

// minus returns the elements of a (sorted) not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

// firstOf lists up to three elements, then how many more.
func firstOf(l []string) string {
	switch {
	case len(l) == 0:
		return "none"
	case len(l) > 3:
		return "[" + strings.Join(l[:3], "; ") + fmt.Sprintf("] and %d more", len(l)-3)
	}
	return "[" + strings.Join(l, "; ") + "]"
}
