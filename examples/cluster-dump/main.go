// Command cluster-dump simulates the cluster of dump.yaml: what `kubectl
// get svc,endpointslices,pods,nodes,deploy,sts,ds,rs -A -o yaml` wrote of a
// dual-stack cluster of four nodes in three zones (kube-dns and CoreDNS,
// two externalTrafficPolicy Local LoadBalancers, a StatefulSet behind a
// headless Service, DaemonSets, a Service without a selector and its own
// EndpointSlice). It imports the dump as svcsim import does, prints the
// import report's summary, runs the cluster for 30 s of simulated time
// with clients of the frontend, and prints the Services and the shop's
// EndpointSlices then, as kubectl would.
//
//	go run ./examples/cluster-dump
//
// The same with the CLI:
//
//	svcsim import examples/cluster-dump/dump.yaml -o /tmp/s.yaml
//	svcsim get svc -A --at 30s /tmp/s.yaml
package main

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	svcnet "github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/sim"
)

//go:embed dump.yaml
var dump []byte

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	res, err := sim.Import(sim.ScenarioSource{Name: "dump.yaml", Data: dump})
	if err != nil {
		return err
	}
	summary, _, _ := strings.Cut(res.Report.String(), "\n")
	fmt.Fprintln(w, summary)
	s := res.Scenario
	s.Traffic = []sim.TrafficSpec{{Service: "shop/frontend", Rate: 50}}
	st, err := sim.StateAt(s, 30*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n$ kubectl get svc -A")
	if err := svcnet.PrintServices(w, st.Cluster.Services(""), st.Now, svcnet.PrintOptions{AllNamespaces: true}); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n$ kubectl get endpointslices -n shop")
	return st.Cluster.PrintEndpointSlices(w, "shop")
}
