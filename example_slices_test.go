package svcnet_test

import (
	"errors"
	"fmt"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/service"
)

// A Service without a selector (a database outside the cluster) gets its
// endpoints from a slice someone else manages: Apply applies the
// EndpointSlice document with ApplyEndpointSlice, and the proxies and the
// DNS use it as kube-proxy and CoreDNS do. A slice claiming the
// controller's managed-by value is refused: the controller computes
// those (without Config.ExternalSlices).
func ExampleCluster_ApplyEndpointSlice() {
	c := newCluster(true)
	_, err := c.Apply([]byte(`
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {ports: [{name: pg, port: 5432}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, labels: {kubernetes.io/service-name: db, endpointslice.kubernetes.io/managed-by: staff}}
addressType: IPv4
endpoints: [{addresses: [192.0.2.50]}]
ports: [{name: pg, port: 5432}]
`))
	fmt.Println(err)
	tr, _ := c.Dial(svcnet.FromPod("default", "client"), "db:5432")
	fmt.Println(tr.Route.Backend.Addr)

	sl := c.Slices(service.NamespacedName{Namespace: "default", Name: "db"})[0].DeepCopy()
	sl.Name = "db-2"
	sl.Labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io"
	_, err = c.ApplyEndpointSlice(sl)
	fmt.Println(errors.Is(err, service.ErrInvalid))
	// Output:
	// <nil>
	// 192.0.2.50:5432
	// true
}
