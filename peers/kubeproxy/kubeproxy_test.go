//go:build linux

package kubeproxy

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	kubeproxyconfig "k8s.io/kubernetes/pkg/proxy/apis/config"
	kpnft "k8s.io/kubernetes/pkg/proxy/nftables"
	proxyutil "k8s.io/kubernetes/pkg/proxy/util"
	"k8s.io/utils/ptr"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/proxy/nftables"
	"github.com/svcnet/svcnet/service"
)

// The shape of both sides: 10 000 Services with 10 ready endpoints each,
// the first 2 000 NodePort Services, one node (node-0).
const (
	nServices  = 10000 // the benchmarks; TestTransactionSizes uses 2 000
	nEndpoints = 10
	nodeName   = "node-0"
	nodeIP     = "192.168.50.1"
	podCIDR    = "10.0.0.0/8"
)

func names(i int) (svc string, clusterIP string) {
	return fmt.Sprintf("svc-%d", i), fmt.Sprintf("172.30.%d.%d", i/250, i%250+1)
}

func endpointAddr(i, j int) string {
	k := i*nEndpoints + j
	return fmt.Sprintf("10.%d.%d.%d", 100+k/65536, k/256%256, k%256)
}

// kubeObjects returns the Services and slices as Kubernetes objects;
// drop removes the first endpoint of Service drop (-1 for none).
func kubeObjects(n, drop int) ([]*v1.Service, []*discovery.EndpointSlice) {
	var svcs []*v1.Service
	var slices []*discovery.EndpointSlice
	for i := range n {
		name, ip := names(i)
		s := &v1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip}, IPFamilies: []v1.IPFamily{v1.IPv4Protocol},
				Ports: []v1.ServicePort{{Name: "p", Protocol: v1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
		if i < 2000 {
			s.Spec.Type, s.Spec.Ports[0].NodePort = v1.ServiceTypeNodePort, int32(30000+i)
			s.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyCluster
		}
		svcs = append(svcs, s)
		sl := &discovery.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: "default",
			Labels: map[string]string{discovery.LabelServiceName: name}},
			AddressType: discovery.AddressTypeIPv4,
			Ports:       []discovery.EndpointPort{{Name: ptr.To("p"), Protocol: ptr.To(v1.ProtocolTCP), Port: ptr.To(int32(8080))}}}
		for j := range nEndpoints {
			if i == drop && j == 0 {
				continue
			}
			sl.Endpoints = append(sl.Endpoints, discovery.Endpoint{Addresses: []string{endpointAddr(i, j)},
				Conditions: discovery.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
				NodeName:   ptr.To(fmt.Sprintf("node-%d", (i*nEndpoints+j)%7))})
		}
		slices = append(slices, sl)
	}
	return svcs, slices
}

// svcnetTable returns the same Services and slices as a proxy.Table.
func svcnetTable(t testing.TB, n, drop int) *proxy.Table {
	b := proxy.NewTable().Builder()
	for i := range n {
		name, ip := names(i)
		s := &service.Service{ObjectMeta: service.ObjectMeta{Name: name, Namespace: "default"},
			Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
				Ports: []service.ServicePort{{Name: "p", Protocol: service.ProtocolTCP, Port: 80, TargetPort: service.FromInt(8080)}}}}
		if i < 2000 {
			s.Spec.Type, s.Spec.Ports[0].NodePort = service.ServiceTypeNodePort, int32(30000+i)
		}
		service.Default(s)
		require.NoError(t, b.UpsertService(s))
		sl := &endpoints.Slice{AddressType: endpoints.AddressTypeIPv4, Ports: []endpoints.Port{{Name: "p", Protocol: service.ProtocolTCP, Port: 8080}}}
		sl.Name, sl.Namespace = name+"-1", "default"
		for j := range nEndpoints {
			if i == drop && j == 0 {
				continue
			}
			sl.Endpoints = append(sl.Endpoints, &endpoints.Endpoint{Addresses: []netip.Addr{netip.MustParseAddr(endpointAddr(i, j))},
				NodeName: fmt.Sprintf("node-%d", (i*nEndpoints+j)%7), Conditions: endpoints.Conditions{Ready: true, Serving: true}})
		}
		b.ApplySlices([]endpoints.Change{{Kind: endpoints.Created, Service: s.Key(), Slice: sl}})
	}
	return b.Build()
}

func svcnetConfig() nftables.Config {
	return nftables.Config{PodCIDRs: []netip.Prefix{netip.MustParsePrefix(podCIDR)}}
}

func svcnetView(t testing.TB) *proxy.Proxy {
	p, err := proxy.NewProxy(proxy.ProxyConfig{NodeName: nodeName, NodeAddresses: []netip.Addr{netip.MustParseAddr(nodeIP)},
		ClusterPrefixes: []netip.Prefix{netip.MustParsePrefix(podCIDR)}})
	require.NoError(t, err)
	return p
}

func newKubeProxy(t testing.TB) *kpnft.Proxier {
	cfg := &kubeproxyconfig.KubeProxyConfiguration{
		SyncPeriod: metav1.Duration{Duration: time.Hour}, MinSyncPeriod: metav1.Duration{Duration: time.Second},
		NFTables: kubeproxyconfig.KubeProxyNFTablesConfiguration{MasqueradeBit: ptr.To[int32](14)},
	}
	p, err := kpnft.NewProxier(context.Background(), cfg, v1.IPv4Protocol, proxyutil.NewDetectLocalByCIDR(podCIDR),
		nodeName, net.ParseIP(nodeIP), events.NewFakeRecorder(100), nil, false)
	require.NoError(t, err)
	return p
}

// hostTables lists the nftables tables of the host's namespace, which
// the benchmarks must leave alone.
func hostTables() string {
	out, _ := exec.Command("nft", "list", "tables").CombinedOutput()
	return string(out)
}

const inNetnsEnv = "SVCNET_PEER_NETNS"

// TestMain runs the tests and benchmarks of this package inside a
// network namespace of their own: the test binary re-executes itself
// under "ip netns exec", so that every thread of kube-proxy's proxier
// (its nft runs and its netlink listing alike) sees that namespace and
// never the host's. Without root, ip or nft the tests skip (fail under
// SVCNET_REQUIRE_NETNS=1) in requireNetns.
func TestMain(m *testing.M) {
	if os.Getenv(inNetnsEnv) != "" || os.Geteuid() != 0 || !haveTools() {
		os.Exit(m.Run())
	}
	ns := fmt.Sprintf("svcnet-peer-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "ip netns add: %v\n%s", err, out)
		os.Exit(1)
	}
	before := hostTables()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, os.Args[0]}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), inNetnsEnv+"="+ns)
	err := cmd.Run()
	code := 0
	if err != nil {
		code = 1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "ip netns del: %v\n%s", err, out)
		code = 1
	}
	if after := hostTables(); after != before {
		fmt.Fprintf(os.Stderr, "the host's nftables tables changed:\nbefore:\n%s\nafter:\n%s", before, after)
		code = 1
	}
	os.Exit(code)
}

func haveTools() bool {
	for _, t := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(t); err != nil {
			return false
		}
	}
	return true
}

// requireNetns skips (or fails, under SVCNET_REQUIRE_NETNS=1) unless the
// process runs in the namespace TestMain made.
func requireNetns(t testing.TB) {
	if os.Getenv(inNetnsEnv) != "" {
		return
	}
	why := "kube-proxy's proxier needs root and nft, and runs only in a network namespace of its own"
	if os.Getenv("SVCNET_REQUIRE_NETNS") == "1" {
		t.Fatal(why + " (SVCNET_REQUIRE_NETNS=1)")
	}
	t.Skip(why)
}

