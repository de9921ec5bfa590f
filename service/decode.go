package service

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/internal/k8sschema"
	"github.com/svcnet/svcnet/internal/yamldoc"
)

// Object is a decoded manifest: a *Service, *Pod, *Node, *Namespace or
// *EndpointSlice (or another package's kind, such as sim.Deployment).
type Object interface {
	// Meta returns the object's metadata, for reading and writing.
	Meta() *ObjectMeta
	// GroupVersionKind returns the object's apiVersion and kind.
	GroupVersionKind() (apiVersion, kind string)
}

// Meta returns the Service's metadata.
func (s *Service) Meta() *ObjectMeta { return &s.ObjectMeta }

// GroupVersionKind returns "v1", "Service".
func (s *Service) GroupVersionKind() (string, string) { return "v1", "Service" }

// Meta returns the Pod's metadata.
func (p *Pod) Meta() *ObjectMeta { return &p.ObjectMeta }

// GroupVersionKind returns "v1", "Pod".
func (p *Pod) GroupVersionKind() (string, string) { return "v1", "Pod" }

// Meta returns the Node's metadata.
func (n *Node) Meta() *ObjectMeta { return &n.ObjectMeta }

// GroupVersionKind returns "v1", "Node".
func (n *Node) GroupVersionKind() (string, string) { return "v1", "Node" }

// ErrDecode is wrapped by every DecodeError.
var ErrDecode = errors.New("service: cannot decode manifest")

// DecodeError says why one document of a manifest stream did not decode:
// which document (counting from 1), which field, and what was wrong.
type DecodeError struct {
	// Doc is the document's position in the stream, from 1.
	Doc int
	// Field is the field path (spec.ports[0].port), or "" for the whole document.
	Field string
	// Problem says what is wrong.
	Problem string
}

// Error formats as `service: document 2: spec.selecter: unknown field`.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("service: document ")
	b.WriteString(strconv.Itoa(e.Doc))
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

// Unwrap makes errors.Is(e, ErrDecode) true.
func (e *DecodeError) Unwrap() error { return ErrDecode }

// MaxDocumentBytes is how large one manifest document may be: the API
// server's default limit on a request body (k8s.io/apiserver
// pkg/server/config.go, MaxRequestBodyBytes = 3 MiB). A larger document
// is refused before it is parsed, so that a 100 MB annotation costs no
// more than its size to reject. Decoder.MaxDocumentBytes changes it.
const MaxDocumentBytes = 3 << 20

// A Decoder decodes manifests with a configurable document size limit;
// the zero Decoder is the package's Decode and DecodeAll.
type Decoder struct {
	// MaxDocumentBytes bounds each document; 0 means MaxDocumentBytes.
	MaxDocumentBytes int
}

func (d Decoder) limit() int {
	if d.MaxDocumentBytes > 0 {
		return d.MaxDocumentBytes
	}
	return MaxDocumentBytes
}

// Decode decodes one manifest (YAML or JSON) of apiVersion v1 and kind
// Service, Pod or Node. Decoding is strict: an unknown field, a duplicate
// key, a field of the wrong type, a missing or unknown apiVersion or kind
// is a *DecodeError naming the field and the value, and so is a document
// over MaxDocumentBytes. Decode does not default or validate; call
// Default and Validate for that.
func Decode(data []byte) (Object, error) { return Decoder{}.Decode(data) }

// DecodeAll decodes a stream of YAML documents separated by "---" lines
// (or one JSON document), as kubectl apply -f reads a file. Empty
// documents are skipped; a v1 List's items are expanded in order. The
// first document that fails stops decoding. Each document is bounded by
// MaxDocumentBytes.
func DecodeAll(stream []byte) ([]Object, error) { return Decoder{}.DecodeAll(stream) }

// Decode is the package's Decode with d's limit.
func (d Decoder) Decode(data []byte) (Object, error) {
	objs, err := d.decodeDoc(data, 1)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, &DecodeError{Doc: 1, Problem: fmt.Sprintf("holds %d objects, want one (use DecodeAll)", len(objs))}
	}
	return objs[0], nil
}

