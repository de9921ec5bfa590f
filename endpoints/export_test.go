package endpoints

import "github.com/svcnet/svcnet/service"

// candidateCount returns how many Services an upsert of the known pod key
// with new labels would look at (Controller.candidates with recheck), or
// -1 for an unknown pod. It leaves the controller as it found it.
func (c *Controller) candidateCount(key service.NamespacedName) int {
	ns := c.namespaces[key.Namespace]
	if ns == nil || ns.pods[key.Name] == nil {
		return -1
	}
	cands := c.candidates(ns, ns.pods[key.Name], true)
	n := len(cands)
	clear(cands)
	c.cands = cands[:0]
	return n
}
