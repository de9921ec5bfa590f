package service_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/service"
)

func ExampleRegistry() {
	// A bare-metal cluster: ClusterIPs from 10.0.0.0/16, LoadBalancer
	// addresses from a small pool, a fake clock and a seeded source.
	pool, err := service.NewPoolProvider(service.PoolProviderConfig{
		Ranges: []ipam.Range{ipam.MustParseRange("192.0.2.127-192.0.2.130")},
	})
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	reg, err := service.NewRegistry(service.RegistryConfig{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")},
		LoadBalancer: pool,
		Rand:         rand.New(rand.NewPCG(1, 2)),
		Clock:        func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}

	obj, err := service.Decode([]byte(`
apiVersion: v1
kind: Service
metadata: {name: my-service}
spec:
  type: LoadBalancer
  selector: {app.kubernetes.io/name: MyApp}
  ports: [{port: 80, targetPort: 9376, nodePort: 30007}]
`))
	if err != nil {
		panic(err)
	}
	ch, err := reg.Create(obj.(*service.Service))
	if err != nil {
		panic(err)
	}
	svc := ch.New
	fmt.Println(ch.Type, svc.ResourceVersion, svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort, svc.Status.LoadBalancer.Ingress[0].IP)

	// A second Service may not take the same nodePort.
	other := obj.(*service.Service).DeepCopy()
	other.Name = "other"
	_, err = reg.Create(other)
	fmt.Println(err)

	// Turning the first into a ClusterIP Service releases its nodePort and
	// its load balancer.
	svc.Spec.Type = service.ServiceTypeClusterIP
	ch, err = reg.Update(svc)
	if err != nil {
		panic(err)
	}
	fmt.Println(ch.Type, ch.Old.Spec.Ports[0].NodePort, "->", ch.New.Spec.Ports[0].NodePort, pool.Allocated())

	now = now.Add(5 * time.Minute)
	// The kubectl get tables live in the root package, beside the
	// EndpointSlice printer.
	if err := svcnet.PrintServices(os.Stdout, reg.List("", service.Everything()), now, svcnet.PrintOptions{Wide: true}); err != nil {
		panic(err)
	}
	// Output:
	// added 1 10.0.2.227 30007 192.0.2.127
	// service: invalid Service "default/other": spec.ports[0].nodePort: invalid value 30007: provided port is already allocated
	// modified 30007 -> 0 []
	// NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE   SELECTOR
	// my-service   ClusterIP   10.0.2.227   <none>        80/TCP    5m    app.kubernetes.io/name=MyApp
}
