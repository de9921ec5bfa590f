package sim

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
	"sigs.k8s.io/yaml"
)

const dumpPath = "../examples/cluster-dump/dump.yaml"

// decodeErrors returns the DecodeErrors joined in err.
func decodeErrors(err error) []*DecodeError {
	var out []*DecodeError
	var walk func(error)
	walk = func(e error) {
		if de, ok := e.(*DecodeError); ok {
			out = append(out, de)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

var pathSeg = regexp.MustCompile(`^([^\[]+)((?:\[\d+\])*)$`)

// removeField deletes the field at a decoder's path
// (items[3].spec.containers[0].stdin) from a generic document.
func removeField(t *testing.T, doc any, path string) {
	t.Helper()
	segs := strings.Split(path, ".")
	cur := doc
	for i, s := range segs {
		m := pathSeg.FindStringSubmatch(s)
		require.NotNil(t, m, "path %q", path)
		obj, ok := cur.(map[string]any)
		require.True(t, ok, "path %q at %q", path, s)
		if i == len(segs)-1 && m[2] == "" {
			delete(obj, m[1])
			return
		}
		cur = obj[m[1]]
		for _, idx := range regexp.MustCompile(`\d+`).FindAllString(m[2], -1) {
			n, _ := strconv.Atoi(idx)
			cur = cur.([]any)[n]
		}
	}
}

// decodableSubset is the dump without the fields that the decoder of
// this branch does not know yet (container terminationMessagePath, pod
// enableServiceLinks, ...: Kubernetes fields that the `decode` branch
// makes svcnet carry), found by importing and removing what the errors
// name, until the import decodes. It returns the subset and the fields
// removed; any other error fails the test.
func decodableSubset(t *testing.T, data []byte) ([]byte, []string) {
	t.Helper()
	var doc any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	var removed []string
	for range 100 {
		b, err := json.Marshal(doc)
		require.NoError(t, err)
		_, err = Import(ScenarioSource{Name: "dump.yaml", Data: b})
		if err == nil {
			return b, removed
		}
		des := decodeErrors(err)
		require.NotEmpty(t, des, "%v", err)
		for _, de := range des {
			if de.Problem == "too many errors" {
				continue
			}
			require.Equal(t, "unknown field", de.Problem, "only unknown fields may stop the import: %v", de)
			removeField(t, doc, de.Field)
			removed = append(removed, de.Field)
		}
	}
	t.Fatal("the dump did not become decodable")
	return nil, nil
}

// TestImportDumpLossless imports the shipped dump as it is. It needs
// lossless decoding of Kubernetes' fields (branch `decode`); until then
// the only errors are unknown Kubernetes fields, and it skips saying so.
func TestImportDumpLossless(t *testing.T) {
	data, err := os.ReadFile(dumpPath)
	require.NoError(t, err)
	res, err := Import(ScenarioSource{Name: "dump.yaml", Data: data})
	if err != nil {
		des := decodeErrors(err)
		require.NotEmpty(t, des, "%v", err)
		for _, de := range des {
			require.Contains(t, []string{"unknown field", "too many errors"}, de.Problem, "%v", de)
		}
		t.Skipf("needs lossless decoding of Kubernetes fields (branch decode): %d unknown fields, the first %v", len(des), des[0])
	}
	y, err := res.YAML()
	require.NoError(t, err)
	s, err := DecodeScenario(y)
	require.NoError(t, err)
	s.Duration = Duration(20e9)
	s.Traffic = []TrafficSpec{{Service: "shop/frontend", Rate: 20}, {Service: "shop/checkout", From: FromExternal, Rate: 10}}
	r, err := Run(s)
	require.NoError(t, err)
	for _, f := range r.Flows {
		require.Positive(t, f.Connections.Served, f.Name)
	}
}

// dumpItems reads the dump's items as generic objects, by kind, for the
// tests to compare the import with the dump itself.
func dumpItems(t *testing.T, data []byte) map[string][]map[string]any {
	t.Helper()
	var l struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, yaml.Unmarshal(data, &l))
	out := map[string][]map[string]any{}
	for _, it := range l.Items {
		out[it["kind"].(string)] = append(out[it["kind"].(string)], it)
	}
	return out
}

func field(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func itemKey(m map[string]any) string {
	ns, _ := field(m, "metadata", "namespace").(string)
	name, _ := field(m, "metadata", "name").(string)
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// importDump imports the shipped dump (its decodable subset until the
// decode branch is merged).
func importDump(t *testing.T) (ImportResult, map[string][]map[string]any) {
	t.Helper()
	data, err := os.ReadFile(dumpPath)
	require.NoError(t, err)
	sub, removed := decodableSubset(t, data)
	for _, f := range removed {
		require.NotContains(t, f, "metadata", "server-set metadata is Import's to drop, not the decoder's")
	}
	res, err := Import(ScenarioSource{Name: "dump.yaml", Data: sub})
	require.NoError(t, err)
	return res, dumpItems(t, data)
}

// TestImportDump checks the import of the shipped dump against the dump
// itself and the rules Import states: Services as they are, Deployments
// with their replicas, only pods without a controller as bare pods, the
// controllers' pods and the kinds not simulated yet reported, and the
// user-managed slices of Services without a selector carried.
func TestImportDump(t *testing.T) {
	res, dump := importDump(t)
	s, rep := res.Scenario, res.Report

	svcs := map[string]int{}
	for i, svc := range s.Services {
		svcs[svc.Key().String()] = i
	}
	require.Len(t, s.Services, len(dump["Service"]))
	for _, in := range dump["Service"] {
		k := itemKey(in)
		i, ok := svcs[k]
		require.True(t, ok, "Service %s imported", k)
		got := s.Services[i]
		require.Empty(t, got.UID, k)
		require.Empty(t, got.ResourceVersion, k)
		require.True(t, got.CreationTimestamp.IsZero(), k)
		var ips []string
		for _, ip := range field(in, "spec", "clusterIPs").([]any) {
			ips = append(ips, ip.(string))
		}
		require.Equal(t, ips, got.Spec.ClusterIPs, "%s: clusterIPs as in the dump", k)
		for j, p := range field(in, "spec", "ports").([]any) {
			np, _ := p.(map[string]any)["nodePort"].(float64)
			require.EqualValues(t, np, got.Spec.Ports[j].NodePort, "%s: ports[%d].nodePort", k, j)
		}
		hc, _ := field(in, "spec", "healthCheckNodePort").(float64)
		require.EqualValues(t, hc, got.Spec.HealthCheckNodePort, k)
		require.Empty(t, got.Status.LoadBalancer.Ingress, "%s: the simulator assigns ingress", k)
	}
	require.Zero(t, rep.Count(NoteConflict), "a real cluster's dump has no conflicts")

	require.Len(t, s.Deployments, len(dump["Deployment"]))
	deps := map[string]*Deployment{}
	for i, d := range s.Deployments {
		if i > 0 {
			require.Less(t, s.Deployments[i-1].Key().String(), d.Key().String(), "sorted by namespace and name")
		}
		deps[d.Key().String()] = d
	}
	for _, in := range dump["Deployment"] {
		d := deps[itemKey(in)]
		require.NotNil(t, d, itemKey(in))
		require.EqualValues(t, field(in, "spec", "replicas"), d.ReplicaCount())
		require.True(t, d.Spec.Template.CreationTimestamp.IsZero())
		require.Empty(t, d.Annotations["deployment.kubernetes.io/revision"], "server-written annotation dropped")
	}

	// Bare pods are the pods without a controller (and not host-network).
	var bare []string
	for _, p := range dump["Pod"] {
		ctl := false
		refs, _ := field(p, "metadata", "ownerReferences").([]any)
		for _, r := range refs {
			if c, _ := r.(map[string]any)["controller"].(bool); c {
				ctl = true
			}
		}
		if hn, _ := field(p, "spec", "hostNetwork").(bool); !ctl && !hn {
			bare = append(bare, itemKey(p))
		}
	}
	var gotPods []string
	for _, p := range s.Pods {
		gotPods = append(gotPods, p.Key().String())
		require.Empty(t, p.OwnerReferences)
	}
	require.Equal(t, bare, gotPods)
	require.Equal(t, []string{"default/debug"}, gotPods)

	// Every pod a Deployment's ReplicaSet owns is reported as made by the
	// Deployment; StatefulSet and DaemonSet pods as made by them.
	rsOwner := map[string]string{}
	for _, rs := range dump["ReplicaSet"] {
		refs, _ := field(rs, "metadata", "ownerReferences").([]any)
		rsOwner[itemKey(rs)] = refs[0].(map[string]any)["name"].(string)
	}
	for _, p := range dump["Pod"] {
		refs, _ := field(p, "metadata", "ownerReferences").([]any)
		if len(refs) == 0 {
			continue
		}
		o := refs[0].(map[string]any)
		ns := field(p, "metadata", "namespace").(string)
		notes := rep.Find("Pod", itemKey(p))
		require.Len(t, notes, 1, itemKey(p))
		switch o["kind"] {
		case "ReplicaSet":
			require.Equal(t, NoteDropped, notes[0].Verdict)
			require.Contains(t, notes[0].Message, "Deployment "+ns+"/"+rsOwner[ns+"/"+o["name"].(string)])
		case "StatefulSet", "DaemonSet":
			require.Equal(t, NoteDropped, notes[0].Verdict, itemKey(p))
			require.Contains(t, notes[0].Message, "made by "+o["kind"].(string)+" "+ns+"/"+o["name"].(string))
		case "Node":
			require.Equal(t, NoteDropped, notes[0].Verdict)
		}
	}
	// StatefulSets and DaemonSets are the scenario's workloads, as the
	// dump has them: names, replicas, the headless Service.
	for _, kind := range []string{"StatefulSet", "DaemonSet"} {
		require.NotEmpty(t, dump[kind], kind)
		for _, it := range dump[kind] {
			notes := rep.Find(kind, itemKey(it))
			require.Len(t, notes, 1)
			require.Equal(t, NoteKept, notes[0].Verdict)
		}
	}
	var sts, ds []string
	for _, o := range s.StatefulSets {
		sts = append(sts, o.Key().String())
	}
	for _, o := range s.DaemonSets {
		ds = append(ds, o.Key().String())
	}
	require.ElementsMatch(t, keys(dump["StatefulSet"]), sts)
	require.ElementsMatch(t, keys(dump["DaemonSet"]), ds)
	for _, it := range dump["StatefulSet"] {
		i := slices.IndexFunc(s.StatefulSets, func(o *StatefulSet) bool { return o.Key().String() == itemKey(it) })
		require.EqualValues(t, field(it, "spec", "replicas"), s.StatefulSets[i].ReplicaCount())
		require.Equal(t, field(it, "spec", "serviceName"), s.StatefulSets[i].Spec.ServiceName)
	}

	// Slices: the user-managed ones of Services without a selector are
	// carried; a second controller's slice of a Service with one differs.
	var carried []string
	for _, sl := range s.EndpointSlices {
		carried = append(carried, sl.Namespace+"/"+sl.Name)
		require.NotEqual(t, "endpointslice-controller.k8s.io", sl.Labels["endpointslice.kubernetes.io/managed-by"])
		require.Zero(t, sl.Generation)
	}
	require.Equal(t, []string{"data/billing-db-rds", "default/kubernetes"}, carried)
	mesh := rep.Find("EndpointSlice", "shop/payments-mesh-1")
	require.Len(t, mesh, 1)
	require.Equal(t, NoteDiffers, mesh[0].Verdict)
	require.Equal(t, 1, rep.Count(NoteDiffers), "the controller's slices of the dump are what svcnet computes: %s", rep)

	// What the simulator does not model is said: the control plane's
	// NoSchedule taint, the IPv6 family of the dual-stack Service.
	require.Contains(t, notesOf(rep, "Node", "cp-1", NoteChanged), "taint node-role.kubernetes.io/control-plane:NoSchedule")
	require.Contains(t, notesOf(rep, "Service", "shop/frontend", NoteChanged), "clusterIP fd00:10:96::3f2a")
	require.Empty(t, notesOf(rep, "Node", "worker-a", NoteChanged))

	// The cluster: the nodes' zones, both Service families.
	require.Equal(t, []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, s.Cluster.Zones)
	require.Equal(t, "10.96.0.0/12,fd00:10:96::/112", s.Cluster.ServiceCIDR)
	require.Equal(t, "10.244.0.0/22", s.Cluster.PodCIDR, "the nodes' four /24s")
	lbr := netipMustPrefix(t, s.Cluster.LoadBalancerRange)
	require.True(t, lbr.Contains(netipMustAddr(t, "203.0.113.10")) && lbr.Contains(netipMustAddr(t, "203.0.113.11")), s.Cluster.LoadBalancerRange)
}

// TestImportDumpRuns: the imported scenario's YAML decodes to the same
// objects, runs, and serves traffic to the imported Services.
func TestImportDumpRuns(t *testing.T) {
	res, _ := importDump(t)
	y, err := res.YAML()
	require.NoError(t, err)
	s, err := DecodeScenario(y)
	require.NoError(t, err, "%s", y)
	require.Equal(t, len(res.Scenario.Services), len(s.Services))
	require.Equal(t, len(res.Scenario.EndpointSlices), len(s.EndpointSlices))
	again, err := res.YAML()
	require.NoError(t, err)
	require.Equal(t, string(y), string(again), "deterministic")

	s.Duration = Duration(20e9)
	s.Traffic = []TrafficSpec{
		{Service: "shop/frontend", Rate: 20, Length: Distribution{Kind: DistConstant, Mean: Duration(5e8)}},
		{Service: "shop/frontend", From: FromExternal, Via: ViaLoadBalancer, Rate: 20, Length: Distribution{Kind: DistConstant, Mean: Duration(5e8)}},
		{Service: "kube-system/kube-dns", Port: "dns-tcp", Rate: 10, Length: Distribution{Kind: DistConstant, Mean: Duration(2e8)}},
	}
	r, err := Run(s)
	require.NoError(t, err)
	for _, f := range r.Flows {
		require.Positive(t, f.Connections.Served, "%s", f.Name)
		require.Zero(t, f.Connections.Failed(), "%s", f.Name)
	}

	st, err := StateAt(s, 10e9)
	require.NoError(t, err)
	c := st.Cluster
	fe, err := c.Service(svcKey("shop", "frontend"))
	require.NoError(t, err)
	require.Equal(t, []string{"10.100.12.34", "fd00:10:96::3f2a"}, fe.Spec.ClusterIPs)
	require.EqualValues(t, 32100, fe.Spec.HealthCheckNodePort)
	require.NotEmpty(t, fe.Status.LoadBalancer.Ingress)
	ready := 0
	for _, sl := range c.Slices(fe.Key()) {
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready {
				ready++
			}
		}
	}
	require.Equal(t, 3, ready, "the Deployment's 3 replicas (IPv4: pods have one address in the simulator)")
	k8s := c.Slices(svcKey("default", "kubernetes"))
	require.Len(t, k8s, 1)
	require.Equal(t, "10.0.1.10", k8s[0].Endpoints[0].Address().String())
}

func netipMustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	require.NoError(t, err)
	return p
}

func netipMustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	require.NoError(t, err)
	return a
}

func svcKey(ns, name string) service.NamespacedName {
	return service.NamespacedName{Namespace: ns, Name: name}
}

// conflictDump holds what no real cluster holds, as two clusters' dumps
// concatenated would: a ClusterIP, a nodePort and a healthCheckNodePort
// given twice, and a nodePort outside the range.
const conflictDump = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a, namespace: default, uid: 0d9c, resourceVersion: "17", creationTimestamp: "2026-01-01T00:00:00Z"}
  spec:
    type: NodePort
    clusterIP: 10.96.5.5
    clusterIPs: [10.96.5.5]
    selector: {app: a}
    ports: [{port: 80, nodePort: 30100}]