// inNamespace checks that the benchmark runs in TestMain's namespace.
func inNamespace(b *testing.B, f func(ns string)) {
	requireNetns(b)
	f(os.Getenv(inNetnsEnv))
}

// BenchmarkFullSync compares a full sync of 10 000 Services × 10
// endpoints: kube-proxy's (syncProxyRules building the transaction and
// running nft on it) with svcnet's Render, Render + String, and Render +
// String + nft -f in the kernel.
func BenchmarkFullSync(b *testing.B) {
	inNamespace(b, func(ns string) {
		svcs, slices := kubeObjects(nServices, -1)
		b.Run("kube-proxy", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				kp := newKubeProxy(b)
				for _, s := range svcs {
					kp.OnServiceAdd(s)
				}
				for _, s := range slices {
					kp.OnEndpointSliceAdd(s)
				}
				kp.OnServiceSynced()
				b.StartTimer()
				kp.OnEndpointSlicesSynced() // the first, full, sync
			}
		})
		view := svcnetView(b)
		view.Sync(svcnetTable(b, nServices, -1))
		b.Run("svcnet-render", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := nftables.Render(view, svcnetConfig())
				require.NoError(b, err)
			}
		})
		b.Run("svcnet-render+text", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, _ := nftables.Render(view, svcnetConfig())
				_ = r.String()
			}
		})
		b.Run("svcnet-render+text+nft", func(b *testing.B) {
			for b.Loop() {
				r, _ := nftables.Render(view, svcnetConfig())
				require.NoError(b, nftables.Exec{}.Run(context.Background(), r.String()))
			}
		})
	})
}

// BenchmarkOneEndpoint compares the sync after one endpoint of one
// Service leaves (and comes back, alternately): kube-proxy's partial
// sync, and svcnet's Renderer.Sync, alone and with nft -f of its
// transaction.
func BenchmarkOneEndpoint(b *testing.B) {
	inNamespace(b, func(ns string) {
		const changed = 4321
		svcs, full := kubeObjects(nServices, -1)
		_, dropped := kubeObjects(nServices, changed)
		b.Run("kube-proxy", func(b *testing.B) {
			kp := newKubeProxy(b)
			for _, s := range svcs {
				kp.OnServiceAdd(s)
			}
			for _, s := range full {
				kp.OnEndpointSliceAdd(s)
			}
			kp.OnServiceSynced()
			kp.OnEndpointSlicesSynced()
			i := 0
			for b.Loop() {
				old, next := full[changed], dropped[changed]
				if i%2 == 1 {
					old, next = next, old
				}
				i++
				kp.OnEndpointSliceUpdate(old, next)
				kp.OnEndpointSlicesSynced() // a partial sync: needFullSync is false
			}
		})
		ta, tb := svcnetTable(b, nServices, -1), svcnetTable(b, nServices, changed)
		// Two Tables built separately share nothing; derive the second
		// from the first, as a controller would, so that only the
		// changed Service differs.
		tb = rebaseT(b, ta, tb, changed)
		view := svcnetView(b)
		r, err := nftables.NewRenderer(svcnetConfig())
		require.NoError(b, err)
		view.Sync(ta)
		_, err = r.Sync(view)
		require.NoError(b, err)
		b.Run("svcnet-renderer", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				view.Sync([]*proxy.Table{tb, ta}[i%2])
				i++
				_, err := r.Sync(view)
				require.NoError(b, err)
			}
		})
		view.Sync(ta)
		tx, err := r.Sync(view)
		require.NoError(b, err)
		full0, _ := nftables.Render(view, svcnetConfig())
		require.NoError(b, nftables.Exec{}.Run(context.Background(), full0.String()))
		_ = tx
		b.Run("svcnet-renderer+nft", func(b *testing.B) {
			i := 0
			for b.Loop() {
				view.Sync([]*proxy.Table{tb, ta}[i%2])
				i++
				tx, err := r.Sync(view)
				require.NoError(b, err)
				require.NoError(b, nftables.Exec{}.Run(context.Background(), tx.String()))
			}
		})
	})
}

