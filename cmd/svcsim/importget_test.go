package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
	"github.com/svcnet/svcnet/sim"
	"sigs.k8s.io/yaml"
)

const smallDump = "testdata/small-dump.yaml"

// importSmall imports the small dump into a scenario file.
func importSmall(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "s.yaml")
	code, stdout, stderr := svcsim(t, nil, "import", smallDump, "-o", out)
	require.Equal(t, exitOK, code, stderr)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "wrote "+out)
	return out
}

func TestImportCommand(t *testing.T) {
	out := importSmall(t)
	// The report, on stderr: what was kept, what the Deployment makes.
	_, stdout, stderr := svcsim(t, nil, "import", smallDump)
	require.True(t, strings.HasPrefix(stdout, "apiVersion: "+sim.APIVersion+"\n"), stdout)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, string(written), stdout, "-o and stdout write the same")
	require.Contains(t, stderr, "kept             Service shop/web: LoadBalancer, clusterIPs 10.100.12.34, nodePorts 31080, healthCheckNodePort 32100")
	require.Contains(t, stderr, "dropped          Pod shop/web-7c9f8d6b54-9qrst: made by Deployment shop/web")
	require.NotContains(t, stdout, "resourceVersion")
	require.NotContains(t, stdout, "uid:")

	s, err := sim.ReadScenarioFiles(out)
	require.NoError(t, err)
	require.Len(t, s.Services, 2)
	require.Len(t, s.Deployments, 1)
	require.Empty(t, s.Pods, "the Deployment's pods are its own")
	code, _, stderr := svcsim(t, nil, "run", "-q", "-out", "", "-duration", "10s", out)
	require.Equal(t, exitOK, code, stderr)

	code, _, stderr = svcsim(t, nil, "import")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "import needs a dump")
	code, _, stderr = svcsim(t, nil, "import", "testdata/bad-list.yaml")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "testdata/bad-list.yaml: document 1 (line 3): items[1] (line 12)")
	code, _, _ = svcsim(t, nil, "import", "testdata/nonexistent.yaml")
	require.Equal(t, exitUsage, code)
}

