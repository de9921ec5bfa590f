package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/service"
)

const wlScenario = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: t}
seed: 3
duration: 1m
cluster: {nodes: 3}
timeline: [{at: 10s, action: rollout, target: statefulset/db}]
`

const dbHeadless = `apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
`

const dbStatefulSet = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: db}]}
`

const agentDaemonSet = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: agent}]}
`

const cacheReplicaSet = `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: cache}
spec:
  replicas: 2
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec: {containers: [{name: cache, image: cache}]}
`

func TestDecodeWorkloadKinds(t *testing.T) {
	s, err := DecodeScenario(stream(wlScenario, dbHeadless, dbStatefulSet, agentDaemonSet, cacheReplicaSet))
	require.NoError(t, err)
	require.Len(t, s.StatefulSets, 1)
	require.Len(t, s.DaemonSets, 1)
	require.Len(t, s.ReplicaSets, 1)
	require.Equal(t, "db", s.StatefulSets[0].Spec.ServiceName)
	require.Equal(t, "default", s.StatefulSets[0].Namespace, "namespace defaulted as kubectl does")
	require.Equal(t, "kube-system", s.DaemonSets[0].Namespace)
	require.Equal(t, int32(2), s.ReplicaSets[0].ReplicaCount())
	// The same objects inline in the Scenario document, and in a List.
	inline := wlScenario + "statefulSets:\n- " + strings.ReplaceAll(strings.TrimSpace(strings.SplitN(dbStatefulSet, "\n", 2)[1]), "\n", "\n  ") + "\n"
	s2, err := DecodeScenario(stream(inline, dbHeadless))
	require.NoError(t, err)
	require.Len(t, s2.StatefulSets, 1)
	require.Equal(t, s.StatefulSets[0].Spec.Template, s2.StatefulSets[0].Spec.Template)
}

// TestDecodeWorkloadErrors: each rule of Kubernetes' validation of the
// three kinds, and the references to them, is an error naming the field
// and the value.
func TestDecodeWorkloadErrors(t *testing.T) {
	sts := func(old, new string) string { return strings.Replace(dbStatefulSet, old, new, 1) }
	ds := func(old, new string) string { return strings.Replace(agentDaemonSet, old, new, 1) }
	sc := func(old, new string) string { return strings.Replace(wlScenario, old, new, 1) }
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"sts negative replicas", stream(wlScenario, sts("replicas: 3", "replicas: -2")),
			`StatefulSet "default/db": spec.replicas: invalid value -2: must be greater than or equal to 0`},
		{"sts policy", stream(wlScenario, sts("replicas: 3", "replicas: 3\n  podManagementPolicy: Random")),
			`spec.podManagementPolicy: invalid value "Random": supported values: "OrderedReady", "Parallel"`},
		{"sts strategy", stream(wlScenario, sts("replicas: 3", "replicas: 3\n  updateStrategy: {type: Recreate}")),
			`spec.updateStrategy.type: invalid value "Recreate": supported values: "OnDelete", "RollingUpdate"`},
		{"sts OnDelete with rollingUpdate", stream(wlScenario, sts("replicas: 3", "replicas: 3\n  updateStrategy: {type: OnDelete, rollingUpdate: {partition: 1}}")),
			`spec.updateStrategy.rollingUpdate: invalid value "set": only allowed for updateStrategy 'RollingUpdate'`},
		{"sts negative partition", stream(wlScenario, sts("replicas: 3", "replicas: 3\n  updateStrategy: {rollingUpdate: {partition: -1}}")),
			`spec.updateStrategy.rollingUpdate.partition: invalid value -1: must be greater than or equal to 0`},
		{"sts zero maxUnavailable", stream(wlScenario, sts("replicas: 3", "replicas: 3\n  updateStrategy: {rollingUpdate: {maxUnavailable: 0}}")),
			`spec.updateStrategy.rollingUpdate.maxUnavailable: invalid value "0": cannot be 0`},
		{"sts maxUnavailable over 100%", stream(wlScenario, sts("replicas: 3", "replicas: 3\n  updateStrategy: {rollingUpdate: {maxUnavailable: 150%}}")),
			`spec.updateStrategy.rollingUpdate.maxUnavailable: invalid value "150%": must not be greater than 100%`},
		{"sts bad serviceName", stream(wlScenario, sts("serviceName: db", "serviceName: DB.x")),
			`spec.serviceName: invalid value "DB.x": must be a DNS-1123 label`},
		{"sts negative start", stream(wlScenario, sts("replicas: 3", "replicas: 3\n  ordinals: {start: -1}")),
			`spec.ordinals.start: invalid value -1: must be greater than or equal to 0`},
		{"sts name not a label", stream(wlScenario, sts("metadata: {name: db}", "metadata: {name: db.main}")),
			`StatefulSet "default/db.main": metadata.name: invalid value "db.main": a StatefulSet's pods are named and hostnamed <name>-<ordinal>`},
		{"sts selector mismatch", stream(wlScenario, sts("labels: {app: db}", "labels: {app: web}")),
			`StatefulSet "default/db": spec.template.metadata.labels: invalid value "app=web": ` + "`selector` does not match template `labels`"},
		{"sts restartPolicy", stream(wlScenario, sts("spec: {containers", "spec: {restartPolicy: Never, containers")),
			`spec.template.spec.restartPolicy: invalid value "Never": supported values: "Always"`},
		{"sts unknown field", stream(wlScenario, sts("serviceName: db", "serviceName: db\n  servicename: db")),
			`StatefulSet "default/db": spec.servicename: unknown field`},
		{"ds both bounds", stream(wlScenario, ds("selector:", "updateStrategy: {rollingUpdate: {maxSurge: 1}}\n  selector:")),
			`DaemonSet "kube-system/agent": spec.updateStrategy.rollingUpdate.maxSurge: invalid value "1": may not be set when maxUnavailable is non-zero`},
		{"ds no bound", stream(wlScenario, ds("selector:", "updateStrategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0%}}\n  selector:")),
			`spec.updateStrategy.rollingUpdate.maxUnavailable: required value: cannot be 0 when maxSurge is 0`},
		{"ds bad percent", stream(wlScenario, ds("selector:", "updateStrategy: {rollingUpdate: {maxUnavailable: ten}}\n  selector:")),
			`spec.updateStrategy.rollingUpdate.maxUnavailable: invalid value "ten": a valid percent string must be a numeric string followed by an ending '%'`},
		{"ds strategy", stream(wlScenario, ds("selector:", "updateStrategy: {type: Recreate}\n  selector:")),
			`DaemonSet "kube-system/agent": spec.updateStrategy.type: invalid value "Recreate"`},
		{"ds empty selector", stream(wlScenario, ds("selector: {matchLabels: {app: agent}}", "selector: {}")),
			`spec.selector: invalid value "{}": empty selector is invalid for daemonset`},
		{"rs no selector", stream(wlScenario, strings.Replace(cacheReplicaSet, "  selector: {matchLabels: {app: cache}}\n", "", 1)),
			`ReplicaSet "default/cache": spec.selector: required value`},
		{"rs negative minReady", stream(wlScenario, strings.Replace(cacheReplicaSet, "replicas: 2", "replicas: 2\n  minReadySeconds: -1", 1)),
			`spec.minReadySeconds: invalid value -1: must be greater than or equal to 0`},
		{"duplicate statefulset", stream(wlScenario, dbStatefulSet, dbStatefulSet),
			`StatefulSet "default/db": metadata.name: duplicate value "db": already defined in document 2`},
		{"wrong apiVersion", stream(wlScenario, strings.Replace(dbStatefulSet, "apps/v1", "apps/v1beta2", 1)),
			`StatefulSet: apiVersion: invalid value "apps/v1beta2": want "apps/v1" for kind StatefulSet`},
		{"rollout of a ReplicaSet", stream(sc("target: statefulset/db", "target: cache"), cacheReplicaSet),
			`timeline[0].target: invalid value "cache": a ReplicaSet does not roll out`},
		{"scale of a DaemonSet", stream(sc("action: rollout, target: statefulset/db", "action: scale, replicas: 2, target: kube-system/agent"), agentDaemonSet),
			`timeline[0].target: invalid value "kube-system/agent": a DaemonSet has no replica count`},
		{"ambiguous name", stream(sc("target: statefulset/db", "target: db"), dbStatefulSet, strings.Replace(strings.Replace(cacheReplicaSet, "name: cache", "name: db", 1), "app: cache", "app: cache", 1)),
			`timeline[0].target: invalid value "db": ambiguous: a StatefulSet and a ReplicaSet share the name; write statefulset/db`},
		{"kind that is not there", stream(sc("target: statefulset/db", "target: daemonset/db"), dbStatefulSet),
			`timeline[0].target: invalid value "daemonset/db": no such DaemonSet in the scenario`},
		{"bad kind word", stream(sc("target: statefulset/db", "target: job/default/db"), dbStatefulSet),
			`"job" is not a workload kind`},
		{"churn target", stream(wlScenario+"churn: [{action: rollout, rate: 1, target: rs/cache}]\n", dbStatefulSet, cacheReplicaSet),
			`churn[0].target: invalid value "rs/cache": a ReplicaSet does not roll out`},
		{"hostname with external", stream(wlScenario+"traffic: [{service: db, hostname: db-0.db, from: external, rate: 1}]\n", dbHeadless, dbStatefulSet),
			`traffic[0].hostname: invalid value "db-0.db": a pod's DNS name is resolved by pods`},
		{"hostname via clusterIP", stream(wlScenario+"traffic: [{service: db, hostname: db-0.db, via: clusterIP, rate: 1}]\n", dbHeadless, dbStatefulSet),
			`traffic[0].via: invalid value "clusterIP": a hostname is reached by dns`},
		{"headless via clusterIP", stream(wlScenario+"traffic: [{service: db, via: clusterIP, rate: 1}]\n", dbHeadless, dbStatefulSet),
			`traffic[0].via: invalid value "clusterIP": a headless Service has no ClusterIP or NodePort: pods reach it by DNS`},
		{"headless from outside", stream(wlScenario+"traffic: [{service: db, from: external, rate: 1}]\n", dbHeadless, dbStatefulSet),
			`traffic[0].from: invalid value "external": a headless Service has no ClusterIP or NodePort`},
		{"deleteNode unknown", stream(sc("action: rollout, target: statefulset/db", "action: deleteNode, target: node-9"), dbStatefulSet),
			`timeline[0].target: invalid value "node-9": no such node in the scenario`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeScenario(c.in)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalidScenario)
			require.Contains(t, err.Error(), c.want)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
		})
	}
}

