package informer

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/service"
)

// deadline bounds every wait of these tests.
const deadline = 10 * time.Second

func newCluster(t *testing.T, external bool) *svcnet.Cluster {
	t.Helper()
	c, err := svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs:   []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:       []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:      []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
		ImmediateSync:  true,
		ExternalSlices: external,
	})
	require.NoError(t, err)
	return c
}

// start runs a driver until the test ends, and waits until it synced.
func start(t *testing.T, cfg Config) *Driver {
	t.Helper()
	d, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ran:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(deadline):
			t.Errorf("Run did not return %v after its context was cancelled", deadline)
		}
	})
	select {
	case <-d.Synced():
	case err := <-ran:
		t.Fatalf("Run returned before it synced: %v", err)
	case <-time.After(deadline):
		t.Fatalf("not synced after %v", deadline)
	}
	return d
}

// eventually polls cond on the driver's goroutine until it holds, and
// fails the test when it does not within the deadline.
func eventually(t *testing.T, d *Driver, what string, cond func(c *svcnet.Cluster) bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		var ok bool
		require.NoError(t, d.Do(func(c *svcnet.Cluster) error { ok = cond(c); return nil }))
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("after %v: still not %s (stats %+v)", deadline, what, d.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// view runs f on the driver's goroutine and returns its result. f must
// not call t.Fatal and friends (it runs on another goroutine): assert on
// what it returns.
func view[T any](t *testing.T, d *Driver, f func(c *svcnet.Cluster) T) T {
	t.Helper()
	var v T
	require.NoError(t, d.Do(func(c *svcnet.Cluster) error { v = f(c); return nil }))
	return v
}

// waitFor polls cond (not on the driver) like eventually.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("after %v: still not %s", deadline, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func node(name, ip, rv string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv, Labels: map[string]string{corev1.LabelTopologyZone: "zone-a"}},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func pod(name, nodeName, ip string, ready bool, rv string) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: rv, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "web",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
}

func svc(name, clusterIP, uid, rv string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: rv, UID: types.UID(uid)},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: clusterIP, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}},
		},
	}
}

var web = service.NamespacedName{Namespace: "default", Name: "web"}

