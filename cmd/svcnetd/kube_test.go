package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWantsKube(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"-kubeconfig", "/k"}, true},
		{[]string{"--kubeconfig=/k", "-listen", ":53"}, true},
		{[]string{"-listen", ":53", "-kubeconfig=/k"}, true},
		{[]string{"-manifests", "dir"}, false},
		{[]string{"-manifests", "kubeconfig"}, false}, // a value, not a flag
		{[]string{"-kubeconfigs", "/k"}, false},
		{[]string{"--", "-kubeconfig"}, false},
	} {
		require.Equal(t, c.want, wantsKube(c.args), "%q", c.args)
	}
}

// TestExecKube checks what `svcnetd dns -kubeconfig` runs: svcnetd-kube's
// dns command with the arguments as given, and a clear error when
// svcnetd-kube cannot be found or run.
func TestExecKube(t *testing.T) {
	var gotPath string
	var gotArgv []string
	run := func(path string, argv, env []string) error {
		gotPath, gotArgv = path, argv
		return errors.New("stand-in")
	}
	args := []string{"-kubeconfig", "/home/me/.kube/config", "-listen", "127.0.0.1:5353"}
	err := execKube(args, func() (string, error) { return "/opt/svcnet/svcnetd-kube", nil }, run)
	require.ErrorContains(t, err, "exec /opt/svcnet/svcnetd-kube: stand-in")
	require.Equal(t, "/opt/svcnet/svcnetd-kube", gotPath)
	require.Equal(t, append([]string{"svcnetd-kube", "dns"}, args...), gotArgv)

	gotPath = ""
	err = execKube(args, func() (string, error) { return "", errors.New("not found") }, run)
	require.ErrorContains(t, err, "not found")
	require.Empty(t, gotPath, "nothing run without svcnetd-kube")
}

// TestDNSKubeconfigWithoutKube runs the command as a user would on a
// machine without svcnetd-kube: exit 1 and a message naming it.
func TestDNSKubeconfigWithoutKube(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr strings.Builder
	code := run(t.Context(), []string{"dns", "-kubeconfig", "/nonexistent"}, &stdout, &stderr)
	require.Equal(t, exitError, code)
	require.Contains(t, stderr.String(), "svcnetd-kube")
	require.Contains(t, stderr.String(), "go build ./cmd/svcnetd-kube")
}

// TestExecKubeReplacesProcess runs svcnetd (this test binary, re-executed)
// with -kubeconfig and a stand-in svcnetd-kube on PATH that prints its
// arguments and exits 7: the process becomes svcnetd-kube, with its
// arguments, output and exit code.
func TestExecKubeReplacesProcess(t *testing.T) {
	if os.Getenv("SVCNETD_EXEC_CHILD") == "1" {
		os.Exit(run(context.Background(), []string{"dns", "-kubeconfig", "/k", "-listen", "127.0.0.1:5353"}, os.Stdout, os.Stderr))
	}
	if runtime.GOOS == "windows" {
		t.Skip("exec replaces the process only on Unix")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"$0 $*\"\nexit 7\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "svcnetd-kube"), []byte(script), 0o755))
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecKubeReplacesProcess$")
	cmd.Env = append(os.Environ(), "SVCNETD_EXEC_CHILD=1", "PATH="+dir)
	out, err := cmd.Output()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 7, ee.ExitCode())
	require.Equal(t, filepath.Join(dir, "svcnetd-kube")+" dns -kubeconfig /k -listen 127.0.0.1:5353\n", string(out))
}