// fieldsOf splits a table's lines into their columns (kubectl's tab
// writer pads with spaces; no cell here has a space).
func fieldsOf(out string) [][]string {
	var rows [][]string
	for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// TestGetTables: the columns are kubectl's (printService, printPod,
// printNode, printEndpointSlice in pkg/printers/internalversion), the
// values the cluster's at the time asked, AGE measured from time 0.
func TestGetTables(t *testing.T) {
	f := importSmall(t)
	code, stdout, stderr := svcsim(t, nil, "get", "svc", "-A", "--at", "5s", f)
	require.Equal(t, exitOK, code, stderr)
	rows := fieldsOf(stdout)
	require.Equal(t, []string{"NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}, rows[0])
	require.Equal(t, []string{"kube-system", "kube-dns", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP,9153/TCP", "5s"}, rows[1])
	require.Equal(t, []string{"shop", "web", "LoadBalancer", "10.100.12.34"}, rows[2][:4])
	require.Equal(t, "80:31080/TCP", rows[2][5])

	code, stdout, stderr = svcsim(t, nil, "get", "services", "-o", "wide", f)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"}, fieldsOf(stdout)[0])
	require.Len(t, fieldsOf(stdout), 1, "nothing in namespace default")

	code, stdout, stderr = svcsim(t, nil, "get", "pods", "-n", "shop", "--at", "1m", f)
	require.Equal(t, exitOK, code, stderr)
	rows = fieldsOf(stdout)
	require.Equal(t, []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}, rows[0])
	require.Len(t, rows, 3, "the Deployment's 2 replicas")
	for _, r := range rows[1:] {
		require.True(t, strings.HasPrefix(r[0], "web-"), r[0])
		require.Equal(t, []string{"1/1", "Running", "0", "60s"}, r[1:])
	}
	code, stdout, stderr = svcsim(t, nil, "get", "po", "-n", "shop", "-o", "wide", f)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"}, fieldsOf(stdout)[0])

	code, stdout, stderr = svcsim(t, nil, "get", "nodes", f)
	require.Equal(t, exitOK, code, stderr)
	rows = fieldsOf(stdout)
	require.Equal(t, []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"}, rows[0])
	require.Equal(t, []string{"cp-1", "Ready", "control-plane", "0s", "v1.37.1"}, rows[1])
	require.Equal(t, []string{"worker-a", "Ready", "<none>", "0s", "v1.37.1"}, rows[2])

	code, stdout, stderr = svcsim(t, nil, "get", "endpointslices", "-n", "shop", f)
	require.Equal(t, exitOK, code, stderr)
	rows = fieldsOf(stdout)
	require.Equal(t, []string{"NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"}, rows[0])
	require.Len(t, rows, 2)
	require.Equal(t, "IPv4", rows[1][1])
	require.Equal(t, "8080", rows[1][2], "the pods' http port, the Service's targetPort")
	require.Len(t, strings.Split(rows[1][3], ","), 2)
}

// TestGetObjects: -o yaml and -o json write a v1 List of Kubernetes
// objects that svcnet's decoder reads back.
func TestGetObjects(t *testing.T) {
	f := importSmall(t)
	code, y, stderr := svcsim(t, nil, "get", "svc", "-n", "shop", "-o", "yaml", f)
	require.Equal(t, exitOK, code, stderr)
	code, j, stderr := svcsim(t, nil, "get", "svc", "-n", "shop", "-o", "json", f)
	require.Equal(t, exitOK, code, stderr)
	var fromYAML, fromJSON map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(y), &fromYAML))
	require.NoError(t, json.Unmarshal([]byte(j), &fromJSON))
	require.Equal(t, fromJSON, fromYAML)
	objs, err := service.DecodeAll([]byte(y))
	require.NoError(t, err)
	require.Len(t, objs, 1)
	web := objs[0].(*service.Service)
	require.Equal(t, "10.100.12.34", web.Spec.ClusterIP)
	require.EqualValues(t, 32100, web.Spec.HealthCheckNodePort)
	require.Len(t, web.Status.LoadBalancer.Ingress, 1, "with its status")

	code, y, stderr = svcsim(t, nil, "get", "endpointslices", "-A", "-o", "yaml", f)
	require.Equal(t, exitOK, code, stderr)
	var l struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(y), &l))
	require.Len(t, l.Items, 2, "web's and kube-dns's (its placeholder, no endpoints)")
	for _, it := range l.Items {
		require.Equal(t, "discovery.k8s.io/v1", it["apiVersion"])
		require.Equal(t, "EndpointSlice", it["kind"])
	}
}

func TestGetProxy(t *testing.T) {
	f := importSmall(t)
	code, stdout, stderr := svcsim(t, nil, "get", "proxy", "worker-a", f)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "add table ip kube-proxy")
	// Every node's rules hold every Service's NodePort (kube-proxy's
	// service-nodeports map) and ClusterIP (service-ips), wherever the
	// endpoints run.
	require.Contains(t, stdout, "31080")
	require.Contains(t, stdout, "10.100.12.34")
	code, _, stderr = svcsim(t, nil, "get", "proxy", "no-such-node", f)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, `"no-such-node"`)
}

func TestGetErrors(t *testing.T) {
	f := importSmall(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get"}, "get needs a kind"},
		{[]string{"get", "deployments", f}, `unknown kind "deployments"`},
		{[]string{"get", "svc"}, "get needs scenario files"},
		{[]string{"get", "svc", "-A", "-n", "x", f}, "give one"},
		{[]string{"get", "svc", "-o", "table", f}, `-o "table"`},
		{[]string{"get", "svc", "--at", "2m", f}, "after the scenario's end"},
		{[]string{"get", "svc", "--at", "soon", f}, `--at "soon"`},
		{[]string{"get", "proxy"}, "needs a node name"},
		{[]string{"get", "proxy", "worker-a", "-o", "yaml", f}, "-o does not apply"},
	} {
		code, _, stderr := svcsim(t, nil, tc.args...)
		require.Equal(t, exitUsage, code, "%v: %s", tc.args, stderr)
		require.Contains(t, stderr, tc.want, "%v", tc.args)
	}
}

// TestGetProxies: at time 0 every proxy has applied the newest table
// (the steady state) and has the same frontends: each Service's
// ClusterIP port, and for the LoadBalancer its NodePort on each node
// address and its ingress.
func TestGetProxies(t *testing.T) {
	f := importSmall(t)
	code, stdout, stderr := svcsim(t, nil, "get", "proxies", f)
	require.Equal(t, exitOK, code, stderr)
	rows := fieldsOf(stdout)
	require.Equal(t, []string{"NODE", "GENERATION", "BEHIND", "FRONTENDS"}, rows[0])
	require.Len(t, rows, 4)
	for _, r := range rows[1:] {
		require.Equal(t, "0", r[2], "%v: in sync at time 0", r)
		require.Equal(t, rows[1][1], r[1])
		require.Equal(t, rows[1][3], r[3])
	}
	code, _, stderr = svcsim(t, nil, "get", "proxies", "-o", "yaml", f)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "prints a table")
}
