package endpoints

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
)

func TestFindPort(t *testing.T) {
	always := "Always"
	spec := &service.PodSpec{
		Containers: []service.Container{{Name: "app", Ports: []service.ContainerPort{
			{Name: "http", ContainerPort: 8080},
			{Name: "dns", ContainerPort: 53, Protocol: service.ProtocolUDP},
		}}},
		InitContainers: []service.Container{
			{Name: "init", Ports: []service.ContainerPort{{Name: "init", ContainerPort: 1}}},
			{Name: "sidecar", RestartPolicy: &always, Ports: []service.ContainerPort{{Name: "metrics", ContainerPort: 9090}, {Name: "http", ContainerPort: 1}}},
		},
	}
	for _, c := range []struct {
		target service.IntOrString
		proto  service.Protocol
		port   int32
		ok     bool
	}{
		{service.FromInt(81), service.ProtocolTCP, 81, true},
		{service.FromString("http"), "", 8080, true}, // containers before sidecars
		{service.FromString("dns"), service.ProtocolUDP, 53, true},
		{service.FromString("dns"), service.ProtocolTCP, 0, false}, // by protocol too
		{service.FromString("metrics"), service.ProtocolTCP, 9090, true},
		{service.FromString("init"), service.ProtocolTCP, 0, false}, // not a sidecar
		{service.FromString("web"), service.ProtocolTCP, 0, false},
	} {
		port, ok := FindPort(spec, c.target, c.proto)
		require.Equal(t, c.port, port, "%+v", c)
		require.Equal(t, c.ok, ok, "%+v", c)
	}
}