- apiVersion: v1
  kind: Service
  metadata: {name: b, namespace: default}
  spec:
    clusterIP: 10.96.5.5
    clusterIPs: [10.96.5.5]
    selector: {app: a}
    ports: [{port: 80}]
- apiVersion: v1
  kind: Service
  metadata: {name: c, namespace: default}
  spec:
    type: NodePort
    selector: {app: a}
    ports: [{name: w, port: 80, nodePort: 30100}, {name: x, port: 81, nodePort: 40000}]
- apiVersion: v1
  kind: Service
  metadata: {name: e, namespace: other}
  spec:
    type: LoadBalancer
    externalTrafficPolicy: Local
    healthCheckNodePort: 30100
    selector: {app: a}
    ports: [{port: 80, nodePort: 30200}]
- apiVersion: v1
  kind: Node
  metadata: {name: n1, labels: {topology.kubernetes.io/zone: z1}}
  status: {addresses: [{type: InternalIP, address: 192.168.1.10}]}
`

// TestImportConflicts: the first Service keeps what it asks for, in dump
// order, as the API server allocates; a later one asking for a taken or
// out-of-range value is reported and gets another from the simulator.
func TestImportConflicts(t *testing.T) {
	res, err := Import(ScenarioSource{Name: "two.yaml", Data: []byte(conflictDump)})
	require.NoError(t, err)
	rep := res.Report
	conflicts := func(name string) []string {
		var out []string
		for _, n := range rep.Find("Service", name) {
			if n.Verdict == NoteConflict {
				out = append(out, n.Message)
			}
		}
		return out
	}
	require.Empty(t, conflicts("default/a"))
	require.Len(t, conflicts("default/b"), 1)
	require.Contains(t, conflicts("default/b")[0], "10.96.5.5")
	require.Contains(t, conflicts("default/b")[0], "already allocated")
	cc := conflicts("default/c")
	require.Len(t, cc, 2)
	require.Contains(t, strings.Join(cc, "\n"), "spec.ports[0].nodePort 30100")
	require.Contains(t, strings.Join(cc, "\n"), "spec.ports[1].nodePort 40000")
	require.Len(t, conflicts("other/e"), 1)
	require.Contains(t, conflicts("other/e")[0], "spec.healthCheckNodePort 30100")

	y, err := res.YAML()
	require.NoError(t, err)
	s, err := DecodeScenario(y)
	require.NoError(t, err)
	st, err := StateAt(s, 0)
	require.NoError(t, err)
	get := func(ns, name string) *service.Service {
		svc, err := st.Cluster.Service(svcKey(ns, name))
		require.NoError(t, err)
		return svc
	}
	require.Equal(t, "10.96.5.5", get("default", "a").Spec.ClusterIP)
	require.EqualValues(t, 30100, get("default", "a").Spec.Ports[0].NodePort)
	b := get("default", "b").Spec.ClusterIP
	require.NotEqual(t, "10.96.5.5", b)
	require.True(t, netipMustPrefix(t, "10.96.0.0/12").Contains(netipMustAddr(t, b)))
	c := get("default", "c").Spec.Ports
	for _, p := range c {
		require.NotContains(t, []int32{0, 30100, 40000}, p.NodePort)
		require.True(t, p.NodePort >= 30000 && p.NodePort <= 32767, "%d", p.NodePort)
	}
	e := get("other", "e").Spec
	require.NotZero(t, e.HealthCheckNodePort)
	require.NotEqual(t, int32(30100), e.HealthCheckNodePort)
	require.EqualValues(t, 30200, e.Ports[0].NodePort, "its own nodePort was free")
}

// TestImportBadInput: what cannot be imported is a *DecodeError naming
// the source, the item and the field with its value.
func TestImportBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"port", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: x}\n  spec: {selector: {a: b}, ports: [{port: 70000}]}\n",
			[]string{"bad.yaml: document 1 (line 1): items[0] (line 4)", `Service "x/a"`, "spec.ports[0].port", "70000"}},
		{"no kind", "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a}\n", []string{"bad.yaml", "items[0] (line 4): kind: required"}},
		{"not yaml", "a: [b\n", []string{"bad.yaml", "not YAML or JSON"}},
		{"items", "apiVersion: v1\nkind: List\nitems: 3\n", []string{"bad.yaml", "items", "a number, want a list"}},
		{"deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: -1, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c}]}}}\n",
			[]string{"bad.yaml: document 1 (line 1)", `Deployment "default/d"`, "spec.replicas", "-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Import(ScenarioSource{Name: "bad.yaml", Data: []byte(tc.data)})
			require.ErrorIs(t, err, ErrInvalidScenario)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestStateAtBounds(t *testing.T) {
	s, err := DecodeScenario([]byte(conflictDumpScenario))
	require.NoError(t, err)
	_, err = StateAt(s, -1)
	require.ErrorIs(t, err, ErrInvalidScenario)
	_, err = StateAt(s, s.Duration.D()+1)
	require.ErrorIs(t, err, ErrInvalidScenario)
	require.ErrorContains(t, err, "at 10.000000001s")
	st, err := StateAt(s, 5e9)
	require.NoError(t, err)
	require.Equal(t, 5e9, float64(st.At))
	require.Equal(t, epoch.Add(5e9), st.Now)
	// The pods a Deployment makes at time 0 are running and ready.
	pods := st.Cluster.Pods("default")
	require.Len(t, pods, 2)
	for _, p := range pods {
		require.True(t, p.IsReady(), p.Name)
	}
}

const conflictDumpScenario = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
duration: 10s
cluster: {nodes: 2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, ports: [{containerPort: 80}]}]}
`