// readyAddrs returns the addresses of a Service's ready endpoints, sorted.
func readyAddrs(c *svcnet.Cluster, key service.NamespacedName) []string {
	var out []string
	for _, s := range c.Slices(key) {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready {
				out = append(out, e.Address().String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// answerA returns the addresses a name's A query answers, or nil.
func answerA(c *svcnet.Cluster, name string) []string {
	var out []string
	for _, r := range c.DNS().Resolve(name, dnsname.TypeA).Answer {
		out = append(out, r.Addr.String())
	}
	return out
}

// TestComputeCreateUpdateDelete lists a cluster, then creates, updates
// and deletes Services, pods and a node through the API, and checks the
// Cluster's Services, slices and DNS answers after each step.
func TestComputeCreateUpdateDelete(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(node("node-a", "192.168.0.10", "1"), svc("web", "10.96.0.10", "uid-1", "1"),
		pod("web-0", "node-a", "10.244.0.5", true, "1"))
	var errs []error
	var mu sync.Mutex
	d := start(t, Config{Client: client, Cluster: newCluster(t, false), Errors: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}})

	// The listed objects: the Service keeps the API's clusterIP.
	got := view(t, d, func(c *svcnet.Cluster) []any {
		s, err := c.Service(web)
		if err != nil {
			return []any{err}
		}
		return []any{s.Spec.ClusterIP, readyAddrs(c, web), answerA(c, "web.default.svc.cluster.local")}
	})
	require.Equal(t, []any{"10.96.0.10", []string{"10.244.0.5"}, []string{"10.96.0.10"}}, got)

	// A Service without a clusterIP (the fake API allocates none) gets
	// one from the Cluster's range, and a DNS name.
	api := svc("api", "", "uid-api", "1")
	_, err := client.CoreV1().Services("default").Create(ctx, api, metav1.CreateOptions{})
	require.NoError(t, err)
	apiKey := service.NamespacedName{Namespace: "default", Name: "api"}
	var apiIP string
	eventually(t, d, "api created", func(c *svcnet.Cluster) bool {
		s, err := c.Service(apiKey)
		if err != nil {
			return false
		}
		apiIP = s.Spec.ClusterIP
		return true
	})
	require.True(t, netip.MustParsePrefix("10.96.0.0/16").Contains(netip.MustParseAddr(apiIP)), apiIP)
	require.Equal(t, []string{apiIP}, view(t, d, func(c *svcnet.Cluster) []string { return answerA(c, "api.default.svc.cluster.local") }))

	// A new pod, then the same pod not ready.
	_, err = client.CoreV1().Pods("default").Create(ctx, pod("web-1", "node-a", "10.244.0.6", true, "1"), metav1.CreateOptions{})
	require.NoError(t, err)
	eventually(t, d, "web-1 ready in web's slices", func(c *svcnet.Cluster) bool {
		return slices.Equal(readyAddrs(c, web), []string{"10.244.0.5", "10.244.0.6"})
	})
	_, err = client.CoreV1().Pods("default").Update(ctx, pod("web-1", "node-a", "10.244.0.6", false, "2"), metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually(t, d, "web-1 not ready", func(c *svcnet.Cluster) bool {
		return slices.Equal(readyAddrs(c, web), []string{"10.244.0.5"})
	})

	// A Service update: a second port.
	w := svc("web", "10.96.0.10", "uid-1", "2")
	w.Spec.Ports = append(w.Spec.Ports, corev1.ServicePort{Name: "metrics", Port: 9090, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9090)})
	_, err = client.CoreV1().Services("default").Update(ctx, w, metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually(t, d, "web with two ports", func(c *svcnet.Cluster) bool {
		s, err := c.Service(web)
		return err == nil && len(s.Spec.Ports) == 2 && s.Spec.ClusterIP == "10.96.0.10"
	})

	// The Service deleted and made again under its name: a new uid.
	var oldUID string
	require.NoError(t, d.Do(func(c *svcnet.Cluster) error {
		s, err := c.Service(web)
		oldUID = s.UID
		return err
	}))
	_, err = client.CoreV1().Services("default").Update(ctx, svc("web", "10.96.0.10", "uid-2", "3"), metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually(t, d, "web made again", func(c *svcnet.Cluster) bool {
		s, err := c.Service(web)
		return err == nil && s.UID != oldUID && len(s.Spec.Ports) == 1
	})

	// Deletes.
	require.NoError(t, client.CoreV1().Pods("default").Delete(ctx, "web-0", metav1.DeleteOptions{}))
	eventually(t, d, "web-0 gone", func(c *svcnet.Cluster) bool {
		_, err := c.Pod(service.NamespacedName{Namespace: "default", Name: "web-0"})
		return errors.Is(err, svcnet.ErrNotFound) && len(readyAddrs(c, web)) == 0
	})
	require.NoError(t, client.CoreV1().Services("default").Delete(ctx, "api", metav1.DeleteOptions{}))
	eventually(t, d, "api gone", func(c *svcnet.Cluster) bool {
		_, err := c.Service(apiKey)
		return err != nil && c.DNS().Resolve("api.default.svc.cluster.local", dnsname.TypeA).Rcode == dnsname.RcodeNXDomain
	})
	require.NoError(t, client.CoreV1().Nodes().Delete(ctx, "node-a", metav1.DeleteOptions{}))
	eventually(t, d, "node-a gone", func(c *svcnet.Cluster) bool { return len(c.Nodes()) == 0 })

	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, errs)
	require.Zero(t, d.Stats().Failed)
}

// TestResync checks that a resync changes nothing in the Cluster, and
// that an object the Cluster refused is tried again at each resync.
func TestResync(t *testing.T) {
	client := fake.NewClientset(node("node-a", "192.168.0.10", "1"), svc("web", "10.96.0.10", "uid-1", "1"),
		pod("web-0", "node-a", "10.244.0.5", true, "1"),
		// Outside the Cluster's 10.96.0.0/16: refused.
		svc("outside", "10.200.0.1", "uid-2", "1"))
	var refused atomic.Int64
	d := start(t, Config{Client: client, Cluster: newCluster(t, false), Resync: time.Second, Errors: func(err error) {
		if errors.Is(err, service.ErrInvalid) {
			refused.Add(1)
		}
	}})
	var gen uint64
	require.NoError(t, d.Do(func(c *svcnet.Cluster) error { gen = c.Generation(); return nil }))
	// Three objects applied; each resync (client-go's minimum period, 1 s)
	// delivers them again.
	waitFor(t, "three resyncs", func() bool { return d.Stats().Skipped >= 9 && refused.Load() >= 3 })
	got := view(t, d, func(c *svcnet.Cluster) []any {
		_, err := c.Service(service.NamespacedName{Namespace: "default", Name: "outside"})
		return []any{c.Generation(), readyAddrs(c, web), errors.Is(err, service.ErrNotFound)}
	})
	require.Equal(t, []any{gen, []string{"10.244.0.5"}, true}, got, "a resync published no new table, and outside stays refused")
	require.GreaterOrEqual(t, d.Stats().Failed, uint64(3))
}

// TestWatchRestart ends the Services watch twice: once cleanly, once
// with 410 Expired, so that the reflector watches again and relists. What
// changed while the watch was down reaches the Cluster.
func TestWatchRestart(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(node("node-a", "192.168.0.10", "1"), svc("old", "10.96.0.20", "uid-old", "1"))
	var (
		mu       sync.Mutex
		watchers []*watch.RaceFreeFakeWatcher
		calls    int
	)
	// The first two watches of Services are the test's own, which no
	// API write reaches; later ones are the fake API's.
	client.PrependWatchReactor("services", func(k8stesting.Action) (bool, watch.Interface, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls > 2 {
			return false, nil, nil
		}
		w := watch.NewRaceFreeFake()
		watchers = append(watchers, w)
		return true, w, nil
	})
	d := start(t, Config{Client: client, Cluster: newCluster(t, false)})
	watcher := func(i int) *watch.RaceFreeFakeWatcher {
		var w *watch.RaceFreeFakeWatcher
		waitFor(t, "watch started", func() bool {
			mu.Lock()
			defer mu.Unlock()
			if len(watchers) > i {
				w = watchers[i]
			}
			return w != nil
		})
		return w
	}
	has := func(c *svcnet.Cluster, name string) bool {
		_, err := c.Service(service.NamespacedName{Namespace: "default", Name: name})
		return err == nil
	}

	// A Service created while the watch delivers nothing.
	_, err := client.CoreV1().Services("default").Create(ctx, svc("gap1", "10.96.0.21", "uid-gap1", "1"), metav1.CreateOptions{})
	require.NoError(t, err)
	require.False(t, view(t, d, func(c *svcnet.Cluster) bool { return has(c, "gap1") }), "no watch delivered it yet")
	watcher(0).Stop()
	eventually(t, d, "gap1 seen after the watch ended", func(c *svcnet.Cluster) bool { return has(c, "gap1") })

	// Deleted and created while the second watch delivers nothing, then
	// the watch expires: the relist finds both.
	w := watcher(1)
	require.NoError(t, client.CoreV1().Services("default").Delete(ctx, "old", metav1.DeleteOptions{}))
	_, err = client.CoreV1().Services("default").Create(ctx, svc("gap2", "10.96.0.22", "uid-gap2", "1"), metav1.CreateOptions{})
	require.NoError(t, err)
	w.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	eventually(t, d, "old gone and gap2 seen after the relist", func(c *svcnet.Cluster) bool {
		return !has(c, "old") && has(c, "gap2") && has(c, "gap1")
	})
	require.Zero(t, d.Stats().Failed)
}

// TestFollow feeds the cluster's own EndpointSlices to the Cluster.
func TestFollow(t *testing.T) {
	ctx := context.Background()
	es := func(rv string, addrs ...string) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: "web-k8s01", Namespace: "default", ResourceVersion: rv, Labels: map[string]string{
				discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr(int32(8080))}},
		}
		for _, a := range addrs {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}, NodeName: ptr("node-a")})
		}
		return s
	}
	// The pod says 10.244.0.5; the cluster's slice says 10.244.0.99:
	// follow mode believes the slice.
	client := fake.NewClientset(node("node-a", "192.168.0.10", "1"), svc("web", "10.96.0.10", "uid-1", "1"),
		pod("web-0", "node-a", "10.244.0.5", true, "1"), es("1", "10.244.0.99"))
	d := start(t, Config{Client: client, Cluster: newCluster(t, true), Mode: Follow})
	backends := func(c *svcnet.Cluster) []string {
		var out []string
		for _, b := range c.Table().Backends(web, "http", service.ProtocolTCP, false) {
			out = append(out, b.Addr.String())
		}
		slices.Sort(out)
		return out
	}
	got := view(t, d, func(c *svcnet.Cluster) []any {
		var names []string
		for _, s := range c.Slices(web) {
			names = append(names, s.Name)
		}
		return []any{names, backends(c)}
	})
	require.Equal(t, []any{[]string{"web-k8s01"}, []string{"10.244.0.99:8080"}}, got)
	_, err := client.DiscoveryV1().EndpointSlices("default").Update(ctx, es("2", "10.244.0.99", "10.244.0.100"), metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually(t, d, "two backends", func(c *svcnet.Cluster) bool {
		return slices.Equal(backends(c), []string{"10.244.0.100:8080", "10.244.0.99:8080"})
	})
	// A pod change changes no slice in follow mode.
	_, err = client.CoreV1().Pods("default").Create(ctx, pod("web-1", "node-a", "10.244.0.6", true, "1"), metav1.CreateOptions{})
	require.NoError(t, err)
	eventually(t, d, "web-1 applied", func(c *svcnet.Cluster) bool {
		_, err := c.Pod(service.NamespacedName{Namespace: "default", Name: "web-1"})
		return err == nil
	})
	require.Equal(t, []string{"10.244.0.100", "10.244.0.99"}, view(t, d, func(c *svcnet.Cluster) []string { return readyAddrs(c, web) }))
	require.NoError(t, client.DiscoveryV1().EndpointSlices("default").Delete(ctx, "web-k8s01", metav1.DeleteOptions{}))
	eventually(t, d, "no backends", func(c *svcnet.Cluster) bool { return len(c.Slices(web)) == 0 && len(backends(c)) == 0 })
	require.Zero(t, d.Stats().Failed)
}

