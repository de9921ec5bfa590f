// Package dnsname is cluster DNS for svcnet: the names of the Kubernetes
// DNS-Based Service Discovery specification (schema 1.1.0, kubernetes/dns
// docs/specification.md), their validation, and their parsing.
//
//	dnsname.ServiceName("web", "default", "")            // web.default.svc.cluster.local.
//	dnsname.SRVName("http", service.ProtocolTCP, "web", "default", "")
//	n, err := dnsname.Parse("Web-0.Web.Default.svc.cluster.local", "")
//	// n.Kind == KindEndpoint, n.Hostname == "web-0", n.Service == "web"
//
// Matching is case-insensitive, a trailing dot is accepted, and every
// name is held to DNS's limits (labels of 1–63 octets, names of at most
// 253) and to Kubernetes' rule for each of its parts.
//
// # Search paths
//
// Kubelet gives a ClusterFirst pod the search list <ns>.svc.<zone>
// svc.<zone> <zone> plus the node's, and ndots:5. ResolvConf.Candidates
// expands a name the way Go's and glibc's stub resolvers do, which shows
// what ndots:5 costs an external name:
//
//	conf := dnsname.Kubelet{ClusterDNS: dns}.ClusterFirst("default")
//	conf.Candidates("www.example.com")
//	// www.example.com.default.svc.cluster.local., www.example.com.svc.cluster.local.,
//	// www.example.com.cluster.local., www.example.com.
package dnsname