func TestParseWorkloadRef(t *testing.T) {
	for in, want := range map[string]WorkloadRef{
		"web":                     {Key: service.NamespacedName{Namespace: "default", Name: "web"}},
		"shop/web":                {Key: service.NamespacedName{Namespace: "shop", Name: "web"}},
		"statefulset/web":         {Kind: kindStatefulSet, Key: service.NamespacedName{Namespace: "default", Name: "web"}},
		"sts/shop/web":            {Kind: kindStatefulSet, Key: service.NamespacedName{Namespace: "shop", Name: "web"}},
		"DaemonSet.apps/kube/dns": {Kind: kindDaemonSet, Key: service.NamespacedName{Namespace: "kube", Name: "dns"}},
		"deploy/web":              {Kind: kindDeployment, Key: service.NamespacedName{Namespace: "default", Name: "web"}},
		"rs/web":                  {Kind: kindReplicaSet, Key: service.NamespacedName{Namespace: "default", Name: "web"}},
	} {
		got, err := ParseWorkloadRef(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "/web", "a/b/c/d", "pod/ns/web", "web/"} {
		_, err := ParseWorkloadRef(bad)
		require.Error(t, err, bad)
	}
}

// TestRunRejectsBadWorkloads: Run checks a Scenario built in Go as the
// decoder checks a stream.
func TestRunRejectsBadWorkloads(t *testing.T) {
	neg := int32(-1)
	labels := service.Labels{"app": "db"}
	base := func() *StatefulSet {
		return &StatefulSet{ObjectMeta: service.ObjectMeta{Name: "db"}, Spec: StatefulSetSpec{
			Selector: &service.LabelSelector{MatchLabels: labels}, Template: webTemplate(labels, 1)}}
	}
	bad := base()
	bad.Spec.Replicas = &neg
	_, err := Run(Scenario{Duration: Duration(time.Second), Cluster: ClusterSpec{Nodes: 1}, StatefulSets: []*StatefulSet{bad}})
	require.ErrorIs(t, err, ErrInvalidScenario)
	require.Contains(t, err.Error(), "spec.replicas")
	var fe *service.FieldError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, "spec.replicas", fe.Path)

	_, err = Run(Scenario{Duration: Duration(time.Second), Cluster: ClusterSpec{Nodes: 1}, StatefulSets: []*StatefulSet{base(), base()}})
	require.ErrorContains(t, err, "defined twice")

	rs := &ReplicaSet{ObjectMeta: service.ObjectMeta{Name: "db"}, Spec: ReplicaSetSpec{
		Selector: &service.LabelSelector{MatchLabels: labels}, Template: webTemplate(labels, 1)}}
	_, err = Run(Scenario{Duration: Duration(time.Minute), Cluster: ClusterSpec{Nodes: 1}, StatefulSets: []*StatefulSet{base()}, ReplicaSets: []*ReplicaSet{rs},
		Timeline: []TimelineEvent{{At: Duration(time.Second), Action: ActionRollout, Target: "db"}}})
	require.ErrorContains(t, err, "ambiguous")
	_, err = Run(Scenario{Duration: Duration(time.Minute), Cluster: ClusterSpec{Nodes: 1}, ReplicaSets: []*ReplicaSet{rs},
		Timeline: []TimelineEvent{{At: Duration(time.Second), Action: ActionRollout, Target: "db"}}})
	require.ErrorContains(t, err, "does not roll out")
	// The capacity check counts a StatefulSet's replicas and follows a
	// scale by kind/name.
	big := base()
	big.Spec.Replicas = new(int32(1_000_000_000))
	_, err = Run(Scenario{Duration: Duration(time.Minute), Cluster: ClusterSpec{Nodes: 1}, StatefulSets: []*StatefulSet{big}})
	require.ErrorContains(t, err, "statefulSets[0] db: 1000000000 pods at time 0, more than the 110 the nodes hold")
	huge := int32(1 << 30)
	_, err = Run(Scenario{Duration: Duration(time.Minute), Cluster: ClusterSpec{Nodes: 1}, StatefulSets: []*StatefulSet{base()},
		Timeline: []TimelineEvent{{At: Duration(time.Second), Action: ActionScale, Target: "sts/db", Replicas: &huge}}})
	require.ErrorContains(t, err, "timeline[0] scale sts/db to 1073741824")
}

