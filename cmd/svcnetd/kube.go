package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// kubeBinary is the program that serves DNS from a Kubernetes API: the
// kube module's build of svcnetd (kube/cmd/svcnetd-kube), apart because
// this module does not import client-go.
const kubeBinary = "svcnetd-kube"

// wantsKube reports whether svcnetd dns's arguments ask for a Kubernetes
// API (-kubeconfig, in any of the flag package's spellings) rather than
// manifests.
func wantsKube(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "kubeconfig" {
			return true
		}
	}
	return false
}

// execer is syscall.Exec, or a test's stand-in.
type execer func(path string, argv, env []string) error

// findKube returns the path of svcnetd-kube: beside this executable (as
// the image built by the Dockerfile holds both), else on PATH.
func findKube() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), kubeBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(kubeBinary)
	if err != nil {
		return "", fmt.Errorf("-kubeconfig is served by %s (build it with `cd kube && go build ./cmd/svcnetd-kube`), which is neither beside svcnetd nor on PATH: %w", kubeBinary, err)
	}
	return p, nil
}

// execKube replaces this process with `svcnetd-kube dns args...`, so
// that `svcnetd dns -kubeconfig PATH` serves a real cluster: the same
// process, signals and exit code. It returns only on failure.
func execKube(args []string, find func() (string, error), run execer) error {
	path, err := find()
	if err != nil {
		return err
	}
	argv := append([]string{kubeBinary, "dns"}, args...)
	err = run(path, argv, os.Environ()) // syscall.Exec returns only on failure
	return fmt.Errorf("exec %s: %w", path, err)
}

func sysExec(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }
