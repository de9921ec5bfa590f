package convert_test

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/kube/convert"
	"github.com/svcnet/svcnet/service"
)

// A Service from the API becomes svcnet's, field for field.
func ExampleServiceFromKube() {
	s, err := convert.ServiceFromKube(&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.10", Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), NodePort: 30080}}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Key(), s.Spec.Type, s.Spec.ClusterIP, s.Spec.Ports[0].TargetPort, s.Spec.Ports[0].NodePort)
	// Output: default/web NodePort 10.96.0.10 http 30080
}

// A slice's nil conditions read as discovery/v1 says, and are written
// back explicitly.
func ExampleSliceFromKube() {
	s, err := convert.SliceFromKube(&discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abcde", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.0.5"}}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %v %+v\n", s.ServiceName(), s.Endpoints[0].Address(), s.Endpoints[0].Conditions)
	k := convert.SliceToKube(s)
	fmt.Println(*k.Endpoints[0].Conditions.Ready, *k.Endpoints[0].Conditions.Serving, *k.Endpoints[0].Conditions.Terminating)

	_, err = convert.SliceFromKube(&discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv6,
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}}})
	fmt.Println(err)
	// Output:
	// web 10.244.0.5 {Ready:true Serving:true Terminating:false}
	// true true false
	// convert: EndpointSlice default/db: endpoints[0].addresses[0]: "10.0.0.1": not an IPv6 address
}

// svcnet's slice becomes a discovery/v1 EndpointSlice.
func ExampleSliceToKube() {
	k := convert.SliceToKube(&endpoints.Slice{
		ObjectMeta:  service.ObjectMeta{Name: "web-abcde", Namespace: "default"},
		AddressType: endpoints.AddressTypeIPv4,
		Endpoints: []*endpoints.Endpoint{{Addresses: []netip.Addr{netip.MustParseAddr("10.244.0.5")},
			Conditions: endpoints.Conditions{Ready: true, Serving: true}, NodeName: "node-a"}},
		Ports: []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}},
	})
	fmt.Println(k.APIVersion, k.Kind, k.Endpoints[0].Addresses, *k.Endpoints[0].NodeName, k.Endpoints[0].Zone == nil, *k.Ports[0].Name, *k.Ports[0].Port)
	// Output: discovery.k8s.io/v1 EndpointSlice [10.244.0.5] node-a true http 8080
}
