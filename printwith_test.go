package svcnet

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func tableRows(t *testing.T, print func(*strings.Builder) error) [][]string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, print(&b))
	var rows [][]string
	for l := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// Without -o wide, kubectl prints the first columns of the wide table:
// pods NAME READY STATUS RESTARTS AGE, nodes NAME STATUS ROLES AGE VERSION.
func TestPrintNarrowIsWidePrefix(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := printCluster(t, &now)
	for _, ns := range []string{"", "default"} {
		wide := tableRows(t, func(b *strings.Builder) error { return c.PrintPods(b, ns) })
		narrow := tableRows(t, func(b *strings.Builder) error {
			return c.PrintPodsWith(b, ns, PrintOptions{AllNamespaces: ns == ""})
		})
		n := 5
		if ns == "" {
			n = 6
		}
		require.Equal(t, len(wide), len(narrow))
		require.Equal(t, []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}, narrow[0][n-5:])
		for i := range narrow {
			require.Len(t, narrow[i], n, "%v", narrow[i])
			require.Equal(t, wide[i][:n], narrow[i])
		}
	}
	wide := tableRows(t, func(b *strings.Builder) error { return c.PrintNodes(b) })
	narrow := tableRows(t, func(b *strings.Builder) error { return c.PrintNodesWith(b, PrintOptions{}) })
	require.Equal(t, []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"}, narrow[0])
	require.Equal(t, len(wide), len(narrow))
	for i := 1; i < len(narrow); i++ {
		// VERSION is empty for these nodes: the row has 4 fields.
		require.Equal(t, wide[i][:len(narrow[i])], narrow[i])
	}
}

// NodeView is the node's proxy as stale as it is: a node that has not
// synced has none of the new Service's frontends.
func TestNodeViewIsTheNodes(t *testing.T) {
	c := testCluster(t, false)
	apply(t, c, testPod("web-0", "node-0", "10.244.0.5", true))
	create(t, c, webService("web", ""))
	require.NoError(t, c.SyncNode("node-0"))
	synced, err := c.NodeView("node-0")
	require.NoError(t, err)
	stale, err := c.NodeView("node-1")
	require.NoError(t, err)
	require.Equal(t, "node-0", synced.NodeName())
	require.Positive(t, synced.Frontends())
	require.Zero(t, stale.Frontends())
	p, err := c.Proxy("node-0")
	require.NoError(t, err)
	require.Equal(t, p.Frontends(), synced.Frontends())
	_, err = c.NodeView("node-9")
	require.ErrorIs(t, err, ErrNotFound)
}
