package main

import (
	"flag"
	"fmt"
	"runtime/debug"
	"strings"
)

// parseArgs parses args with fs, flags and positional arguments in any
// order, as kubectl and most CLIs take them (svcsim run x.yaml -q): the
// standard flag package stops at the first non-flag argument, so each
// positional argument is set aside and parsing goes on after it. "--"
// ends the flags: what follows it is positional. It returns the
// positional arguments in order.
//
// The standard package is kept (rather than spf13/pflag) because it
// reads -seeds and --seeds alike, as the README and scripts write them,
// where pflag would read -seeds as -s -e -e -d -s.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, fmt.Errorf("%w (svcsim help lists the flags)", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" && !takesValue(fs, args[:used-1]) {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// takesValue reports whether the last of args is a flag of fs that
// takes the argument after it as its value (-out, not -q or -out=x), so
// that "-out --" reads "--" as the directory, not as the end of flags.
func takesValue(fs *flag.FlagSet, args []string) bool {
	if len(args) == 0 {
		return false
	}
	a := args[len(args)-1]
	if !strings.HasPrefix(a, "-") || a == "-" || a == "--" || strings.Contains(a, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimLeft(a, "-"))
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// version is svcsim's version as the Go toolchain recorded it: the
// module version (v1.2.3 when installed with go install ...@v1.2.3,
// "(devel)" in a checkout) and, when built from a VCS checkout, the
// commit and whether the tree was modified, and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "svcsim (no build information)"
	}
	v := "svcsim " + bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		v += " " + rev
		if modified == "true" {
			v += " (modified)"
		}
	}
	return v + " " + bi.GoVersion
}
