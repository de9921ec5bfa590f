//go:build linux

package testbed

import (
	"net/netip"
	"sync"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// podPorts are the container ports of the pod holding each address, for
// the clients of a Direct flow (a headless Service, or a StatefulSet
// pod's hostname), which connect to the pod DNS named at the Service
// port's targetPort: a number, or a container port's name, looked up on
// that pod as the endpoints controller does (endpoints.FindPort). The
// simulator's goroutine writes it as pods start and go; clients read it.
type podPorts struct {
	mu     sync.Mutex
	byAddr map[netip.Addr][]service.ContainerPort
}

func (pp *podPorts) set(a netip.Addr, ports []service.ContainerPort) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.byAddr == nil {
		pp.byAddr = map[netip.Addr][]service.ContainerPort{}
	}
	pp.byAddr[a] = ports
}

func (pp *podPorts) forget(a netip.Addr) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	delete(pp.byAddr, a)
}

// port returns the port a Direct flow with targetPort tp connects to on
// the pod at a. A name no container port of that pod has (or no pod
// there) gives the Service's own port, fallback: nothing listens there,
// so the connection is refused or unreachable, as the simulator counts
// it (sim's directConn).
func (pp *podPorts) port(a netip.Addr, tp service.IntOrString, fallback uint16) uint16 {
	if tp.IsZero() {
		return fallback
	}
	pp.mu.Lock()
	spec := &service.PodSpec{Containers: []service.Container{{Ports: pp.byAddr[a]}}}
	pp.mu.Unlock()
	if port, ok := endpoints.FindPort(spec, tp, service.ProtocolTCP); ok {
		return uint16(port)
	}
	return fallback
}