// TestController writes svcnet's slices back, leaves other managers'
// slices alone, and repairs its own slices when someone deletes them.
func TestController(t *testing.T) {
	ctx := context.Background()
	foreign := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "web-foreign", Namespace: "default", ResourceVersion: "1", Labels: map[string]string{
			discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	client := fake.NewClientset(node("node-a", "192.168.0.10", "1"), svc("web", "10.96.0.10", "uid-web", "1"),
		pod("web-0", "node-a", "10.244.0.5", true, "1"), pod("web-1", "node-a", "10.244.0.6", true, "1"), foreign)
	d := start(t, Config{Client: client, Cluster: newCluster(t, false), Mode: Controller})
	api := client.DiscoveryV1().EndpointSlices("default")
	ours := func() []discoveryv1.EndpointSlice {
		l, err := api.List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelManagedBy + "=" + DefaultManagedBy})
		require.NoError(t, err)
		return l.Items
	}
	addrs := func(ss []discoveryv1.EndpointSlice) []string {
		var out []string
		for _, s := range ss {
			for _, e := range s.Endpoints {
				out = append(out, e.Addresses...)
			}
		}
		slices.Sort(out)
		return out
	}
	waitFor(t, "svcnet's slice written", func() bool { return slices.Equal(addrs(ours()), []string{"10.244.0.5", "10.244.0.6"}) })
	s := ours()[0]
	require.Equal(t, "web", s.Labels[discoveryv1.LabelServiceName])
	require.Len(t, s.OwnerReferences, 1)
	require.Equal(t, types.UID("uid-web"), s.OwnerReferences[0].UID)
	require.Equal(t, "Service", s.OwnerReferences[0].Kind)
	require.Equal(t, []discoveryv1.EndpointPort{{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr(int32(8080))}}, s.Ports)
	// The API's slice is the Cluster's.
	names := view(t, d, func(c *svcnet.Cluster) []string {
		var out []string
		for _, s := range c.Slices(web) {
			out = append(out, s.Name)
		}
		return out
	})
	require.Equal(t, []string{s.Name}, names)

	require.NoError(t, client.CoreV1().Pods("default").Delete(ctx, "web-1", metav1.DeleteOptions{}))
	waitFor(t, "web-1 out of the written slice", func() bool { return slices.Equal(addrs(ours()), []string{"10.244.0.5"}) })

	// Someone deletes svcnet's slice: it is written again.
	require.NoError(t, api.Delete(ctx, s.Name, metav1.DeleteOptions{}))
	waitFor(t, "the slice written again", func() bool { return slices.Equal(addrs(ours()), []string{"10.244.0.5"}) })

	require.NoError(t, client.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}))
	waitFor(t, "svcnet's slices deleted with their Service", func() bool { return len(ours()) == 0 })
	got, err := api.Get(ctx, "web-foreign", metav1.GetOptions{})
	require.NoError(t, err, "another manager's slice is never deleted")
	require.Equal(t, foreign.Labels, got.Labels)
	require.Zero(t, d.Stats().Failed)
	require.NotZero(t, d.Stats().Writes)
}

