package service

// NormalizePodIPs completes a Pod's status addresses as kube-apiserver
// does when it reads a v1 Pod: status.podIP alone fills status.podIPs
// with that one address, and status.podIPs alone fills status.podIP with
// its first (the v1 ↔ internal conversions of PodStatus,
// pkg/apis/core/v1/conversion.go, Convert_v1_PodStatus_To_core_PodStatus
// and Convert_core_PodStatus_To_v1_PodStatus). When both are given, the
// v1 API's rule holds (k8s.io/api core/v1 PodStatus.PodIPs: "If this
// field is specified, the 0th entry must match the podIP field"): a
// different podIPs[0] is a FieldError at status.podIPs[0].ip, and the
// pod is left as it was. hostIP and hostIPs are completed and checked
// the same way (PodStatus.HostIPs: "the first entry must match the
// hostIP field"). Decode calls it for every Pod.
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
