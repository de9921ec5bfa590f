package service

import (
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

// Check reports every place the allocators and the stored Services
// disagree, as a dry run of Repair finds them, and changes nothing:
//
//   - "leaked": allocated, but no Service holds it (Repair releases it);
//   - "not allocated": a Service holds it, the allocator does not
//     (Repair allocates it);
//   - "duplicate", "out of range", "family not configured": what Repair
//     cannot fix (RepairReport.Problems).
//
// The list is in order of field (clusterIP, by family, then nodePort),
// reason as above, and value; each entry names the Services holding the
// value (none for a leak). It is empty when they agree, which they always
// do but after a crash between an allocation and the store write, or for
// hand-edited data. It costs O(n + allocated) time for n Services.
func (r *Registry) Check() []RepairProblem { return r.check(r.items, r.ips, r.ports) }

func (r *Registry) check(items *serviceIndex, ips map[IPFamily]*ipam.Allocator, ports *portalloc.Allocator) []RepairProblem {
	// A dry run reports, and Pass fails only when it changes an
	// allocator, so there is no error to return.
	rep, u, _ := r.repairPass(items, ips, ports, true)
	var out []RepairProblem
	problems := func(field string) {
		for _, p := range rep.Problems {
			if p.Field == field {
				out = append(out, p)
			}
		}
	}
	for _, f := range r.families {
		fr := rep.ClusterIPs[f]
		for _, a := range fr.Released {
			out = append(out, RepairProblem{"clusterIP", a.String(), "leaked", nil})
		}
		for _, a := range fr.Missing {
			out = append(out, RepairProblem{"clusterIP", a.String(), "not allocated", u.ipUsers[a]})
		}
	}
	problems("clusterIP")
	for _, p := range rep.NodePorts.Released {
		out = append(out, RepairProblem{"nodePort", strconv.Itoa(p), "leaked", nil})
	}
	for _, p := range rep.NodePorts.Missing {
		out = append(out, RepairProblem{"nodePort", strconv.Itoa(p), "not allocated", u.portUsers[p]})
	}
	problems("nodePort")
	return out
}

// Restored returns what the last successful Restore found where the
// snapshot's allocators and Services disagree (Check, run on the
// snapshot before it was accepted); nil when they agreed, or before any
// Restore. Without RegistryConfig.StrictRestore such a snapshot is
// accepted as it is, so that Repair finds and fixes it next, as
// kube-apiserver runs its repair controllers at start-up.
func (r *Registry) Restored() []RepairProblem { return r.restored }

// DisagreementError is the error of a Restore with
// RegistryConfig.StrictRestore whose snapshot's allocators and Services
// disagree. errors.Is(err, ErrSnapshot) holds.
type DisagreementError struct {
	// Disagreements is what Check found, in its order: at least one.
	Disagreements []RepairProblem
}

// maxDisagreementsQuoted bounds how many disagreements an Error string quotes.
const maxDisagreementsQuoted = 5

// Error formats as `service: the snapshot's allocators and Services
// disagree: clusterIP 10.0.0.9: not allocated: default/web; nodePort
// 32000: leaked:`, quoting the first few.
func (e *DisagreementError) Error() string {
	var b strings.Builder
	b.WriteString("service: the snapshot's allocators and Services disagree: ")
	for i, p := range e.Disagreements {
		if i == maxDisagreementsQuoted {
			b.WriteString("; and " + strconv.Itoa(len(e.Disagreements)-maxDisagreementsQuoted) + " more")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrSnapshot) true.
func (e *DisagreementError) Unwrap() error { return ErrSnapshot }
