package informer_test

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/kube/informer"
)

// A Cluster fed by an API (here client-go's fake clientset) answers DNS
// for its Services.
func Example() {
	client := fake.NewClientset(&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	})
	c, err := svcnet.NewCluster(svcnet.Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}, ImmediateSync: true})
	if err != nil {
		panic(err)
	}
	d, err := informer.New(informer.Config{Client: client, Cluster: c, Mode: informer.Compute})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	<-d.Synced()
	fmt.Println(c.DNS().Resolve("web.default.svc.cluster.local", dnsname.TypeA).Answer[0])
	_ = d.Do(func(c *svcnet.Cluster) error {
		fmt.Println(len(c.Services("default")), "Service")
		return nil
	})
	// Output:
	// web.default.svc.cluster.local. 5 IN A 10.96.0.10
	// 1 Service
}
