package dnsname

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/service"
)

// TestRegistryChanges follows a service.Registry through its Change
// records: create (a ClusterIP is allocated), update (a port added),
// delete.
func TestRegistryChanges(t *testing.T) {
	reg, err := service.NewRegistry(service.RegistryConfig{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}})
	require.NoError(t, err)
	r := NewResolver(Config{})

	c, err := reg.Create(newSvc("default", "web", ports(tcp("http", 80))))
	require.NoError(t, err)
	require.NoError(t, r.ApplyServices([]service.Change{c}))
	ip := netip.MustParseAddr(c.New.Spec.ClusterIP)
	resp := r.Resolve("web.default.svc.cluster.local", TypeA)
	require.Equal(t, RcodeNoError, resp.Rcode)
	require.Equal(t, ip, resp.Answer[0].Addr)
	expect(t, r, PTRName(ip), TypePTR, `NOERROR
		`+PTRName(ip)+` 5 IN PTR web.default.svc.cluster.local.`)

	upd := c.New.DeepCopy()
	upd.Spec.Ports = append(upd.Spec.Ports, tcp("metrics", 9090))
	c, err = reg.Update(upd)
	require.NoError(t, err)
	require.NoError(t, r.ApplyServices([]service.Change{c}))
	require.Equal(t, RcodeNoError, r.Resolve("_metrics._tcp.web.default.svc.cluster.local", TypeSRV).Rcode)

	c, err = reg.Delete("default", "web")
	require.NoError(t, err)
	require.NoError(t, r.ApplyServices([]service.Change{c}))
	expect(t, r, "web.default.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, PTRName(ip), TypePTR, `NXDOMAIN`)

	require.ErrorIs(t, r.ApplyServices([]service.Change{{Type: service.Added}}), ErrInvalidObject)
}
