package deploy

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDockerfile checks what the repository's Dockerfile can be checked
// for without a registry to build it: a Go build stage of the go.mod's
// Go version without cgo, a distroless static (or scratch) runtime, the
// build targets are the main packages that exist, every binary built is
// copied into the image, the sweep Job's command is one of them, and the
// image's user is the Job's.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	// Join continued lines.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var froms, runs, copies []string
	var user string
	var cgoOff bool
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			froms = append(froms, rest)
		case "RUN":
			runs = append(runs, rest)
		case "COPY":
			copies = append(copies, rest)
		case "USER":
			user = rest
		case "ENV":
			if strings.Contains(rest, "CGO_ENABLED=0") {
				cgoOff = true
			}
		}
	}
	require.Len(t, froms, 2, "multi-stage: build, then runtime")
	gomod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	require.NotNil(t, goVersion)
	require.Equal(t, "golang:"+string(goVersion[1])+" AS build", froms[0])
	require.Regexp(t, `^(gcr\.io/distroless/static(-debian\d+)?(:[a-z0-9-]+)?|scratch)$`, froms[1])
	require.True(t, cgoOff, "static binaries: CGO_ENABLED=0")

	// go build -o /out/NAME ./PKG, run in the repository or in kube/.
	built := map[string]string{}
	build := regexp.MustCompile(`go build [^&]*-o (/out/[\w-]+) (\./[\w/-]+)`)
	for _, r := range runs {
		dir := "../.."
		for _, step := range strings.Split(r, "&&") {
			step = strings.TrimSpace(step)
			if d, ok := strings.CutPrefix(step, "cd "); ok {
				dir = filepath.Join("../..", d)
				continue
			}
			if m := build.FindStringSubmatch(step); m != nil {
				built[m[1]] = filepath.Join(dir, m[2])
			}
		}
	}
	require.Equal(t, []string{"/out/svcnetd", "/out/svcnetd-kube", "/out/svcsim"}, sortedKeys(built))
	for out, pkg := range built {
		isMain(t, pkg, out)
	}
	var final string
	for _, c := range copies {
		if strings.HasPrefix(c, "--from=build ") {
			final = strings.TrimPrefix(c, "--from=build ")
		}
	}
	fields := strings.Fields(final)
	require.Equal(t, "/", fields[len(fields)-1])
	require.ElementsMatch(t, sortedKeys(built), fields[:len(fields)-1], "every binary built is in the image")

	m := readManifests(t)
	for _, spec := range []string{m.sweep.Spec.Template.Spec.Containers[0].Command[0], m.merge.Spec.Template.Spec.Containers[0].Command[0]} {
		require.Contains(t, built, "/out"+spec, "the Jobs run %s", spec)
	}
	require.Equal(t, "65532:65532", user)
	require.Equal(t, int64(65532), *m.sweep.Spec.Template.Spec.SecurityContext.RunAsUser)
	require.Equal(t, int64(65532), *m.merge.Spec.Template.Spec.SecurityContext.RunAsUser)
}

// isMain checks that dir holds package main (a build target of go build -o).
func isMain(t *testing.T, dir, out string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var n int
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		require.NoError(t, err)
		require.Equal(t, "main", file.Name.Name, "%s: %s is not package main", out, f)
		n++
	}
	require.Positive(t, n, "%s: no Go files in %s", out, dir)
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
