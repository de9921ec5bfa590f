package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const webManifest = `apiVersion: v1
kind: Node
metadata: {name: node-1}
status: {addresses: [{type: InternalIP, address: 192.168.1.11}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.20
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: default, labels: {app: web}}
spec:
  nodeName: node-1
  containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]
status: {phase: Running, podIP: 10.244.1.5, podIPs: [{ip: 10.244.1.5}], conditions: [{type: Ready, status: "True"}]}
`

const dbManifest = `apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: 10.96.0.30
  ports: [{name: pg, port: 5432}]
`

func resolverFor(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// TestDNSCommand serves a manifest directory, resolves from it with Go's
// resolver, adds a file and sees the reload, reads the metrics, and
// stops on context end (what SIGINT does).
func TestDNSCommand(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "web.yaml"), []byte(webManifest), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logr, logw := io.Pipe()
	addrs := make(chan [2]string, 1)
	code := make(chan int, 1)
	go func() {
		code <- runDNS(ctx, []string{"-listen", "127.0.0.1:0", "-metrics", "127.0.0.1:0", "-manifests", dir, "-upstreams", "none", "-poll", "10ms"}, io.Discard, logw,
			func(d, m string) { addrs <- [2]string{d, m} })
		logw.Close()
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(logr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	a := <-addrs
	r := resolverFor(a[0])
	ips, err := r.LookupHost(ctx, "web.default.svc.cluster.local.")
	require.NoError(t, err)
	require.Equal(t, []string{"10.96.0.20"}, ips)
	srvs := must(r.LookupSRV(ctx, "http", "tcp", "web.default.svc.cluster.local."))
	require.EqualValues(t, 80, srvs[0].Port)
	_, err = r.LookupHost(ctx, "db.default.svc.cluster.local.")
	require.Error(t, err)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "db.yaml"), []byte(dbManifest), 0o644))
	for l := range lines {
		if strings.Contains(l, "reloaded") {
			break
		}
	}
	ips, err = r.LookupHost(ctx, "db.default.svc.cluster.local.")
	require.NoError(t, err)
	require.Equal(t, []string{"10.96.0.30"}, ips)

	resp, err := http.Get("http://" + a[1] + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), `coredns_dns_requests_total{proto="udp"}`)
	require.Contains(t, string(body), `coredns_dns_responses_total{rcode="NOERROR"}`)
	require.Contains(t, string(body), `coredns_dns_responses_total{rcode="NXDOMAIN"}`)
	require.Contains(t, string(body), `coredns_dns_request_duration_seconds_bucket{le="0.00025"}`)

	cancel()
	require.Equal(t, exitOK, <-code)
	for range lines {
	}
}

func must[T any](_ string, v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, exitUsage, run(context.Background(), nil, &out, &out))
	require.Equal(t, exitUsage, run(context.Background(), []string{"frob"}, &out, &out))
	require.Contains(t, out.String(), `unknown command "frob"`)
	out.Reset()
	require.Equal(t, exitUsage, run(context.Background(), []string{"dns"}, &out, &out))
	require.Contains(t, out.String(), "-manifests DIR is required")
	out.Reset()
	require.Equal(t, exitError, run(context.Background(), []string{"dns", "-manifests", t.TempDir(), "-pods", "maybe"}, &out, &out))
	require.Contains(t, out.String(), `-pods "maybe" is not disabled, insecure or verified`)
}