// stsWorld builds a world from a stream.
func stsWorld(t *testing.T, docs ...string) *world {
	t.Helper()
	s, err := DecodeScenario(stream(docs...))
	require.NoError(t, err)
	w, err := newWorld(s)
	require.NoError(t, err)
	return w
}

// TestStatefulSetIdentity: the pods are <name>-<ordinal>, from
// ordinals.start, with their hostname and subdomain, so that the cluster
// DNS answers <pod>.<service>.<namespace>.svc.cluster.local with the
// pod's address; the controller's labels are set.
func TestStatefulSetIdentity(t *testing.T) {
	w := stsWorld(t, wlScenario, dbHeadless, strings.Replace(dbStatefulSet, "replicas: 3", "replicas: 3\n  ordinals: {start: 5}", 1))
	var names []string
	for _, p := range w.pods {
		if p.deploy != nil {
			names = append(names, p.key.Name)
			require.Equal(t, p.key.Name, p.spec.Hostname)
			require.Equal(t, "db", p.spec.Subdomain)
			require.Equal(t, p.key.Name, p.labels["statefulset.kubernetes.io/pod-name"])
			require.Equal(t, strings.TrimPrefix(p.key.Name, "db-"), p.labels["apps.kubernetes.io/pod-index"])
			require.Equal(t, "db", p.labels["app"])
		}
	}
	require.Equal(t, []string{"db-5", "db-6", "db-7"}, names)
	from := svcnet.Source{Pod: service.NamespacedName{Namespace: "default", Name: "db-5"}}
	for _, name := range names {
		want := w.podByKey[service.NamespacedName{Namespace: "default", Name: name}].ip
		for _, q := range []string{name + ".db", name + ".db.default.svc.cluster.local."} {
			res, err := w.c.Resolve(from, q, dnsname.TypeA)
			require.NoError(t, err)
			require.Len(t, res.Response.Answer, 1, q)
			require.Equal(t, want, res.Response.Answer[0].Addr, q)
		}
	}
}

// TestReplicaSetInput: a ReplicaSet's pods are <name>-<5 characters>,
// with the template's labels only; scale changes their number.
func TestReplicaSetInput(t *testing.T) {
	r := int32(5)
	doc := wlScenario[:strings.Index(wlScenario, "timeline:")] + "timeline: [{at: 10s, action: scale, target: rs/cache, replicas: 5}]\n"
	w := stsWorld(t, doc, cacheReplicaSet)
	count := func() int {
		n := 0
		for _, p := range w.pods {
			if p.deploy != nil && p.phase != phGone && !p.api.term {
				n++
				require.Regexp(t, `^cache-[bcdfghjklmnpqrstvwxz2456789]{5}$`, p.key.Name)
				require.Equal(t, service.Labels{"app": "cache"}, p.labels)
			}
		}
		return n
	}
	require.Equal(t, 2, count())
	_, err := w.run(RunOptions{})
	require.NoError(t, err)
	require.Equal(t, int(r), count())
}

// TestWorkloadsDeterministic: the same scenario and seed give the same
// Result and the same event log, byte for byte.
func TestWorkloadsDeterministic(t *testing.T) {
	doc := wlScenario + `traffic: [{service: db, rate: 20, clients: 4}, {service: db, hostname: db-1.db, rate: 10, clients: 2}]
churn: [{action: crashPod, rate: 0.05, target: db}]
`
	runOnce := func() ([]byte, []byte) {
		s, err := DecodeScenario(stream(doc, dbHeadless, dbStatefulSet, agentDaemonSet, cacheReplicaSet))
		require.NoError(t, err)
		var ev bytes.Buffer
		res, err := RunWithOptions(s, RunOptions{Events: &ev})
		require.NoError(t, err)
		b, err := json.Marshal(res)
		require.NoError(t, err)
		return b, ev.Bytes()
	}
	r1, e1 := runOnce()
	r2, e2 := runOnce()
	require.Equal(t, r1, r2)
	require.Equal(t, e1, e2)
	require.Contains(t, string(e1), `"kind":"pod-deleted","pod":"default/db-2"`, "the rollout replaced db-2")
}

// TestVariantPreStopWorkloads: a variant's preStopSleep reaches every
// workload kind's containers, and leaves the Scenario as it was.
func TestVariantPreStopWorkloads(t *testing.T) {
	s, err := DecodeScenario(stream(wlScenario, dbHeadless, dbStatefulSet, agentDaemonSet, cacheReplicaSet))
	require.NoError(t, err)
	v := Variant{Name: "sleep", PreStopSleep: D(5 * time.Second)}.Apply(s)
	for _, spec := range []*service.PodSpec{&v.StatefulSets[0].Spec.Template.Spec, &v.DaemonSets[0].Spec.Template.Spec, &v.ReplicaSets[0].Spec.Template.Spec} {
		require.Equal(t, int64(5), spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds)
	}
	for _, spec := range []*service.PodSpec{&s.StatefulSets[0].Spec.Template.Spec, &s.DaemonSets[0].Spec.Template.Spec, &s.ReplicaSets[0].Spec.Template.Spec} {
		require.Nil(t, spec.Containers[0].Lifecycle, "the input is not changed")
	}
}

// TestStatefulSetOnDelete: with OnDelete a rollout replaces nothing; a
// pod deleted comes back, under its name, at the new revision.
func TestStatefulSetOnDelete(t *testing.T) {
	doc := strings.Replace(wlScenario, "timeline: [{at: 10s, action: rollout, target: statefulset/db}]",
		"timeline: [{at: 10s, action: rollout, target: statefulset/db}, {at: 20s, action: deletePod, target: db-1}]", 1)
	w := stsWorld(t, doc, dbHeadless, strings.Replace(dbStatefulSet, "replicas: 3", "replicas: 3\n  updateStrategy: {type: OnDelete}", 1))
	var deleted []string
	w.hook = func(what string, p *pod) {
		if what == "delete" {
			deleted = append(deleted, p.key.Name)
		}
	}
	_, err := w.run(RunOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"db-1"}, deleted, "the controller deletes nothing itself")
	revs := map[string]int{}
	for _, p := range w.setPods(w.deploys[0]) {
		revs[p.key.Name] = p.rev
	}
	require.Equal(t, map[string]int{"db-0": 1, "db-1": 2, "db-2": 1}, revs)
}

