// Command svcnetd is svcnet's node agent. Today it has one command, dns:
// the cluster DNS server of the Services, pods and nodes in a directory
// of manifests, answering as CoreDNS's kubernetes plugin does.
//
//	svcnetd dns -listen 127.0.0.1:5353 -manifests ./manifests
//	dig @127.0.0.1 -p 5353 my-service.default.svc.cluster.local
//
// It reloads when a manifest file changes, forwards other names to the
// nameservers of /etc/resolv.conf (as CoreDNS's "forward .
// /etc/resolv.conf"), serves Prometheus metrics with CoreDNS's names
// when -metrics is given, and exits cleanly on SIGINT or SIGTERM.
//
// For a real cluster's API instead of manifests, svcnetd-kube (built from
// the kube module, kube/cmd/svcnetd-kube, since this module does not
// import client-go) has the same dns command with -kubeconfig, or the
// in-cluster config of the pod it runs in; `svcnetd dns -kubeconfig PATH
// ...` execs it (found beside svcnetd, as in the Dockerfile's image, or
// on PATH) with the same arguments.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `svcnetd is svcnet's node agent.

Usage:
  svcnetd dns [flags]    serve cluster DNS for a directory of manifests
  svcnetd dns -kubeconfig PATH [flags]
                         serve cluster DNS for a real cluster: runs
                         svcnetd-kube (beside svcnetd or on PATH) with
                         these arguments

Run "svcnetd dns -h" for its flags.
`

// The exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "dns":
		return runDNS(ctx, args[1:], stdout, stderr, nil)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "svcnetd: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