// DecodeAll is the package's DecodeAll with d's limit.
func (d Decoder) DecodeAll(stream []byte) ([]Object, error) {
	var out []Object
	for i, doc := range SplitYAML(stream) {
		objs, err := d.decodeDoc(doc, i+1)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// YAMLDocument is one document of a YAML stream and where it starts.
type YAMLDocument struct {
	// Line is the stream's line, from 1, the document starts on: its
	// first line that holds more than blanks and a comment.
	Line int
	// Data is the document from that line on, without the separator.
	Data []byte
}

// SplitYAML splits a YAML stream at document separators ("---" alone on
// a line, optionally followed by a comment) and drops documents that hold
// only blank lines and comments. It returns SplitYAMLDocuments' Data.
func SplitYAML(stream []byte) [][]byte {
	var docs [][]byte
	for _, d := range SplitYAMLDocuments(stream) {
		docs = append(docs, d.Data)
	}
	return docs
}

// SplitYAMLDocuments splits a YAML stream as SplitYAML does and says
// which line each document starts on. A document's leading lines of
// blanks and comments are dropped.
func SplitYAMLDocuments(stream []byte) []YAMLDocument {
	return slices.Collect(YAMLDocuments(stream))
}

// YAMLDocuments yields the documents of a YAML stream one at a time, as
// SplitYAMLDocuments lists them, so that a reader that stops early (at
// an error cap) does not split the rest.
func YAMLDocuments(stream []byte) iter.Seq[YAMLDocument] {
	return func(yield func(YAMLDocument) bool) {
		var cur []byte
		line, start := 0, 1
		flush := func() bool {
			doc := cur
			cur = nil
			return blankYAML(doc) || yield(YAMLDocument{Line: start, Data: doc})
		}
		for l := range bytes.Lines(stream) {
			line++
			t := bytes.TrimRight(l, " \t\r\n")
			if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- #")) {
				if !flush() {
					return
				}
				start = line + 1
				continue
			}
			if bytes.Equal(t, []byte("...")) {
				continue
			}
			if len(cur) == 0 && blankYAML(l) {
				start = line + 1 // the document starts at its first line that says something
				continue
			}
			cur = append(cur, l...)
		}
		flush()
	}
}

func blankYAML(doc []byte) bool {
	for line := range bytes.Lines(doc) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// kinds are the kinds Decode reads: each one's apiVersion, a
// constructor for its type, and (through k8sschema) Kubernetes' schema
// of it. A new kind of package service is one entry here plus its
// MarshalJSON/UnmarshalJSON (see MarshalCarried); kinds of other
// packages (sim's workloads) have tables of their own.
var kinds = map[string]struct {
	apiVersion string
	new        func() Object
}{
	"Service":       {"v1", func() Object { return new(Service) }},
	"Pod":           {"v1", func() Object { return new(Pod) }},
	"Node":          {"v1", func() Object { return new(Node) }},
	"Namespace":     {"v1", func() Object { return new(Namespace) }},
	"EndpointSlice": {"discovery.k8s.io/v1", func() Object { return new(EndpointSlice) }},
}

const kindList = "Service, Pod, Node, Namespace, EndpointSlice"

func (d Decoder) decodeDoc(doc []byte, n int) ([]Object, error) {
	if len(doc) > d.limit() {
		return nil, &DecodeError{Doc: n, Problem: fmt.Sprintf("%d bytes: larger than the limit of %d bytes", len(doc), d.limit())}
	}
	// Strict, as kubectl's and the API server's decoders: a key twice in
	// one mapping is an error, not "the last one wins". The document is
	// parsed once; the checks and the typed decode read that parse.
	src, err := yamldoc.Parse(doc)
	if err != nil {
		return nil, &DecodeError{Doc: n, Problem: "not YAML or JSON: " + err.Error()}
	}
	generic, err := src.JSON()
	if err != nil {
		return nil, &DecodeError{Doc: n, Problem: "not YAML or JSON: " + err.Error()}
	}
	m, ok := generic.(map[string]any)
	if !ok {
		return nil, &DecodeError{Doc: n, Problem: "not an object"}
	}
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if kind == "" {
		return nil, &DecodeError{Doc: n, Field: "kind", Problem: "required"}
	}
	if kind == "List" {
		if apiVersion != "v1" {
			return nil, &DecodeError{Doc: n, Field: "apiVersion", Problem: fmt.Sprintf("%q for kind %q: want \"v1\"", apiVersion, kind)}
		}
		return decodeList(m, n)
	}
	k, ok := kinds[kind]
	if !ok {
		return nil, &DecodeError{Doc: n, Field: "kind", Problem: fmt.Sprintf("%q is not one of %s", kind, kindList)}
	}
	if apiVersion != k.apiVersion {
		return nil, &DecodeError{Doc: n, Field: "apiVersion", Problem: fmt.Sprintf("%q for kind %q: want %q", apiVersion, kind, k.apiVersion)}
	}
	return decodeTyped(m, kind, n, "")
}

func decodeList(m map[string]any, n int) ([]Object, error) {
	// The List itself (its metadata: resourceVersion, continue, ...)
	// against metav1.List's schema; its items, each against its kind's.
	if list, ok := k8sschema.Lookup("v1", "List"); ok {
		if p := list.Check(m, ""); p != nil {
			return nil, &DecodeError{Doc: n, Field: p.Field, Problem: p.Text}
		}
	}
	items, _ := m["items"].([]any)
	var out []Object
	for i, it := range items {
		path := fmt.Sprintf("items[%d]", i)
		im, ok := it.(map[string]any)
		if !ok {
			return nil, &DecodeError{Doc: n, Field: path, Problem: "not an object"}
		}
		kind, _ := im["kind"].(string)
		k, ok := kinds[kind]
		v, _ := im["apiVersion"].(string)
		if !ok {
			return nil, &DecodeError{Doc: n, Field: path + ".kind", Problem: fmt.Sprintf("%q is not one of %s", kind, kindList)}
		}
		if v != k.apiVersion {
			return nil, &DecodeError{Doc: n, Field: path + ".apiVersion", Problem: fmt.Sprintf("%q: want %q", v, k.apiVersion)}
		}
		objs, err := decodeTyped(im, kind, n, path+".")
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// decodeTyped decodes one object of a kind Decode reads, checked
// against Kubernetes' schema of the kind (yamldoc.DecodeKind): fields
// Kubernetes defines and svcnet does not model are carried (Carried).
// Then a Pod's addresses are completed as the API server does (see
// NormalizePodIPs).
func decodeTyped(m map[string]any, kind string, n int, prefix string) ([]Object, error) {
	k := kinds[kind]
	schema, ok := k8sschema.Lookup(k.apiVersion, kind)
	if !ok {
		return nil, &DecodeError{Doc: n, Field: prefix + "kind", Problem: fmt.Sprintf("%q has no schema", kind)}
	}
	obj := k.new()
	if p := yamldoc.DecodeKind(m, schema, obj, prefix); p != nil {
		return nil, &DecodeError{Doc: n, Field: p.Field, Problem: p.Text}
	}
	if p, ok := obj.(*Pod); ok {
		if fe := NormalizePodIPs(p); fe != nil {
			return nil, &DecodeError{Doc: n, Field: prefix + fe.Path, Problem: strings.TrimPrefix(fe.Error(), fe.Path+": ")}
		}
	}
	return []Object{obj}, nil
}

// DecodeInto decodes one manifest document into obj, an object of any
// kind whose schema svcnet knows (obj.GroupVersionKind: the kinds Decode
// reads, apps/v1 Deployment, StatefulSet, DaemonSet and ReplicaSet, v1
// Namespace): the document's apiVersion and kind must be obj's, every
// field must be one Kubernetes defines for the kind, and what obj's type
// does not model is carried when the type carries (it embeds TypeMeta
// and decodes through UnmarshalCarried). It is Decode for a type of
// another package (sim.Deployment) or one the caller makes: it neither
// defaults nor validates.
func DecodeInto(data []byte, obj Object) error { return Decoder{}.DecodeInto(data, obj) }

// DecodeInto is the package's DecodeInto with d's limit.
func (d Decoder) DecodeInto(data []byte, obj Object) error {
	if len(data) > d.limit() {
		return &DecodeError{Doc: 1, Problem: fmt.Sprintf("%d bytes: larger than the limit of %d bytes", len(data), d.limit())}
	}
	src, err := yamldoc.Parse(data)
	if err != nil {
		return &DecodeError{Doc: 1, Problem: "not YAML or JSON: " + err.Error()}
	}
	generic, err := src.JSON()
	if err != nil {
		return &DecodeError{Doc: 1, Problem: "not YAML or JSON: " + err.Error()}
	}
	m, ok := generic.(map[string]any)
	if !ok {
		return &DecodeError{Doc: 1, Problem: "not an object"}
	}
	wantVersion, wantKind := obj.GroupVersionKind()
	if kind, _ := m["kind"].(string); kind != wantKind {
		return &DecodeError{Doc: 1, Field: "kind", Problem: fmt.Sprintf("%q: want %q", kind, wantKind)}
	}
	if v, _ := m["apiVersion"].(string); v != wantVersion {
		return &DecodeError{Doc: 1, Field: "apiVersion", Problem: fmt.Sprintf("%q for kind %q: want %q", v, wantKind, wantVersion)}
	}
	schema, ok := k8sschema.Lookup(wantVersion, wantKind)
	if !ok {
		return &DecodeError{Doc: 1, Field: "kind", Problem: fmt.Sprintf("%s %s: svcnet has no schema of this kind", wantVersion, wantKind)}
	}
	if p := yamldoc.DecodeKind(m, schema, obj, ""); p != nil {
		return &DecodeError{Doc: 1, Field: p.Field, Problem: p.Text}
	}
	if p, ok := obj.(*Pod); ok {
		if fe := NormalizePodIPs(p); fe != nil {
			return &DecodeError{Doc: 1, Field: fe.Path, Problem: strings.TrimPrefix(fe.Error(), fe.Path+": ")}
		}
	}
	return nil
}