// FuzzImport: whatever the dump, Import does not panic, and what it
// makes is a scenario DecodeScenario reads.
func FuzzImport(f *testing.F) {
	f.Add([]byte(conflictDump))
	f.Add([]byte(conflictDumpScenario))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p, ownerReferences: [{kind: Node, name: n, controller: true}]}\nspec: {hostNetwork: true, containers: [{name: c}]}\n"))
	f.Add([]byte("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, labels: {kubernetes.io/service-name: x}}\naddressType: FQDN\n"))
	f.Add([]byte("kind: List\nitems: [{kind: Namespace, metadata: {name: a}}, 3, null]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(ScenarioSource{Name: "f.yaml", Data: data})
		if err != nil {
			if !errors.Is(err, ErrInvalidScenario) {
				t.Fatalf("not an ErrInvalidScenario: %v", err)
			}
			return
		}
		y, err := res.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeScenario(y); err != nil {
			t.Fatalf("the import does not decode: %v\n%s", err, y)
		}
	})
}

// cover is the longest prefix, at most maxBits, holding every address:
// checked against the naive search from maxBits down.
func TestCover(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	naive := func(addrs []netip.Addr, maxBits int) netip.Prefix {
		for b := maxBits; b >= 0; b-- {
			p := netip.PrefixFrom(addrs[0], b).Masked()
			if !slices.ContainsFunc(addrs, func(a netip.Addr) bool { return !p.Contains(a) }) {
				return p
			}
		}
		t.Fatal("no prefix")
		return netip.Prefix{}
	}
	for range 2000 {
		v6 := rng.IntN(2) == 0
		n := 1 + rng.IntN(4)
		var addrs []netip.Addr
		var base [16]byte
		for i := range base {
			base[i] = byte(rng.IntN(256))
		}
		for range n {
			b := base
			// Differ only in the last few bytes, often.
			for i := 16 - 1 - rng.IntN(16); i < 16; i++ {
				if rng.IntN(3) == 0 {
					b[i] = byte(rng.IntN(256))
				}
			}
			a := netip.AddrFrom16(b)
			if !v6 {
				a = netip.AddrFrom4([4]byte(b[12:]))
			}
			addrs = append(addrs, a)
		}
		maxBits := 24
		if v6 {
			maxBits = 112
		}
		require.Equal(t, naive(addrs, maxBits), cover(addrs, maxBits), "%v", addrs)
	}
	require.Equal(t, "10.244.0.0/22", cover([]netip.Addr{netipMustAddr(t, "10.244.0.0"), netipMustAddr(t, "10.244.3.0")}, 24).String())
}

