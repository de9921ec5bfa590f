package svcnet

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// TestNodeObjectLagsBehindPods: Kubernetes' EndpointSlice reconciler
// leaves out a pod whose Node object it does not have (reconcileByAddressType),
// so while a node's object lags behind its pods, and after it is deleted
// under them, connections to the Service find no endpoint on that node.
func TestNodeObjectLagsBehindPods(t *testing.T) {
	now := epoch
	c := lbCluster(t, true, &now) // node-0, node-1, node-2
	create(t, c, webService("web", service.ServiceTypeClusterIP))
	apply(t, c, clientPod("client", "node-0", "10.244.0.99"))

	// web-0 runs on node-3, whose Node object is not there yet.
	ch, err := c.ApplyPod(testPod("web-0", "node-3", "10.244.3.10", true))
	require.NoError(t, err, "a pod on an unknown node is no error of the call")
	require.Len(t, ch.SkippedPods, 1)
	require.Equal(t, endpoints.NodeNotFoundError{Pod: nn("default", "web-0"), Node: "node-3", Service: nn("default", "web")}, *ch.SkippedPods[0])
	require.True(t, errors.Is(ch.SkippedPods[0], endpoints.ErrNodeNotFound))
	require.Empty(t, sliceAddrs(c, nn("default", "web")))
	require.Equal(t, map[string]int{"!no endpoints": 20}, dialN(t, c, FromPod("default", "client"), "web:80", 20))

	// The node object arrives: the pod's endpoint with it.
	ch, err = c.AddNode(testNode("node-3", "zone-d", "192.168.0.13"))
	require.NoError(t, err)
	require.Empty(t, ch.SkippedPods)
	require.Equal(t, []string{"IPv4 10.244.3.10 r=true s=true t=false"}, sliceAddrs(c, nn("default", "web")))
	require.Equal(t, map[string]int{"web-0": 20}, dialN(t, c, FromPod("default", "client"), "web:80", 20))

	// The node object is deleted while its pod still points at it: the
	// endpoint goes, until the pod is deleted or the node comes back.
	ch, err = c.RemoveNode("node-3")
	require.NoError(t, err)
	require.Len(t, ch.SkippedPods, 1)
	require.Empty(t, sliceAddrs(c, nn("default", "web")))
	require.Equal(t, map[string]int{"!no endpoints": 20}, dialN(t, c, FromPod("default", "client"), "web:80", 20))

	// A Service that publishes not-ready addresses keeps such pods,
	// without a zone.
	pnr := webService("peers", service.ServiceTypeClusterIP)
	pnr.Spec.PublishNotReadyAddresses = true
	ch, err = c.CreateService(pnr)
	require.NoError(t, err)
	require.Empty(t, ch.SkippedPods)
	ss := c.Slices(nn("default", "peers"))
	require.Len(t, ss, 1)
	require.Len(t, ss[0].Endpoints, 1)
	require.Equal(t, "node-3", ss[0].Endpoints[0].NodeName)
	require.Empty(t, ss[0].Endpoints[0].Zone)
}
