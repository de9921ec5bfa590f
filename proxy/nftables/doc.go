// Package nftables writes a node's proxy.Proxy view as the rules
// kube-proxy's nftables mode writes (KEP-3866; pkg/proxy/nftables in
// Kubernetes v1.37 and its README), applies them to a kernel, and walks
// them in pure Go to check them against the model.
//
//	rs, _ := nftables.Render(view, nftables.Config{ServiceCIDRs: svcCIDRs, PodCIDRs: podCIDRs})
//	nftables.Exec{Netns: "node-a"}.Run(ctx, rs.String())  // nft -f -: the whole table, atomically
//	v := nftables.Trace(rs, nftables.Packet{Src: pod, Dst: clusterIPPort, Proto: lb.TCP})
//	// v.Action DNAT, v.DNAT PodIP:targetPort, v.Masquerade; or Drop, Reject, Accept
//
//	r, _ := nftables.NewRenderer(cfg)  // a node's sync loop
//	tx, _ := r.Sync(view)              // first: the full ruleset
//	view.Sync(nextTable)
//	tx, _ = r.Sync(view)               // then: only what changed (2 lines for one endpoint)
//	exec.Run(ctx, tx.String())
//	for _, a := range r.StaleUDPEndpoints() {
//		exec.ClearUDP(ctx, a)          // conntrack -D, as kube-proxy does
//	}
//
// # Layout
//
// One table per family, "ip kube-proxy" and "ip6 kube-proxy". Base chains
// filter-prerouting, -input, -forward, -output (at dstnat-10, before
// DNAT) and filter-output-post-dnat, nat-prerouting and nat-output
// (dstnat) and nat-postrouting (srcnat). Dispatch by verdict maps keyed
// "addr . proto . port": service-ips (ClusterIP, external and
// LoadBalancer IPs) and service-nodeports (on the nodeport-ips); the
// cluster-ips set; no-endpoint-services / no-endpoint-nodeports (drop or
// goto reject-chain, with "ns/svc:port" comments) checked after DNAT;
// firewall-ips for loadBalancerSourceRanges (firewall-HASH chains).
// Per Service port: service-HASH-ns/svc/proto/port (the Cluster policy)
// and local-HASH-… (Local), which DNAT through "numgen random mod N map",
// external-HASH-… with the externalTrafficPolicy Local short circuits,
// and, with ClientIP affinity only, endpoint-HASH-…__IP/PORT chains and
// affinity-… dynamic timeout sets. Marks (0x4000) are set inline and
// masqueraded fully-random in postrouting, with a hairpin-connections set
// for pods reaching themselves. HASH is kube-proxy's: the first 8
// characters of base32(sha256(name)), names truncated to 240.
//
// # Beyond kube-proxy
//
// A Service whose algorithm (proxy.AlgorithmAnnotation) is maglev is
// rendered with svcnet's Maglev table: "jhash ip saddr . th sport mod M"
// into a map of M slots (Config.MaglevTableSize, a prime), so every node
// sends a flow to the same backend and a backend change moves about 1/N
// of the flows.
//
// # Where svcnet deliberately differs from kube-proxy
//
// The rules do what proxy.Route says, and the model is stricter or
// more uniform than kube-proxy in three places:
//   - A ClusterIP answers only sources inside the cluster (the proxy's
//     ClusterPrefixes and node addresses, the cluster-sources set);
//     kube-proxy masquerades and serves off-cluster sources.
//   - Source ranges are checked before missing endpoints on the node's
//     own output path too, and the no-endpoint check runs after DNAT on
//     that path (filter-output-post-dnat): kube-proxy checks it in
//     filter-output, before nat-output, so the node's own connection to
//     an externalTrafficPolicy Local address without a local endpoint is
//     dropped before the short circuit could DNAT it.
//   - The Local short circuit covers every in-cluster source
//     (cluster-sources), not only the pod CIDR.
//
// Not rendered: healthCheckNodePort servers, localhost NodePorts,
// topology labels beyond what proxy categorizes, and SCTP checks beyond
// matching the protocol.
//
// # Checking
//
// Trace interprets the grammar Render writes: base chains in hook order,
// jumps and gotos, sets (interval ones too), verdict and data maps,
// numgen and jhash with a value the caller picks, marks, masquerade and
// the dynamic affinity sets. Parse and Apply read nft -f text back, so
// that a transaction can be applied without a kernel; Fake is a Runner
// built on them. The tests cross-check Trace with rapid against
// proxy.Route, apply Diff and Renderer transactions to parsed rules, and
// in network namespaces send real TCP and UDP traffic through the kernel.
//
// A Ruleset and a Transaction are immutable. A Renderer, a Tracer and a
// Fake are not safe for concurrent use.
package nftables
