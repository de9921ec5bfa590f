package nftables

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/proxy"
)

// The fixed names of kube-proxy's nftables layout (pkg/proxy/nftables/
// proxier.go, Kubernetes v1.37): one table per family, base chains named
// "${type}-${hook}", and the dispatch sets and maps.
const (
	TableName = "kube-proxy"

	chainFilterPrerouting  = "filter-prerouting"
	chainFilterInput       = "filter-input"
	chainFilterForward     = "filter-forward"
	chainFilterOutput      = "filter-output"
	chainFilterOutputPost  = "filter-output-post-dnat"
	chainNatPrerouting     = "nat-prerouting"
	chainNatOutput         = "nat-output"
	chainNatPostrouting    = "nat-postrouting"
	chainServices          = "services"
	chainServiceEndpoints  = "service-endpoints-check"
	chainNodePortEndpoints = "nodeport-endpoints-check"
	chainReject            = "reject-chain"
	chainClusterIPsCheck   = "cluster-ips-check"
	chainFirewallCheck     = "firewall-check"
	chainMasquerading      = "masquerading"
	setClusterIPs          = "cluster-ips"
	setHairpin             = "hairpin-connections"
	setNodePortIPs         = "nodeport-ips"
	setClusterSources      = "cluster-sources"
	mapServiceIPs          = "service-ips"
	mapServiceNodePorts    = "service-nodeports"
	mapNoEndpointServices  = "no-endpoint-services"
	mapNoEndpointNodePorts = "no-endpoint-nodeports"
	mapFirewallIPs         = "firewall-ips"
	masqueradeMark         = "0x4000"
	chainNameBaseLengthMax = 256 - 16 // knftables.NameLengthMax minus the longest prefix
	prefixClusterPolicy    = "service-"
	prefixLocalPolicy      = "local-"
	prefixExternal         = "external-"
	prefixEndpoint         = "endpoint-"
	prefixAffinity         = "affinity-"
	prefixFirewall         = "firewall-"
	prefixMaglev           = "maglev-"
	prefixMaglevVerdict    = "maglev-v-"
)

// hashAndTruncate prefixes name with the first 8 characters of the
// base32 of its SHA-256 and truncates the result to chainNameBaseLengthMax,
// as kube-proxy's hashAndTruncate does, so that chain names are unique
// and stay within nft's limit.
func hashAndTruncate(name string) string {
	sum := sha256.Sum256([]byte(name))
	out := base32.StdEncoding.EncodeToString(sum[:])[:8] + "-" + name
	if len(out) > chainNameBaseLengthMax {
		out = out[:chainNameBaseLengthMax-3] + "..."
	}
	return out
}

// portBase is kube-proxy's servicePortChainNameBase:
// "HASH-namespace/name/protocol/portName".
func portBase(sp *proxy.ServicePort) string {
	return hashAndTruncate(sp.Service.Namespace + "/" + sp.Service.Name + "/" + proxy.ProtocolName(sp.Proto) + "/" + sp.PortName)
}

// endpointBase is kube-proxy's servicePortEndpointChainNameBase:
// "HASH-namespace/name/protocol/portName__IP/port", with an IPv6
// address's colons replaced by dots (not allowed in a chain name).
func endpointBase(sp *proxy.ServicePort, ep netip.AddrPort) string {
	ip := strings.ReplaceAll(ep.Addr().String(), ":", ".")
	return hashAndTruncate(sp.Service.Namespace + "/" + sp.Service.Name + "/" + proxy.ProtocolName(sp.Proto) + "/" + sp.PortName +
		"__" + ip + "/" + strconv.Itoa(int(ep.Port())))
}
