package endpoints

import "github.com/svcnet/svcnet/service"

// FindPort returns the port a Service port's targetPort gives a pod of
// spec: a number as is; a name looked up by name and protocol (TCP when
// empty) in the containers, then the sidecars (init containers with
// restartPolicy Always), as Kubernetes' podutil.FindPort
// (pkg/api/v1/pod/util.go) does. ok is false when the name matches no
// container port: the pod's endpoints then leave the port out, so a
// Service whose pods all lack it has no endpoints for it.
func FindPort(spec *service.PodSpec, target service.IntOrString, protocol service.Protocol) (port int32, ok bool) {
	if !target.IsString {
		return target.IntVal, true
	}
	protocol = protocolOrTCP(protocol)
	forEachPortContainer(&service.Pod{Spec: *spec}, func(c *service.Container) {
		for _, cp := range c.Ports {
			if !ok && cp.Name == target.StrVal && protocolOrTCP(cp.Protocol) == protocol {
				port, ok = cp.ContainerPort, true
			}
		}
	})
	return port, ok
}
