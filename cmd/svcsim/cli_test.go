package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFlagsAnywhere: flags after the files, as other CLIs take them,
// with one dash or two, and "--" ending the flags.
func TestFlagsAnywhere(t *testing.T) {
	before, after := t.TempDir(), t.TempDir()
	code, stdout1, stderr := svcsim(t, nil, "run", "-q", "-seeds", "2", "-duration", "10s", "-out", before, "testdata/small.yaml")
	require.Equal(t, exitOK, code, stderr)
	code, stdout2, stderr := svcsim(t, nil, "run", "testdata/small.yaml", "-q", "--seeds", "2", "-duration=10s", "--out", after)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, stdout1, stdout2)
	a, err := os.ReadFile(filepath.Join(before, "result.json"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(after, "result.json"))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))

	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	q := fs.Bool("q", false, "")
	out := fs.String("out", "", "")
	pos, err := parseArgs(fs, []string{"a", "-q", "b", "-out", "--", "c", "--", "-d", "e"})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c", "-d", "e"}, pos)
	require.True(t, *q)
	require.Equal(t, "--", *out, `"-out --" is a value`)
}

func TestVariantsWithSpaces(t *testing.T) {
	code, stdout, stderr := svcsim(t, nil, "run", "-out", "", "-duration", "10s", "-variants", " maglev , random,", "testdata/small.yaml")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "random")
	require.Contains(t, stdout, "maglev")
	code, _, stderr = svcsim(t, nil, "run", "-out", "", "-variants", " , ", "testdata/small.yaml")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "no variant named")
}

// TestHelpEverywhere: -h after a command is help, on stdout, exit 0.
func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"run", "-h"}, {"run", "testdata/small.yaml", "--help"}, {"merge", "-h"}, {"-q", "-h"}} {
		code, stdout, stderr := svcsim(t, nil, args...)
		require.Equal(t, exitOK, code, "%v: %s", args, stderr)
		require.Equal(t, usage, stdout, "%v", args)
		require.Empty(t, stderr, "%v", args)
	}
	code, _, stderr := svcsim(t, nil, "run", "-frob")
	require.Equal(t, exitUsage, code)
	require.Equal(t, "svcsim: flag provided but not defined: -frob (svcsim help lists the flags)\n", stderr, "the error once, no usage dump")
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		code, stdout, stderr := svcsim(t, nil, arg)
		require.Equal(t, exitOK, code, stderr)
		require.True(t, strings.HasPrefix(stdout, "svcsim "), stdout)
		require.Contains(t, stdout, "go1.")
	}
	code, _, _ := svcsim(t, nil, "version", "x")
	require.Equal(t, exitUsage, code)
}

// TestListErrorLines: an error in an item of a kind: List names the
// item and the lines of the item and of the field.
func TestListErrorLines(t *testing.T) {
	list := "testdata/bad-list.yaml"
	code, _, stderr := svcsim(t, nil, "run", "-out", "", "testdata/scenario-only.yaml", list)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, list+`: document 1 (line 3): items[1] (line 12): Deployment "default/web": spec.replicas (line 17): invalid value -2`)
}

// TestMergeNamesTheOtherSweep: the file of another sweep is named.
func TestMergeNamesTheOtherSweep(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	code, _, stderr := svcsim(t, nil, "run", "-out", a, "-shard", "0/2", "-duration", "10s", "testdata/small.yaml")
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = svcsim(t, nil, "run", "-out", b, "-shard", "1/2", "-duration", "11s", "testdata/small.yaml")
	require.Equal(t, exitOK, code, stderr)
	other := filepath.Join(b, "shard-0001-of-0002.json")
	code, _, stderr = svcsim(t, nil, "merge", "-out", "", a, other)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, other+" is of another sweep than "+filepath.Join(a, "shard-0000-of-0002.json"))
}

// TestDocsAgree: the help, the package doc and the README give the shard
// file names svcsim writes, and the seeds a sweep runs.
func TestDocsAgree(t *testing.T) {
	name := shardFile(shard{Index: 5, Count: 8})
	require.Equal(t, "shard-0005-of-0008.json", name)
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	for _, text := range []string{usage, string(doc)} {
		require.Contains(t, text, name)
		require.Contains(t, text, "seed..seed+N-1")
		require.NotContains(t, text, "shard-i-of-n.json")
	}
}