// TestTransactionSizes compares what each side sends the kernel after
// one endpoint change: kube-proxy's partial-sync transaction (read from
// its V(9) log) and svcnet's Renderer transaction.
func TestTransactionSizes(t *testing.T) {
	requireNetns(t)
	const changed, testServices = 1234, 2000
	svcs, full := kubeObjects(testServices, -1)
	_, dropped := kubeObjects(testServices, changed)
	kp := newKubeProxy(t)
	for _, s := range svcs {
		kp.OnServiceAdd(s)
	}
	for _, s := range full {
		kp.OnEndpointSliceAdd(s)
	}
	kp.OnServiceSynced()
	kp.OnEndpointSlicesSynced()
	var buf bytes.Buffer
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	require.NoError(t, fs.Set("v", "9"))
	require.NoError(t, fs.Set("logtostderr", "false"))
	klog.SetOutput(&buf)
	kp.OnEndpointSliceUpdate(full[changed], dropped[changed])
	kp.OnEndpointSlicesSynced()
	klog.Flush()
	require.NoError(t, fs.Set("v", "0"))
	log := buf.String()
	i := strings.Index(log, "Running nftables transaction")
	require.GreaterOrEqual(t, i, 0, "no transaction logged")
	tx := log[i:]
	if j := strings.Index(tx, "transaction=<\n"); j >= 0 {
		tx = tx[j+len("transaction=<\n"):]
		tx = tx[:strings.Index(tx, "\n >")]
	}
	kpLines := strings.Count(strings.TrimSpace(tx), "\n") + 1
	t.Logf("kube-proxy partial sync transaction (%d lines):\n%s", kpLines, tx)

	ta := svcnetTable(t, testServices, -1)
	tb := rebaseT(t, ta, svcnetTable(t, testServices, changed), changed)
	view := svcnetView(t)
	view.Sync(ta)
	r, err := nftables.NewRenderer(svcnetConfig())
	require.NoError(t, err)
	_, err = r.Sync(view)
	require.NoError(t, err)
	view.Sync(tb)
	stx, err := r.Sync(view)
	require.NoError(t, err)
	t.Logf("svcnet transaction (%d lines):\n%s", stx.Len(), stx)
	require.LessOrEqual(t, stx.Len(), kpLines)
	// svcnet's transaction applies to the kernel after its full ruleset.
	view.Sync(ta)
	rs, err := nftables.Render(view, svcnetConfig())
	require.NoError(t, err)
	require.NoError(t, nftables.Exec{}.Run(context.Background(), rs.String()))
	require.NoError(t, nftables.Exec{}.Run(context.Background(), stx.String()))
}

// rebaseT returns ta with Service i's slice replaced by its slice in tb,
// so that the two Tables share every other Service.
func rebaseT(t testing.TB, ta, tb *proxy.Table, i int) *proxy.Table {
	name, _ := names(i)
	key := service.NamespacedName{Namespace: "default", Name: name}
	bd := ta.Builder()
	sl := &endpoints.Slice{AddressType: endpoints.AddressTypeIPv4, Ports: []endpoints.Port{{Name: "p", Protocol: service.ProtocolTCP, Port: 8080}}}
	sl.Name, sl.Namespace = name+"-1", "default"
	for _, be := range tb.Backends(key, "p", service.ProtocolTCP, false) {
		sl.Endpoints = append(sl.Endpoints, &endpoints.Endpoint{Addresses: []netip.Addr{be.Addr.Addr()}, NodeName: be.Node,
			Conditions: endpoints.Conditions{Ready: true, Serving: true}})
	}
	bd.ApplySlices([]endpoints.Change{{Kind: endpoints.Updated, Service: key, Slice: sl}})
	return bd.Build()
}
