package service

import (
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/ipam"
)

// TestCreateDeleteAllocs holds BenchmarkRegistryCreateDelete's
// allocations where they are, so that they cannot creep back: Create of a
// two-port NodePort Service among 1 000 others allocates at most 11
// times and Delete never.
//
// The 11 are the two Services the contract requires (the one stored and
// Change.New, which the caller may change freely): each one allocation
// for the Service with its ports, clusterIPs and families (servicePack),
// and two for each of its Labels and Selector maps (Go's runtime gives a
// small map a header and a group), which is 10; and one string holding
// the uid, the resourceVersion and the clusterIP (stamp). Delete hands
// out the stored Service itself as Change.Old.
func TestCreateDeleteAllocs(t *testing.T) {
	r, err := NewRegistry(RegistryConfig{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		Rand:         rand.New(rand.NewPCG(1, 1)),
		Clock:        func() time.Time { return t0 },
	})
	require.NoError(t, err)
	for i := range 1000 {
		_, err := r.Create(benchNodePort("svc-" + strconv.Itoa(i)))
		require.NoError(t, err)
	}
	svc := benchNodePort("bench")
	var createErr, deleteErr error
	create := testing.AllocsPerRun(200, func() {
		_, createErr = r.Create(svc)
		_, deleteErr = r.Delete("default", "bench")
	})
	require.NoError(t, createErr)
	require.NoError(t, deleteErr)
	require.LessOrEqual(t, create, 11.0, "Create+Delete allocations")

	// AllocsPerRun calls its function once more than it counts.
	names := make([]string, 101)
	for i := range names {
		names[i] = "del-" + strconv.Itoa(i)
		_, err := r.Create(benchNodePort(names[i]))
		require.NoError(t, err)
	}
	next := 0
	del := testing.AllocsPerRun(100, func() {
		_, deleteErr = r.Delete("default", names[next])
		next++
	})
	require.NoError(t, deleteErr)
	require.Zero(t, del, "Delete allocations")
	require.Equal(t, 1000, r.Len())
}

// seenProvider records the Services a provider was asked for.
type seenProvider struct {
	LoadBalancerProvider
	seen []*Service
}

func (p *seenProvider) EnsureLoadBalancer(svc *Service) (LoadBalancerStatus, error) {
	p.seen = append(p.seen, svc.DeepCopy())
	return p.LoadBalancerProvider.EnsureLoadBalancer(svc)
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestCreateStamp checks the system fields Create writes as one string
// (stamp): a version 4 uid, the next resourceVersion, the first clusterIP
// in both fields and in range, for either primary family and for one or
// two families; and that a provider asked for the load balancer sees the
// uid and the clusterIPs but no resourceVersion yet, as before the
// strings were joined.
func TestCreateStamp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cidrs  []string
		policy IPFamilyPolicy
	}{
		{"IPv4", []string{"10.0.0.0/24"}, IPFamilyPolicySingleStack},
		{"IPv6", []string{"fd00::/108"}, IPFamilyPolicySingleStack},
		{"dual-stack", []string{"10.0.0.0/24", "fd00::/108"}, IPFamilyPolicyRequireDualStack},
		{"dual-stack IPv6 primary", []string{"fd00::/108", "10.0.0.0/24"}, IPFamilyPolicyRequireDualStack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := NewPoolProvider(PoolProviderConfig{Ranges: []ipam.Range{ipam.MustParseRange("192.0.2.0-192.0.2.9"), ipam.MustParseRange("2001:db8::-2001:db8::9")}})
			require.NoError(t, err)
			p := &seenProvider{LoadBalancerProvider: pool}
			var cidrs []netip.Prefix
			for _, c := range tc.cidrs {
				cidrs = append(cidrs, netip.MustParsePrefix(c))
			}
			r, err := NewRegistry(RegistryConfig{ServiceCIDRs: cidrs, LoadBalancer: p, Rand: rand.New(rand.NewPCG(3, 4))})
			require.NoError(t, err)
			uids := map[string]bool{}
			for i, typ := range []ServiceType{ServiceTypeClusterIP, ServiceTypeNodePort, ServiceTypeLoadBalancer, ServiceTypeClusterIP} {
				in := benchNodePort("s" + strconv.Itoa(i))
				in.Spec.Type, in.Spec.IPFamilyPolicy = typ, &tc.policy
				ch, err := r.Create(in)
				require.NoError(t, err)
				got := ch.New
				require.Regexp(t, uuidV4, got.UID)
				require.False(t, uids[got.UID], "uid %s twice", got.UID)
				uids[got.UID] = true
				require.Equal(t, strconv.Itoa(i+1), got.ResourceVersion)
				require.Len(t, got.Spec.ClusterIPs, len(tc.cidrs))
				require.Equal(t, got.Spec.ClusterIPs[0], got.Spec.ClusterIP)
				for j, s := range got.Spec.ClusterIPs {
					a, err := netip.ParseAddr(s)
					require.NoError(t, err)
					require.True(t, cidrs[j].Contains(a), "%s not in %s", a, cidrs[j])
				}
				stored, err := r.Get("default", in.Name)
				require.NoError(t, err)
				require.Equal(t, got, stored)
			}
			require.Len(t, p.seen, 1)
			asked, stored := p.seen[0], mustGet(t, r, "default", "s2")
			require.Equal(t, stored.UID, asked.UID)
			require.Equal(t, stored.Spec.ClusterIPs, asked.Spec.ClusterIPs)
			require.Equal(t, stored.Spec.ClusterIP, asked.Spec.ClusterIP)
			require.Empty(t, asked.ResourceVersion)
		})
	}
}

func mustGet(t *testing.T, r *Registry, ns, name string) *Service {
	t.Helper()
	svc, err := r.Get(ns, name)
	require.NoError(t, err)
	return svc
}