// A user-managed slice of a Service with a selector: kube-proxy uses its
// endpoints beside the controller's (it reads every slice labelled with
// the Service), so connections to its address, no pod's, are refused;
// the controller's slices still match the pods (no violation with the
// checks after every event).
func TestScenarioUserSliceBesideController(t *testing.T) {
	s, err := DecodeScenario([]byte(userSliceScenario))
	require.NoError(t, err)
	require.Len(t, s.EndpointSlices, 1)
	r, err := Run(s)
	require.NoError(t, err)
	c := r.Flows[0].Connections
	require.Positive(t, c.Served)
	require.Positive(t, c.Refused, "the slice's 192.0.2.50 is no pod")
	require.Equal(t, c.Total, c.Served+c.Refused)
}

const userSliceScenario = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
duration: 20s
cluster: {nodes: 2}
checks: {everyEvents: 1}
traffic: [{service: web, rate: 5}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, ports: [{containerPort: 8080}]}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-extra
  labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: mesh}
addressType: IPv4
endpoints:
- addresses: ["192.0.2.50"]
  conditions: {ready: true}
ports: [{port: 8080, protocol: TCP}]
`

// A NotReady node and an unready bare pod start Ready in the simulator:
// the report says so.
func TestImportReadiness(t *testing.T) {
	dump := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1}
  status:
    addresses: [{type: InternalIP, address: 192.168.1.10}]
    conditions: [{type: Ready, status: "False", reason: KubeletNotReady}]
- apiVersion: v1
  kind: Node
  metadata: {name: n2}
  status:
    addresses: [{type: InternalIP, address: 192.168.1.11}]
    conditions: [{type: Ready, status: "True"}]
- apiVersion: v1
  kind: Pod
  metadata: {name: p, namespace: default}
  spec: {nodeName: n2, containers: [{name: c}]}
  status:
    phase: Running
    podIP: 10.0.1.5
    conditions: [{type: Ready, status: "False"}]
`
	res, err := Import(ScenarioSource{Data: []byte(dump)})
	require.NoError(t, err)
	changed := func(kind, name string) int {
		n := 0
		for _, x := range res.Report.Find(kind, name) {
			if x.Verdict == NoteChanged {
				n++
			}
		}
		return n
	}
	require.Equal(t, 1, changed("Node", "n1"))
	require.Zero(t, changed("Node", "n2"))
	require.Equal(t, 1, changed("Pod", "default/p"))
	st, err := StateAt(res.Scenario, 0)
	require.NoError(t, err)
	p, err := st.Cluster.Pod(svcKey("default", "p"))
	require.NoError(t, err)
	require.True(t, p.IsReady())
	require.Equal(t, "10.0.1.5", p.Status.PodIP, "kept its IP")
	require.Equal(t, "n2", p.Spec.NodeName, "on its node")
}

