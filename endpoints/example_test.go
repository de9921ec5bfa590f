package endpoints_test

import (
	"errors"
	"fmt"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

func printChanges(changes []endpoints.Change) {
	for _, ch := range changes {
		switch ch.Kind {
		case endpoints.Deleted:
			fmt.Printf("%s %s\n", ch.Kind, ch.Old.Name)
		default:
			fmt.Printf("%s %s gen=%d %s:", ch.Kind, ch.Slice.Name, ch.Slice.Generation, ch.Slice.AddressType)
			for _, ep := range ch.Slice.Endpoints {
				fmt.Printf(" %s(%s ready=%v)", ep.TargetRef.Name, ep.Address(), ep.Conditions.Ready)
			}
			fmt.Println()
		}
	}
}

func pod(name, ip string, ready bool) *service.Pod {
	p := &service.Pod{ObjectMeta: service.ObjectMeta{Namespace: "shop", Name: name, Labels: service.Labels{"app": "web"}}}
	p.Spec.NodeName = "node-1"
	p.Status.Phase = service.PodRunning
	p.Status.PodIP, p.Status.PodIPs = ip, []service.PodIP{{IP: ip}}
	p.SetReady(ready)
	return p
}

// The main flow: a Service gets a placeholder slice, pods fill it, a
// readiness change rewrites the one slice that holds the pod.
func Example() {
	c := endpoints.NewController(endpoints.Config{MaxEndpointsPerSlice: 2})
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: service.ServiceSpec{
			Selector:   service.Labels{"app": "web"},
			ClusterIP:  "10.96.0.10",
			IPFamilies: []service.IPFamily{service.IPv4Protocol},
			Ports:      []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080)}},
		},
	}
	service.Default(svc)

	// Pods on a node the controller does not know get no endpoint.
	c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: "node-1"}})
	changes, _ := c.UpsertService(svc)
	printChanges(changes)
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		changes, _ = c.UpsertPod(pod(fmt.Sprint("web-", i), ip, true))
		printChanges(changes)
	}
	changes, _ = c.UpsertPod(pod("web-1", "10.0.0.2", false))
	printChanges(changes)
	printChanges(c.DeletePod(service.NamespacedName{Namespace: "shop", Name: "web-2"}))
	// Output:
	// created web-pq8tg gen=1 IPv4:
	// updated web-pq8tg gen=2 IPv4: web-0(10.0.0.1 ready=true)
	// updated web-pq8tg gen=3 IPv4: web-0(10.0.0.1 ready=true) web-1(10.0.0.2 ready=true)
	// created web-grqhb gen=1 IPv4: web-2(10.0.0.3 ready=true)
	// updated web-pq8tg gen=4 IPv4: web-0(10.0.0.1 ready=true) web-1(10.0.0.2 ready=false)
	// deleted web-grqhb
}

// A pod whose IP may not be an endpoint is left out, and said so; the
// changes returned with the error still apply.
func ExampleController_UpsertPod_skipped() {
	c := endpoints.NewController(endpoints.Config{})
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:       service.ServiceSpec{Selector: service.Labels{"app": "web"}, ClusterIP: "10.96.0.10"},
	}
	service.Default(svc)
	c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: "node-1"}})
	c.UpsertService(svc)

	changes, err := c.UpsertPod(pod("web-0", "127.0.0.1", true))
	fmt.Println(errors.Is(err, endpoints.ErrEndpointIP))
	fmt.Println(err)
	fmt.Println(len(changes))
	// Output:
	// true
	// endpoints: invalid endpoint IP: pod shop/web-0 skipped: IP "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)
	// 0
}

// A pod on a node the controller does not know yet gets no endpoint, as
// in Kubernetes' reconciler, and the skip is reported; the node brings
// the endpoint, with its zone and, under trafficDistribution
// PreferClose, a hint for it.
func ExampleController_UpsertNode() {
	c := endpoints.NewController(endpoints.Config{})
	close := service.TrafficDistributionPreferClose
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: service.ServiceSpec{
			Selector: service.Labels{"app": "web"}, ClusterIP: "10.96.0.10",
			IPFamilies: []service.IPFamily{service.IPv4Protocol}, TrafficDistribution: &close,
		},
	}
	service.Default(svc)
	c.UpsertService(svc)
	changes, err := c.UpsertPod(pod("web-0", "10.0.0.1", true))
	var nf *endpoints.NodeNotFoundError
	if errors.As(err, &nf) {
		fmt.Println(len(changes), nf.Pod, nf.Node, nf.Service)
	}

	changes, _ = c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{
		Name: "node-1", Labels: service.Labels{service.LabelTopologyZone: "eu-west-1a"},
	}})
	ep := changes[0].Slice.Endpoints[0]
	fmt.Println(ep.TargetRef.Name, ep.NodeName, ep.Zone, ep.Hints.ForZones[0].Name)

	changes, err = c.DeleteNode("node-1")
	fmt.Println(len(changes[0].Slice.Endpoints), errors.Is(err, endpoints.ErrNodeNotFound))
	// Output:
	// 0 shop/web-0 node-1 shop/web
	// web-0 node-1 eu-west-1a eu-west-1a
	// 0 true
}
