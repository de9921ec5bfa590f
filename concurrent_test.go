package svcnet

import (
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/service"
)

// Many goroutines share one Cluster through Concurrent: writers of pods
// and Services, dialers, lock-free DNS readers, syncers and a restorer.
// Run with -race; at the end the cluster must be consistent. (The
// goroutines use assert: FailNow belongs to the test's own goroutine.)
func TestConcurrent(t *testing.T) {
	w := NewConcurrent(testCluster(t, false))
	_, err := w.ApplyPod(clientPod("client", "node-0", "10.244.0.99"))
	require.NoError(t, err)
	_, err = w.CreateService(webService("web", ""))
	require.NoError(t, err)
	const rounds = 60
	var wg sync.WaitGroup
	wg.Go(func() { // pods come and go
		for i := range rounds {
			name := fmt.Sprintf("web-%d", i%6)
			if i%4 == 3 {
				_, err := w.DeletePod(nn("default", name))
				if err != nil {
					assert.ErrorIs(t, err, ErrNotFound)
				}
				continue
			}
			_, err := w.ApplyPod(testPod(name, fmt.Sprintf("node-%d", i%3), fmt.Sprintf("10.244.%d.%d", i%3, 10+i%6), i%5 != 0))
			assert.NoError(t, err)
		}
	})
	wg.Go(func() { // Services are created, updated and deleted
		for i := range rounds {
			key := nn("default", "api")
			switch i % 3 {
			case 0:
				_, err := w.CreateService(webService("api", service.ServiceTypeNodePort))
				assert.NoError(t, err)
			case 1:
				assert.NoError(t, w.Do(func(c *Cluster) error {
					svc, err := c.Service(key)
					if err != nil {
						return err
					}
					svc.Spec.Ports[0].Port = int32(8000 + i)
					_, err = c.UpdateService(svc)
					return err
				}))
			case 2:
				_, err := w.DeleteService(key)
				assert.NoError(t, err)
			}
		}
	})
	for range 2 { // clients connect
		wg.Go(func() {
			for range rounds {
				tr, err := w.Dial(FromPod("default", "client"), "web:80")
				assert.NoError(t, err)
				_ = tr.Served()
				_, err = w.Resolve(Source{Pod: nn("default", "client")}, "api", dnsname.TypeA)
				assert.NoError(t, err)
			}
		})
	}
	wg.Go(func() { // the DNS is read without the lock
		for range rounds * 4 {
			resp := w.DNS().Resolve("web.default.svc.cluster.local", dnsname.TypeA)
			assert.Contains(t, []dnsname.Rcode{dnsname.RcodeNoError, dnsname.RcodeNXDomain}, resp.Rcode)
		}
	})
	wg.Go(func() { // nodes and the DNS sync
		for i := range rounds {
			assert.NoError(t, w.SyncNode(fmt.Sprintf("node-%d", i%3)))
			if i%5 == 0 {
				w.SyncAllNodes()
			}
			assert.NoError(t, w.SyncDNS())
		}
	})
	wg.Go(func() { // a control plane restart now and then
		for range 5 {
			assert.NoError(t, w.Do(func(c *Cluster) error {
				data, err := c.Snapshot()
				if err != nil {
					return err
				}
				return c.Restore(data)
			}))
		}
	})
	wg.Go(func() { // pods written in batches
		for i := range rounds / 2 {
			writes := []PodWrite{
				{Pod: testPod("batch-0", "node-1", "10.244.1.50", i%2 == 0)},
				{Pod: testPod("batch-1", "node-2", "10.244.2.51", true)},
			}
			if i%3 == 2 {
				writes = append(writes, PodWrite{Delete: nn("default", "batch-1")})
			}
			_, err := w.ApplyPodWrites(writes)
			assert.NoError(t, err)
		}
	})
	wg.Go(func() { // readers of the state under the lock
		for range rounds {
			assert.NotNil(t, w.Table())
			_ = w.Slices(nn("default", "web"))
			assert.Len(t, w.Nodes(), 3)
			_ = w.Pods("")
			_ = w.Services("default")
			_, err := w.NodeStale("node-0")
			assert.NoError(t, err)
			_ = w.DNSPending()
			assert.NoError(t, w.PrintServices(io.Discard, ""))
			assert.NoError(t, w.PrintEndpointSlices(io.Discard, "default"))
			assert.NoError(t, w.PrintPods(io.Discard, "default"))
			assert.NoError(t, w.PrintNodes(io.Discard))
			_, err = w.Snapshot()
			assert.NoError(t, err)
		}
	})
	wg.Wait()

	// A restart through the wrappers, now that nothing else writes (the
	// two steps under two locks would let other writers in between).
	data, err := w.Snapshot()
	require.NoError(t, err)
	require.NoError(t, w.Restore(data))
	require.NoError(t, w.Do(func(c *Cluster) error {
		c.SyncAllNodes()
		if err := c.SyncDNS(); err != nil {
			return err
		}
		// Consistent: each Service's slices hold the selected pods, each
		// node routes to them, the DNS answers the ClusterIP.
		web := mustService(t, c, nn("default", "web"))
		var want []string
		for _, p := range c.Pods("default") {
			if p.Labels["app"] == "web" {
				want = append(want, fmt.Sprintf("IPv4 %s r=%t s=%t t=false", p.Status.PodIP, p.IsReady(), p.IsReady()))
			}
		}
		require.ElementsMatch(t, want, sliceAddrs(c, web.Key()))
		require.Equal(t, []string{web.Spec.ClusterIP}, aRecords(c, "web.default.svc.cluster.local", dnsname.TypeA))
		rep, err := c.Repair()
		require.NoError(t, err)
		require.True(t, rep.Clean(), "%+v", rep)
		return nil
	}))
	_, err = w.Apply([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: late}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n"))
	require.NoError(t, err)
	_, err = w.AddNode(testNode("node-3", "zone-a", "192.168.0.13"))
	require.NoError(t, err)
}

// TestConcurrentCoversCluster enumerates the exported methods of *Cluster
// and fails when *Concurrent lacks one, or has it with another signature:
// a method added to the Cluster must get its wrapper (or a reason below).
func TestConcurrentCoversCluster(t *testing.T) {
	// Methods that cannot be made safe by taking the lock, because what
	// they return is mutable cluster internals used after the lock is
	// released. Concurrent.Do reaches them.
	// Methods that cannot be made safe under the lock (none today: the
	// Cluster hands out no mutable internals), with the reason.
	excluded := map[string]string{}
	cl, cw := reflect.TypeFor[*Cluster](), reflect.TypeFor[*Concurrent]()
	for m := range cl.Methods() {
		if _, ok := excluded[m.Name]; ok {
			_, has := cw.MethodByName(m.Name)
			require.False(t, has, "Concurrent.%s exists: drop it from the exclusions", m.Name)
			continue
		}
		wm, ok := cw.MethodByName(m.Name)
		if !assert.True(t, ok, "Concurrent lacks Cluster.%s (%s)", m.Name, m.Type) {
			continue
		}
		// Compare the signatures without the receivers.
		want, got := m.Type, wm.Type
		require.Equal(t, want.NumIn(), got.NumIn(), m.Name)
		for i := 1; i < want.NumIn(); i++ {
			assert.Equal(t, want.In(i), got.In(i), "Concurrent.%s argument %d", m.Name, i)
		}
		require.Equal(t, want.NumOut(), got.NumOut(), m.Name)
		for i := range want.NumOut() {
			assert.Equal(t, want.Out(i), got.Out(i), "Concurrent.%s result %d", m.Name, i)
		}
		assert.Equal(t, want.IsVariadic(), got.IsVariadic(), m.Name)
	}
}