// Unset endpoint conditions mean what discovery.k8s.io/v1 says: ready
// nil is true, serving nil follows ready, terminating nil is false.
func TestScenarioSliceConditionDefaults(t *testing.T) {
	s, err := DecodeScenario([]byte(`apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
duration: 10s
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
endpoints:
- addresses: [192.0.2.1]
- addresses: [192.0.2.2]
  conditions: {}
- addresses: [192.0.2.3]
  conditions: {ready: false}
- addresses: [192.0.2.4]
  conditions: {ready: false, serving: true, terminating: true}
ports: [{port: 5432, protocol: TCP}]
`))
	require.NoError(t, err)
	require.Len(t, s.EndpointSlices, 1)
	type c struct{ ready, serving, terminating bool }
	var got []c
	for _, e := range s.EndpointSlices[0].Endpoints {
		got = append(got, c{e.Conditions.Ready, e.Conditions.Serving, e.Conditions.Terminating})
	}
	require.Equal(t, []c{{true, true, false}, {true, true, false}, {false, false, false}, {false, true, true}}, got)
	require.Equal(t, "default", s.EndpointSlices[0].Namespace)
}

// A dump's own slices run as manifests: the controller's and FQDN ones
// are skipped, a user's is carried.
func TestScenarioSkipsControllerSlices(t *testing.T) {
	s, err := DecodeScenario([]byte(`apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
duration: 10s
---
apiVersion: v1
kind: List
items:
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-abcde, labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}}
  addressType: IPv4
  endpoints: [{addresses: [10.244.1.5]}]
  ports: [{port: 80, protocol: TCP}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: ext-fqdn, labels: {kubernetes.io/service-name: ext}}
  addressType: FQDN
  endpoints: [{addresses: [db.example.com]}]
  ports: [{port: 5432, protocol: TCP}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: no-service}
  addressType: IPv4
  endpoints: [{addresses: [192.0.2.8]}]
  ports: [{port: 5432}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: ext-1, labels: {kubernetes.io/service-name: ext}}
  addressType: IPv4
  endpoints: [{addresses: [192.0.2.9]}]
  ports: [{port: 5432}]
`))
	require.NoError(t, err)
	require.Len(t, s.EndpointSlices, 1)
	require.Equal(t, "ext-1", s.EndpointSlices[0].Name)
	require.Equal(t, service.ProtocolTCP, s.EndpointSlices[0].Ports[0].Protocol, "the API server's default")
}

