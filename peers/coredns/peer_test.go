package coredns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/kubernetes"
	"github.com/coredns/coredns/plugin/kubernetes/object"
	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"

	"github.com/svcnet/svcnet/dnsname"
	svcdns "github.com/svcnet/svcnet/dnsserver"
)

// fakeAPI is the kubernetes plugin's API connection over fixed objects,
// trimmed by CoreDNS's own converters and indexed as its informers index
// them (plugin/kubernetes/controller.go: svcNameNamespaceIndexFunc,
// svcIPIndexFunc, epNameNamespaceIndexFunc, epIPIndexFunc,
// podIPIndexFunc).
type fakeAPI struct {
	svcs    []*object.Service
	eps     []*object.Endpoints
	svcKey  map[string][]*object.Service
	svcIP   map[string][]*object.Service
	svcExt  map[string][]*object.Service
	epKey   map[string][]*object.Endpoints
	epIP    map[string][]*object.Endpoints
	podIP   map[string][]*object.Pod
	nsByKey map[string]*object.Namespace
}

func newFakeAPI(w *world) (*fakeAPI, error) {
	f := &fakeAPI{svcKey: map[string][]*object.Service{}, svcIP: map[string][]*object.Service{}, svcExt: map[string][]*object.Service{},
		epKey: map[string][]*object.Endpoints{}, epIP: map[string][]*object.Endpoints{}, podIP: map[string][]*object.Pod{}, nsByKey: map[string]*object.Namespace{}}
	for _, s := range w.services {
		var api corev1.Service
		if err := convert(s, &api); err != nil {
			return nil, err
		}
		o, err := object.ToService(&api)
		if err != nil {
			return nil, err
		}
		svc := o.(*object.Service)
		f.svcs = append(f.svcs, svc)
		f.svcKey[svc.Index] = append(f.svcKey[svc.Index], svc)
		for _, ip := range svc.ClusterIPs {
			f.svcIP[ip] = append(f.svcIP[ip], svc)
		}
		for _, ip := range svc.ExternalIPs {
			f.svcExt[ip] = append(f.svcExt[ip], svc)
		}
	}
	for _, s := range w.slices {
		var api discovery.EndpointSlice
		if err := convert(s, &api); err != nil {
			return nil, err
		}
		o, err := object.EndpointSliceToEndpoints(&api)
		if err != nil {
			return nil, err
		}
		e := o.(*object.Endpoints)
		f.eps = append(f.eps, e)
		f.epKey[e.Index] = append(f.epKey[e.Index], e)
		for _, ip := range e.IndexIP {
			f.epIP[ip] = append(f.epIP[ip], e)
		}
	}
	for _, p := range w.pods {
		var api corev1.Pod
		if err := convert(p, &api); err != nil {
			return nil, err
		}
		api.Status.Phase = corev1.PodRunning
		o, err := object.ToPod(&api)
		if err != nil {
			return nil, err
		}
		pod := o.(*object.Pod)
		f.podIP[pod.PodIP] = append(f.podIP[pod.PodIP], pod)
	}
	for _, ns := range w.namespaces() {
		o, err := object.ToNamespace(&corev1.Namespace{ObjectMeta: metaName(ns)})
		if err != nil {
			return nil, err
		}
		f.nsByKey[ns] = o.(*object.Namespace)
	}
	return f, nil
}

func (f *fakeAPI) ServiceList() []*object.Service                   { return f.svcs }
func (f *fakeAPI) EndpointsList() []*object.Endpoints               { return f.eps }
func (f *fakeAPI) ServiceImportList() []*object.ServiceImport       { return nil }
func (f *fakeAPI) SvcIndex(k string) []*object.Service              { return f.svcKey[k] }
func (f *fakeAPI) SvcIndexReverse(ip string) []*object.Service      { return f.svcIP[ip] }
func (f *fakeAPI) SvcExtIndexReverse(ip string) []*object.Service   { return f.svcExt[ip] }
func (f *fakeAPI) SvcImportIndex(string) []*object.ServiceImport    { return nil }
func (f *fakeAPI) PodIndex(ip string) []*object.Pod                 { return f.podIP[ip] }
func (f *fakeAPI) EpIndex(k string) []*object.Endpoints             { return f.epKey[k] }
func (f *fakeAPI) EpIndexReverse(ip string) []*object.Endpoints     { return f.epIP[ip] }
func (f *fakeAPI) McEpIndex(string) []*object.MultiClusterEndpoints { return nil }
func (f *fakeAPI) GetNodeByName(context.Context, string) (*corev1.Node, error) {
	return nil, errors.New("no nodes")
}
func (f *fakeAPI) GetNamespaceByName(name string) (*object.Namespace, error) {
	if ns, ok := f.nsByKey[name]; ok {
		return ns, nil
	}
	return nil, fmt.Errorf("namespace %q not found", name)
}
func (f *fakeAPI) Run()                                   {}
func (f *fakeAPI) HasSynced() bool                        { return true }
func (f *fakeAPI) Stop() error                            { return nil }
func (f *fakeAPI) Modified(kubernetes.ModifiedMode) int64 { return 1 }

// coreDNS builds CoreDNS's server with the kubernetes plugin over w.
// pods is the "pods" option: "disabled", "insecure" or "verified".
func coreDNS(w *world, pods string) (*dnsserver.Server, error) {
	c := caddy.NewTestController("dns", "kubernetes cluster.local in-addr.arpa ip6.arpa {\n pods "+pods+"\n}")
	c.Next()
	k, err := kubernetes.ParseStanza(c)
	if err != nil {
		return nil, err
	}
	api, err := newFakeAPI(w)
	if err != nil {
		return nil, err
	}
	k.APIConn = api
	var group []*dnsserver.Config
	for _, z := range []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa."} {
		cfg := &dnsserver.Config{Zone: z, Port: "0", Transport: "dns"}
		cfg.AddPlugin(func(next plugin.Handler) plugin.Handler { k.Next = next; return k })
		group = append(group, cfg)
	}
	return dnsserver.NewServer("dns://127.0.0.1:0", group)
}

// serveCoreDNS starts CoreDNS on 127.0.0.1:0 over UDP until the test
// ends and returns the address.
func serveCoreDNS(t testing.TB, w *world, pods string) string {
	s, err := coreDNS(w, pods)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.ServePacket(pc) }()
	t.Cleanup(func() { _ = s.Stop(); pc.Close() })
	return pc.LocalAddr().String()
}

// serveSvcnet starts svcnet's server on 127.0.0.1:0 (UDP and TCP).
func serveSvcnet(t testing.TB, w *world, pods dnsname.PodMode) (*svcdns.Server, string) {
	r, err := w.svcnetResolver(pods)
	if err != nil {
		t.Fatal(err)
	}
	s, err := svcdns.New(svcdns.Config{Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx, pc, nil); close(done) }()
	t.Cleanup(func() { cancel(); <-done; pc.Close() })
	return s, pc.LocalAddr().String()
}

var podModes = map[string]dnsname.PodMode{"disabled": dnsname.PodsDisabled, "insecure": dnsname.PodsInsecure, "verified": dnsname.PodsVerified}