func TestNewErrors(t *testing.T) {
	client := fake.NewClientset()
	for _, cfg := range []Config{
		{Cluster: newCluster(t, false)},
		{Client: client},
		{Client: client, Cluster: newCluster(t, false), Mode: Follow},
		{Client: client, Cluster: newCluster(t, true), Mode: Compute},
		{Client: client, Cluster: newCluster(t, true), Mode: Controller},
		{Client: client, Cluster: newCluster(t, false), Mode: 7},
		{Client: client, Cluster: newCluster(t, false), Resync: -time.Second},
	} {
		_, err := New(cfg)
		require.ErrorIs(t, err, ErrConfig, "%+v", cfg)
	}
	for _, m := range []Mode{Compute, Follow, Controller} {
		got, err := ParseMode(m.String())
		require.NoError(t, err)
		require.Equal(t, m, got)
	}
	_, err := ParseMode("mirror")
	require.ErrorIs(t, err, ErrConfig)
}

func TestDoAfterStop(t *testing.T) {
	d, err := New(Config{Client: fake.NewClientset(), Cluster: newCluster(t, false)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, d.Run(ctx), context.Canceled)
	require.ErrorIs(t, d.Do(func(*svcnet.Cluster) error { return nil }), ErrStopped)
	require.ErrorIs(t, d.Run(context.Background()), ErrConfig, "Run twice")
}

func ptr[T any](v T) *T { return &v }

// TestControllerCreateConflict makes the API refuse svcnet's first slice
// create with AlreadyExists, as when the cache has not seen a slice the
// driver just wrote (the API has it, the same), or when another manager
// has a slice of that name (left alone, and reported).
func TestControllerCreateConflict(t *testing.T) {
	for _, tc := range []struct {
		name, manager string
		wantFailed    bool
	}{
		{"stale cache", DefaultManagedBy, false},
		{"another manager", "someone-else", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(node("node-a", "192.168.0.10", "1"), svc("web", "10.96.0.10", "uid-web", "1"),
				pod("web-0", "node-a", "10.244.0.5", true, "1"))
			gvr := discoveryv1.SchemeGroupVersion.WithResource("endpointslices")
			var once sync.Once
			client.PrependReactor("create", "endpointslices", func(a k8stesting.Action) (bool, runtime.Object, error) {
				handled := false
				var err error
				once.Do(func() {
					s := a.(k8stesting.CreateAction).GetObject().(*discoveryv1.EndpointSlice).DeepCopy()
					s.Labels[discoveryv1.LabelManagedBy] = tc.manager
					// Straight into the store, behind the informers'
					// backs: they see it as a new object later.
					require.NoError(t, client.Tracker().Create(gvr, s, s.Namespace))
					handled, err = true, apierrors.NewAlreadyExists(gvr.GroupResource(), s.Name)
				})
				return handled, nil, err
			})
			var reported atomic.Value
			d := start(t, Config{Client: client, Cluster: newCluster(t, false), Mode: Controller, Errors: func(err error) { reported.Store(err.Error()) }})
			list := func() []discoveryv1.EndpointSlice {
				l, err := client.DiscoveryV1().EndpointSlices("default").List(context.Background(), metav1.ListOptions{})
				require.NoError(t, err)
				return l.Items
			}
			if tc.wantFailed {
				waitFor(t, "the conflict reported", func() bool { return d.Stats().Failed > 0 })
				require.Contains(t, reported.Load(), `taken by a slice managed by "someone-else"`)
				l := list()
				require.Len(t, l, 1)
				require.Equal(t, "someone-else", l[0].Labels[discoveryv1.LabelManagedBy], "left alone")
				return
			}
			waitFor(t, "the slice in the API", func() bool { return len(list()) == 1 && d.Stats().Writes > 0 })
			require.Zero(t, d.Stats().Failed)
			require.Equal(t, []string{"10.244.0.5"}, list()[0].Endpoints[0].Addresses)
		})
	}
}