// notesOf joins the messages of an object's notes of one verdict.
func notesOf(rep ImportReport, kind, name, verdict string) string {
	var out []string
	for _, n := range rep.Find(kind, name) {
		if n.Verdict == verdict {
			out = append(out, n.Message)
		}
	}
	return strings.Join(out, "\n")
}

// cluster.serviceCIDR takes kube-apiserver's --service-cluster-ip-range
// forms: one CIDR, or two of different families.
func TestServiceCIDRFamilies(t *testing.T) {
	for _, tc := range []struct {
		cidr string
		ok   bool
	}{
		{"10.96.0.0/12", true}, {"10.96.0.0/12,fd00:10:96::/112", true}, {"fd00:10:96::/112, 10.96.0.0/12", true},
		{"10.96.0.0/12,10.128.0.0/12", false}, {"10.96.0.0/12,fd00::/112,fd01::/112", false}, {"10.96.0.0/12,", false},
	} {
		s := Scenario{Duration: Duration(1e9), Cluster: ClusterSpec{Nodes: 1, ServiceCIDR: tc.cidr}}
		_, err := StateAt(s, 0)
		if tc.ok {
			require.NoError(t, err, tc.cidr)
			continue
		}
		require.ErrorIs(t, err, ErrInvalidScenario, tc.cidr)
		require.ErrorContains(t, err, "cluster.serviceCIDR", tc.cidr)
	}
}

// keys lists the dump items' namespace/name keys.
func keys(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, itemKey(it))
	}
	return out
}