// TestStatefulSetNameTaken: a bare pod that has a StatefulSet pod's name
// keeps it; the StatefulSet cannot create that ordinal (AlreadyExists)
// and, OrderedReady, stops there; the run goes on without a violation.
func TestStatefulSetNameTaken(t *testing.T) {
	bare := `apiVersion: v1
kind: Pod
metadata: {name: db-1, labels: {app: other}}
spec: {containers: [{name: c, image: c}]}
`
	doc := strings.Replace(wlScenario, "timeline: [{at: 10s, action: rollout, target: statefulset/db}]\n", "", 1)
	w := stsWorld(t, doc, dbHeadless, strings.Replace(dbStatefulSet, "replicas: 3", "replicas: 0", 1), bare)
	require.NoError(t, w.scale(w.deploys[0], 3))
	res, err := w.run(RunOptions{})
	require.NoError(t, err)
	require.Nil(t, res.Violation)
	var names []string
	for _, p := range w.setPods(w.deploys[0]) {
		names = append(names, p.key.Name)
	}
	require.Equal(t, []string{"db-0"}, names, "db-1 is taken: OrderedReady stops before it")
	require.Nil(t, w.podByKey[service.NamespacedName{Namespace: "default", Name: "db-1"}].deploy, "the bare pod keeps its name")
}

func TestNodeAffinity(t *testing.T) {
	aff := func(terms string) nodeAffinity {
		a, err := parseNodeAffinity([]byte(`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":` + terms + `}}}`))
		require.NoError(t, err)
		return a
	}
	linux := map[string]string{"kubernetes.io/os": "linux", "gen": "5"}
	windows := map[string]string{"kubernetes.io/os": "windows"}
	for _, c := range []struct {
		terms         string
		linux, window bool
	}{
		{`[{"matchExpressions":[{"key":"kubernetes.io/os","operator":"In","values":["linux"]}]}]`, true, false},
		{`[{"matchExpressions":[{"key":"kubernetes.io/os","operator":"NotIn","values":["linux"]}]}]`, false, true},
		{`[{"matchExpressions":[{"key":"gen","operator":"Exists"}]}]`, true, false},
		{`[{"matchExpressions":[{"key":"gen","operator":"DoesNotExist"}]}]`, false, true},
		{`[{"matchExpressions":[{"key":"gen","operator":"Gt","values":["4"]}]}]`, true, false},
		{`[{"matchExpressions":[{"key":"gen","operator":"Lt","values":["5"]}]}]`, false, false},
		// Terms are ORed, a term's requirements ANDed.
		{`[{"matchExpressions":[{"key":"gen","operator":"Exists"},{"key":"kubernetes.io/os","operator":"In","values":["windows"]}]}]`, false, false},
		{`[{"matchExpressions":[{"key":"gen","operator":"Exists"}]},{"matchExpressions":[{"key":"kubernetes.io/os","operator":"In","values":["windows"]}]}]`, true, true},
		// An empty term, or none, matches no node.
		{`[{}]`, false, false},
		{`[]`, false, false},
		{`[{"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]}]`, true, false},
	} {
		a := aff(c.terms)
		require.Equal(t, c.linux, a.matches(linux, "n1"), c.terms)
		require.Equal(t, c.window, a.matches(windows, "n2"), c.terms)
	}
	none, err := parseNodeAffinity([]byte(`{"podAntiAffinity":{}}`))
	require.NoError(t, err)
	require.True(t, none.matches(windows, "n2"), "no node affinity: every node")
	for _, bad := range []string{
		`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"a","operator":"Near"}]}]}}}`,
		`{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"a","operator":"Gt","values":["x"]}]}]}}}`,
		`{"nodeAffinity": 3}`,
	} {
		_, err := parseNodeAffinity([]byte(bad))
		require.Error(t, err, bad)
	}
	_, err = DecodeScenario(stream(wlScenario, dbStatefulSet, strings.Replace(agentDaemonSet, "spec: {containers",
		`spec: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: Near}]}]}}}, containers`, 1)))
	require.ErrorContains(t, err, `DaemonSet "kube-system/agent": spec.template.spec.affinity: invalid value "an object": nodeSelectorTerms[0] requirement 0: unknown operator "Near"`)
}