// TestLoadBalancerStatus carries a LoadBalancer Service's ingress, as the
// cloud's controller wrote it, into the Cluster, and follows its change.
func TestLoadBalancerStatus(t *testing.T) {
	ctx := context.Background()
	lbSvc := func(rv string, ips ...string) *corev1.Service {
		s := svc("edge", "10.96.0.40", "uid-edge", rv)
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Spec.Ports[0].NodePort = 30080
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		return s
	}
	client := fake.NewClientset(node("node-a", "192.168.0.10", "1"), lbSvc("1"))
	d := start(t, Config{Client: client, Cluster: newCluster(t, false)})
	edge := service.NamespacedName{Namespace: "default", Name: "edge"}
	ingress := func(c *svcnet.Cluster) []string {
		s, err := c.Service(edge)
		if err != nil {
			return []string{"error: " + err.Error()}
		}
		var out []string
		for _, i := range s.Status.LoadBalancer.Ingress {
			out = append(out, i.IP)
		}
		return out
	}
	require.Empty(t, view(t, d, ingress), "pending: no ingress yet")
	_, err := client.CoreV1().Services("default").UpdateStatus(ctx, lbSvc("2", "203.0.113.10"), metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually(t, d, "the ingress carried", func(c *svcnet.Cluster) bool { return slices.Equal(ingress(c), []string{"203.0.113.10"}) })
	got := view(t, d, func(c *svcnet.Cluster) []any {
		s, _ := c.Service(edge)
		return []any{s.Spec.ClusterIP, s.Spec.Ports[0].NodePort}
	})
	require.Equal(t, []any{"10.96.0.40", int32(30080)}, got, "the API's clusterIP and nodePort kept")
	_, err = client.CoreV1().Services("default").UpdateStatus(ctx, lbSvc("3"), metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually(t, d, "the ingress gone", func(c *svcnet.Cluster) bool { return len(ingress(c)) == 0 })
	require.Zero(t, d.Stats().Failed)
}
