package dnsserver

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/svcnet/svcnet/dnsname"
)

// ParseUpstreams returns the upstream servers a program's -upstreams flag
// names: "none" is none (out-of-zone names are REFUSED); "" is the
// nameservers of the resolv.conf at resolvConf, on port 53, as CoreDNS's
// `forward . /etc/resolv.conf` reads them (none when the file does not
// exist); anything else is a comma-separated list of address:port, each
// checked. svcnetd and svcnetd-kube share it.
func ParseUpstreams(flag, resolvConf string) ([]netip.AddrPort, error) {
	switch flag {
	case "none":
		return nil, nil
	case "":
		b, err := os.ReadFile(resolvConf)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		rc, err := dnsname.ParseResolvConf(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", resolvConf, err)
		}
		var out []netip.AddrPort
		for _, a := range rc.Nameservers {
			out = append(out, netip.AddrPortFrom(a, 53))
		}
		return out, nil
	}
	var out []netip.AddrPort
	for _, s := range strings.Split(flag, ",") {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("-upstreams: %w", err)
		}
		out = append(out, ap)
	}
	return out, nil
}
