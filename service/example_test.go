package service_test

import (
	"encoding/json"
	"fmt"

	"github.com/svcnet/svcnet/service"
)

func ExampleParseSelector() {
	sel, err := service.ParseSelector("tier in (frontend,edge), app=web, !canary")
	if err != nil {
		panic(err)
	}
	fmt.Println(sel)
	fmt.Println(sel.Matches(service.Labels{"app": "web", "tier": "edge"}))
	fmt.Println(sel.Matches(service.Labels{"app": "web", "tier": "edge", "canary": "true"}))

	_, err = service.ParseSelector("app=web,tier in (a b)")
	fmt.Println(err)
	// Output:
	// app=web,!canary,tier in (edge,frontend)
	// true
	// false
	// service: invalid selector "app=web,tier in (a b)": offset 19: found "b", expected ',' or ')'
}

func ExampleService_Validate() {
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Name: "my-service"},
		Spec: service.ServiceSpec{
			Selector: service.Labels{"app": "web"},
			Ports: []service.ServicePort{
				{Port: 80, TargetPort: service.FromString("http")},
				{Port: 70000},
			},
		},
	}
	service.Default(svc)
	err := svc.Validate()
	fmt.Println(err)
	// Output:
	// service: invalid Service "default/my-service": spec.ports[0].name: required value: a name is required when a Service has more than one port; spec.ports[1].name: required value: a name is required when a Service has more than one port; spec.ports[1].port: invalid value 70000: must be between 1 and 65535, inclusive; spec.ports[1].targetPort: invalid value 70000: must be between 1 and 65535, inclusive
}

func ExampleDecodeAll() {
	objs, err := service.DecodeAll([]byte(`
apiVersion: v1
kind: Service
metadata: {name: my-service}
spec:
  selector: {app: MyApp}
  ports:
  - {protocol: TCP, port: 80, targetPort: 9376}
`))
	if err != nil {
		panic(err)
	}
	svc := objs[0].(*service.Service)
	service.Default(svc)
	fmt.Println(svc.Namespace, svc.Name, svc.Spec.Type, svc.Spec.Ports[0].TargetPort, svc.Validate())

	_, err = service.DecodeAll([]byte("apiVersion: v1\nkind: Service\nspec: {selecter: {app: x}}\n"))
	fmt.Println(err)
	// Output:
	// default my-service ClusterIP 9376 <nil>
	// service: document 1: spec.selecter: unknown field
}

// A pod as `kubectl get pod -o yaml` prints it decodes whole: what svcnet
// models is typed, the rest is carried and encodes again; server-set
// metadata is cleared as the API server treats it on create.
func ExampleDecode_dump() {
	obj, err := service.Decode([]byte(`
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop, resourceVersion: "4711", uid: 5f0c}
spec:
  enableServiceLinks: true
  containers:
  - {name: web, image: nginx, terminationMessagePolicy: File, ports: [{name: http, containerPort: 8080}]}
status: {phase: Running, podIP: 10.244.1.7}
`))
	if err != nil {
		panic(err)
	}
	pod := obj.(*service.Pod)
	fmt.Println(pod.Status.PodIPs, pod.Carried().Paths())
	service.ClearSystemFields(pod)
	out, _ := json.Marshal(pod)
	fmt.Println(string(out))

	_, err = service.Decode([]byte("apiVersion: v1\nkind: Pod\nspec: {volumes: [{name: v, configMap: {nmae: x}}]}\n"))
	fmt.Println(err)
	// Output:
	// [{10.244.1.7}] [spec.containers[0].terminationMessagePolicy spec.enableServiceLinks]
	// {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"shop"},"spec":{"containers":[{"image":"nginx","name":"web","ports":[{"containerPort":8080,"name":"http"}],"terminationMessagePolicy":"File"}],"enableServiceLinks":true},"status":{"phase":"Running","podIP":"10.244.1.7","podIPs":[{"ip":"10.244.1.7"}]}}
	// service: document 1: spec.volumes[0].configMap.nmae: unknown field
}
