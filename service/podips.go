package service

// NormalizePodIPs completes a Pod's status addresses as kube-apiserver
// does when it reads a v1 Pod into its internal type, which has only the
// plural field: status.podIP alone fills status.podIPs with that one
// address, and status.podIPs alone fills status.podIP with its first on
// the way back out (KEP-563, "Maintaining Compatible Interworking between
// Old and New Clients"; pkg/apis/core/v1/conversion.go does the same for
// a Node's spec.podCIDR and podCIDRs in Convert_v1_NodeSpec_To_core_NodeSpec).
// When both are given and differ, Kubernetes' conversion takes the
// singular as authoritative; svcnet refuses instead, by the v1 API's own
// rule (k8s.io/api core/v1 PodStatus.PodIPs: "If this field is
// specified, the 0th entry must match the podIP field"): a different
// podIPs[0] is a FieldError at status.podIPs[0].ip, and the pod is left
// as it was. hostIP and hostIPs are completed and checked the same way
// (KEP-2681; PodStatus.HostIPs: "the first entry must match the hostIP
// field"). Decode calls it for every Pod.
func NormalizePodIPs(p *Pod) *FieldError {
	st := &p.Status
	if st.PodIP != "" && len(st.PodIPs) > 0 && st.PodIPs[0].IP != st.PodIP {
		return Invalid("status.podIPs[0].ip", st.PodIPs[0].IP, "must be equal to `podIP` ("+st.PodIP+")")
	}
	if st.HostIP != "" && len(st.HostIPs) > 0 && st.HostIPs[0].IP != st.HostIP {
		return Invalid("status.hostIPs[0].ip", st.HostIPs[0].IP, "must be equal to `hostIP` ("+st.HostIP+")")
	}
	switch {
	case st.PodIP != "" && len(st.PodIPs) == 0:
		st.PodIPs = []PodIP{{IP: st.PodIP}}
	case st.PodIP == "" && len(st.PodIPs) > 0:
		st.PodIP = st.PodIPs[0].IP
	}
	switch {
	case st.HostIP != "" && len(st.HostIPs) == 0:
		st.HostIPs = []PodIP{{IP: st.HostIP}}
	case st.HostIP == "" && len(st.HostIPs) > 0:
		st.HostIP = st.HostIPs[0].IP
	}
	return nil
}
