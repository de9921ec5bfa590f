// Package service is svcnet's object model: Kubernetes' Service, Pod and
// Node (and Namespace and EndpointSlice as input) with their field names
// and JSON tags, label selectors in the full apimachinery grammar,
// validation with field paths, defaulting, and strict, lossless decoding
// of real manifests and dumps.
//
// The main flow, as an API server runs it for a Service:
//
//	obj, err := service.Decode(manifest) // strict: unknown fields are errors
//	svc := obj.(*service.Service)
//	service.Default(svc)                 // type ClusterIP, protocol TCP, targetPort = port, ...
//	if err := svc.Validate(); err != nil {
//		// every problem at once, each with its field path:
//		// spec.ports[1].name: required value: ...
//	}
//	sel := service.SelectorFromSet(svc.Spec.Selector)
//	for _, pod := range pods {
//		if sel.Matches(pod.Labels) { ... } // never allocates
//	}
//
// # Selectors
//
// Selector is one concrete, immutable value. ParseSelector reads
// Kubernetes' string grammar ("app=web,tier in (a,b),!canary,n>3") with
// Kubernetes' verdicts, corner cases included; String prints a canonical
// form that parses back to an equal selector. Everything ("") and Nothing
// ("<none>", as kubectl prints a Service without a selector) are distinct.
// LabelSelector is the structured form of Deployments (matchLabels,
// matchExpressions) and converts to a Selector.
//
// # Deliberate differences from Kubernetes
//
//   - Kubernetes' selector lexer takes a NUL byte for the end of input and
//     drops the rest; ParseSelector rejects NUL and other control
//     characters. It accepts "<none>", which Kubernetes rejects, as Nothing.
//   - IPs are validated strictly (Kubernetes' StrictIPCIDRValidation): no
//     leading zeros, zones or IPv4-mapped IPv6 addresses.
//   - Pod.Validate applies the endpoint-IP rule (no unspecified, loopback or
//     link-local addresses, CVE-2021-25737) to the pod's own IPs.
//   - A nodePort on an ExternalName Service is rejected, as on ClusterIP.
//   - Default sets an empty namespace to "default", as kubectl does.
//
// # Decoding real objects
//
// Decode and DecodeAll read v1 Service, Pod, Node, Namespace and List and
// discovery.k8s.io/v1 EndpointSlice; DecodeInto reads any kind svcnet
// has the schema of into a caller's type (sim.Deployment, a StatefulSet
// type). Every document is checked against Kubernetes' v1.37 schema of
// its kind (internal/k8sschema, generated from k8s.io/api by the kube
// module): a field Kubernetes defines decodes, one it does not is a
// *DecodeError naming its path, at any depth:
//
//	objs, err := service.DecodeAll(dump) // kubectl get svc,pods,nodes -A -o yaml
//	// err: "service: document 1: items[3].spec.containers[0].imagePullPolizy: unknown field"
//	pod := objs[0].(*service.Pod)
//	pod.Carried().Paths()    // [spec.containers[0].terminationMessagePath spec.enableServiceLinks ...]
//	out, _ := json.Marshal(pod) // every field of the input, modelled or carried
//
// What the types do not model is carried (Carried, in TypeMeta), not
// dropped: MarshalJSON merges it back, UnmarshalJSON keeps it, and it is
// immutable, so DeepCopy and the Registry's copies and snapshots share
// it. A kind of another package carries the same way by embedding
// TypeMeta and defining MarshalJSON and UnmarshalJSON with
// MarshalCarried and UnmarshalCarried (three lines each).
//
// Decoding keeps what a dump says, system metadata included
// (resourceVersion, uid, managedFields); Registry.Create still refuses a
// resourceVersion, as the API server's store does. ClearSystemFields
// clears that metadata as the API server treats it on create
// (resourceVersion, uid, creationTimestamp, generation,
// deletionTimestamp, managedFields and selfLink go; ownerReferences,
// finalizers, labels and annotations stay); svcnet.Cluster.Apply and
// sim's scenario decoder call it for each manifest. A Pod's podIP alone
// fills podIPs, and podIPs alone podIP (NormalizePodIPs, as the API
// server's v1 conversion does); both given must agree.
//
// # Concurrency
//
// Selector values are immutable and safe to share. Service, Pod and Node
// are plain data: copy them with DeepCopy before handing them to another
// goroutine that may write.
//
// # Registry
//
// Registry is the Service lifecycle of kube-apiserver's Service storage as
// a single-writer state machine: Create, Update, UpdateStatus and Delete
// default, validate and allocate (ClusterIPs per family under KEP-563's
// dual-stack rules, NodePorts, health-check NodePorts, LoadBalancer
// ingress through a LoadBalancerProvider), and return a Change with copies
// of the Service before and after. A failing call changes nothing.
//
//	reg, _ := service.NewRegistry(service.RegistryConfig{
//		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
//		LoadBalancer: pool,          // service.NewPoolProvider: addresses from an ipam pool
//		Rand:         rand.New(src), // every random choice; no global source
//		Clock:        clock,         // creationTimestamp; no wall clock
//	})
//	ch, err := reg.Create(svc)   // ch.New: clusterIP, nodePorts, ingress set
//	ch, err = reg.Update(edited) // type transitions allocate and release
//	svcnet.PrintServices(os.Stdout, reg.List("", service.Everything()), now, svcnet.PrintOptions{Wide: true}) // kubectl get svc
//
// Where the Registry deliberately differs from Kubernetes:
//
//   - the provider is called inside the call that needs it, and its failure
//     fails the call (Kubernetes' service controller retries in the
//     background while the Service shows <pending>);
//   - requested nodePorts are claimed before any is allocated, so a random
//     pick never takes a sibling port's request, and ports of one port
//     number share a nodePort on update as on create;
//   - status.loadBalancer of a Service the provider handles is the
//     provider's alone: UpdateStatus may not change it;
//   - Delete is immediate (no finalizers), and every successful Update or
//     UpdateStatus writes a new resourceVersion, even when nothing changed;
//   - externalIPs are denied unless ExternalIPPolicy allows them, as with
//     the DenyServiceExternalIPs admission plugin enabled.
//
// Snapshot and Restore save and load the whole Registry (sealed: a
// version and a checksum, so corruption is an error). Restore checks,
// before it accepts a snapshot, that its allocators agree with its
// Services — Check, a dry run of Repair: leaked and unallocated IPs and
// ports, duplicates, values out of range — as kube-apiserver's repair
// controllers check them when it starts
// (pkg/registry/core/service/ipallocator/controller/repair.go,
// portallocator/controller/repair.go). The choice: a snapshot taken
// after a crash between an allocation and the store write disagrees, and
// by default Restore accepts it as it is and keeps what it found
// (Restored), so that Repair, run next, fixes and reports exactly that;
// with RegistryConfig.StrictRestore such a snapshot is rejected with a
// *DisagreementError naming each Service and IP or port. A rejected
// snapshot leaves the Registry unchanged.
//
//	if err := reg.Restore(data); err != nil { ... } // corrupt, invalid, or (strict) disagreeing
//	for _, p := range reg.Restored() { log.Print(p) } // "clusterIP 10.96.0.9: not allocated: default/web"
//	rep, err := reg.Repair()                         // fixes them; rep.Problems: what it cannot
//
// A Registry is not safe for concurrent use; its allocators are.
package service
