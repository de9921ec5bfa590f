package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/kube/informer"
)

func noEnv(string) string { return "" }

func TestParseDNS(t *testing.T) {
	inPod := func(k string) string {
		if k == "KUBERNETES_SERVICE_HOST" {
			return "10.96.0.1"
		}
		return ""
	}
	o, _, ok := parseDNS([]string{"-kubeconfig", "/k/config", "-upstreams", "none"}, env{getenv: noEnv, stderr: &bytes.Buffer{}})
	require.True(t, ok)
	require.Equal(t, source{kubeconfig: "/k/config"}, o.src)
	require.Equal(t, informer.Follow, o.mode, "follow by default")
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}, o.serviceCIDRs)
	require.Nil(t, o.upstreams)

	// In a pod, no flag: in-cluster config; a flag still wins.
	o, _, ok = parseDNS([]string{"-upstreams", "none"}, env{getenv: inPod, stderr: &bytes.Buffer{}})
	require.True(t, ok)
	require.Equal(t, source{}, o.src)
	require.Equal(t, "in-cluster config", o.src.String())
	o, _, ok = parseDNS([]string{"-kubeconfig", "x", "-upstreams", "none"}, env{getenv: inPod, stderr: &bytes.Buffer{}})
	require.True(t, ok)
	require.Equal(t, "kubeconfig x", o.src.String())

	o, _, ok = parseDNS([]string{"-kubeconfig", "x", "-mode", "controller", "-pods", "verified",
		"-service-cidr", "10.96.0.0/16, fd00:96::/108", "-upstreams", "10.0.0.2:53,[fd00::2]:53", "-node-port-range", "31000-31999"},
		env{getenv: noEnv, stderr: &bytes.Buffer{}})
	require.True(t, ok)
	require.Equal(t, informer.Controller, o.mode)
	require.Equal(t, dnsname.PodsVerified, o.pods)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16"), netip.MustParsePrefix("fd00:96::/108")}, o.serviceCIDRs)
	require.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("10.0.0.2:53"), netip.MustParseAddrPort("[fd00::2]:53")}, o.upstreams)
	require.Equal(t, "31000-31999", o.nodePortRange.String())

	// The default upstreams: the resolv.conf's nameservers.
	rc := filepath.Join(t.TempDir(), "resolv.conf")
	require.NoError(t, os.WriteFile(rc, []byte("nameserver 192.0.2.53\n"), 0o644))
	o, _, ok = parseDNS([]string{"-kubeconfig", "x", "-resolv-conf", rc}, env{getenv: noEnv, stderr: &bytes.Buffer{}})
	require.True(t, ok)
	require.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53")}, o.upstreams)

	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{}, "-kubeconfig PATH is required"},
		{[]string{"-kubeconfig", "x", "-mode", "mirror"}, `-mode "mirror"`},
		{[]string{"-kubeconfig", "x", "-pods", "all"}, `-pods "all"`},
		{[]string{"-kubeconfig", "x", "-service-cidr", "10.96.0.0"}, "-service-cidr"},
		{[]string{"-kubeconfig", "x", "-node-port-range", "5-1"}, "-node-port-range"},
		{[]string{"-kubeconfig", "x", "-upstreams", "nowhere"}, "-upstreams"},
		{[]string{"-kubeconfig", "x", "-resync", "-1s"}, "-resync"},
		{[]string{"-kubeconfig", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"-nope"}, "-nope"},
	} {
		var stderr bytes.Buffer
		_, code, ok := parseDNS(c.args, env{getenv: noEnv, stderr: &stderr})
		require.False(t, ok, "%v", c.args)
		require.Equal(t, exitUsage, code, "%v", c.args)
		require.Contains(t, stderr.String(), c.msg, "%v", c.args)
	}
	require.Equal(t, exitUsage, run(context.Background(), nil, env{getenv: noEnv, stderr: &bytes.Buffer{}}))
	require.Equal(t, exitUsage, run(context.Background(), []string{"serve"}, env{getenv: noEnv, stderr: &bytes.Buffer{}}))
}

// TestDNSAgainstFakeCluster runs the dns command against client-go's
// fake clientset and resolves the cluster's names with Go's resolver,
// before and after a change in the API.
func TestDNSAgainstFakeCluster(t *testing.T) {
	ready := func(b bool) *bool { return &b }
	client := fake.NewClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", ResourceVersion: "1"},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.0.10"}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
			Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.20", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default", ResourceVersion: "1"},
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "pg", Port: 5432}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "db-x1", Namespace: "default", ResourceVersion: "1",
			Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.0.7"}, Conditions: discoveryv1.EndpointConditions{Ready: ready(true)}}}},
	)
	var src source
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		code <- run(ctx, []string{"dns", "-kubeconfig", "/fake", "-listen", "127.0.0.1:0", "-upstreams", "none", "-service-cidr", "10.96.0.0/16"}, env{
			getenv: noEnv, stderr: &stderr,
			client: func(s source) (kubernetes.Interface, error) { src = s; return client, nil },
			ready:  func(a string) { addr <- a },
		})
	}()
	var dnsAddr string
	select {
	case dnsAddr = <-addr:
	case c := <-code:
		t.Fatalf("dns exited %d before serving: %s", c, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("dns not serving after 10s")
	}
	require.Equal(t, source{kubeconfig: "/fake"}, src)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	lookup := func(name string) ([]string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a, err := r.LookupHost(ctx, name)
		slices.Sort(a)
		return a, err
	}
	got, err := lookup("web.default.svc.cluster.local.")
	require.NoError(t, err)
	require.Equal(t, []string{"10.96.0.20"}, got)
	// The headless Service's answer is the cluster's slice (follow mode).
	got, err = lookup("db.default.svc.cluster.local.")
	require.NoError(t, err)
	require.Equal(t, []string{"10.244.0.7"}, got)

	// A Service created in the API becomes a name.
	_, err = client.CoreV1().Services("default").Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "default", ResourceVersion: "1"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.30", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	end := time.Now().Add(10 * time.Second)
	for {
		got, err = lookup("api.default.svc.cluster.local.")
		if err == nil {
			break
		}
		var dnsErr *net.DNSError
		require.True(t, errors.As(err, &dnsErr) && dnsErr.IsNotFound, "%v", err)
		require.True(t, time.Now().Before(end), "api not resolvable after 10s")
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, []string{"10.96.0.30"}, got)

	cancel()
	select {
	case c := <-code:
		require.Equal(t, exitOK, c, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("dns did not stop 10s after its context ended")
	}
	require.Contains(t, stderr.String(), "serving cluster.local from kubeconfig /fake (follow mode)")
}
