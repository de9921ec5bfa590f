package dnsname

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultNdots is the resolvers' own ndots when resolv.conf sets none
// (glibc res_init.c, musl, Go's net package): 1.
const DefaultNdots = 1

// maxNdots is the cap glibc (RES_MAXNDOTS) and Go put on ndots.
const maxNdots = 15

// ResolvConf is a stub resolver's configuration: what kubelet writes to a
// pod's /etc/resolv.conf. The zero value has no nameservers, no search
// list and ndots 1.
type ResolvConf struct {
	// Nameservers are the servers to ask, in order.
	Nameservers []netip.Addr
	// Search is the search list, without trailing dots.
	Search []string
	// Options are the options as written ("ndots:5", "timeout:2", "edns0").
	Options []string
	// Omitted lists the search domains kubelet left out to fit its limits
	// (it reports them in a DNSConfigForming warning event). It is not
	// part of the file: String does not write it.
	Omitted []string
}

// Ndots returns the ndots option: the number of dots from which a name is
// tried as it is before the search list. The last ndots option counts;
// the value is capped at 15 as glibc and Go do; without one it is 1.
func (c ResolvConf) Ndots() int {
	n := DefaultNdots
	for _, o := range c.Options {
		if v, ok := strings.CutPrefix(o, "ndots:"); ok {
			if d, err := strconv.Atoi(v); err == nil {
				n = min(max(d, 0), maxNdots)
			}
		}
	}
	return n
}

// String returns the file: nameserver lines, then a search line and an
// options line when there are any.
func (c ResolvConf) String() string {
	var b strings.Builder
	for _, ns := range c.Nameservers {
		b.WriteString("nameserver " + ns.String() + "\n")
	}
	if len(c.Search) > 0 {
		b.WriteString("search " + strings.Join(c.Search, " ") + "\n")
	}
	if len(c.Options) > 0 {
		b.WriteString("options " + strings.Join(c.Options, " ") + "\n")
	}
	return b.String()
}

// ParseResolvConf reads a resolv.conf as kubelet does (parseResolvConf
// in pkg/kubelet/network/dns): nameserver lines accumulate, the last
// search line and the last options line win, trailing dots are dropped
// from search domains, and lines starting with '#' or ';' are comments.
// Like kubelet, it ignores "domain" lines (glibc and Go would take one as
// a one-entry search list). A nameserver that is not an IP address is an
// error wrapping ErrInvalidResolvConf that names the line.
func ParseResolvConf(text string) (ResolvConf, error) {
	var c ResolvConf
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 {
				return ResolvConf{}, fmt.Errorf("%w: line %d: nameserver without an address", ErrInvalidResolvConf, i+1)
			}
			a, err := netip.ParseAddr(f[1])
			if err != nil {
				return ResolvConf{}, fmt.Errorf("%w: line %d: nameserver %q is not an IP address", ErrInvalidResolvConf, i+1, f[1])
			}
			c.Nameservers = append(c.Nameservers, a)
		case "search":
			c.Search = c.Search[:0:0]
			for _, s := range f[1:] {
				if s = strings.TrimSuffix(s, "."); s != "" {
					c.Search = append(c.Search, s)
				}
			}
		case "options":
			c.Options = append([]string(nil), f[1:]...)
		}
	}
	return c, nil
}

// Candidates returns the names a stub resolver queries for name, in
// order, each fully qualified. The order is Go's (net/dnsconfig_unix.go,
// nameList) and glibc's (res_nsearch):
//
//   - a name with a trailing dot is tried as it is, and only so;
//   - a name with at least ndots dots is tried as it is first, then with
//     each search domain appended;
//   - any other name is tried with each search domain appended first,
//     and as it is last.
//
// Candidates longer than 253 octets are skipped, as Go does; a name that
// is itself too long, or empty, has none.
func (c ResolvConf) Candidates(name string) []string {
	l := len(name)
	rooted := l > 0 && name[l-1] == '.'
	if l == 0 || l > MaxNameLength+1 || l == MaxNameLength+1 && !rooted {
		return nil
	}
	if rooted {
		return []string{name}
	}
	asIs := strings.Count(name, ".") >= c.Ndots()
	name += "."
	names := make([]string, 0, len(c.Search)+1)
	if asIs {
		names = append(names, name)
	}
	for _, s := range c.Search {
		if fqdn := name + strings.TrimSuffix(s, ".") + "."; len(fqdn) <= MaxNameLength+1 {
			names = append(names, fqdn)
		}
	}
	if !asIs {
		names = append(names, name)
	}
	return names
}
