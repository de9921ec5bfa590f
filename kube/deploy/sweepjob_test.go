package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/svcnet/svcnet/sim"
)

const sweepJob = "../../deploy/sweep-job.yaml"

// manifests are sweep-job.yaml's objects, decoded strictly (an unknown
// or misspelled field is an error) into k8s.io/api types.
type manifests struct {
	pvc      *corev1.PersistentVolumeClaim
	scenario *corev1.ConfigMap
	sweep    *batchv1.Job
	merge    *batchv1.Job
}

func readManifests(t *testing.T) manifests {
	t.Helper()
	b, err := os.ReadFile(sweepJob)
	require.NoError(t, err)
	var m manifests
	for i, doc := range regexp.MustCompile(`(?m)^---$`).Split(string(b), -1) {
		var tm metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal([]byte(doc), &tm), "document %d", i)
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 PersistentVolumeClaim":
			m.pvc = new(corev1.PersistentVolumeClaim)
			obj = m.pvc
		case "v1 ConfigMap":
			m.scenario = new(corev1.ConfigMap)
			obj = m.scenario
		case "batch/v1 Job":
			j := new(batchv1.Job)
			obj = j
			if m.sweep == nil {
				m.sweep = j
			} else {
				m.merge = j
			}
		default:
			t.Fatalf("document %d: unexpected %s %s", i, tm.APIVersion, tm.Kind)
		}
		require.NoError(t, yaml.UnmarshalStrict([]byte(doc), obj), "document %d (%s)", i, tm.Kind)
	}
	require.NotNil(t, m.pvc)
	require.NotNil(t, m.scenario)
	require.NotNil(t, m.sweep)
	require.NotNil(t, m.merge, "the merge Job")
	return m
}

// flagValue returns the value after flag in args, and the arguments that
// are not flags or flag values (svcsim's flags all take a value but -q,
// -runs, -partial and -strict).
func splitArgs(args []string) (flags map[string]string, positional []string) {
	boolFlags := map[string]bool{"-q": true, "-runs": true, "-partial": true, "-strict": true}
	flags = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case boolFlags[a]:
			flags[a] = "true"
		case strings.HasPrefix(a, "-") && i+1 < len(args):
			flags[a] = args[i+1]
			i++
		default:
			positional = append(positional, a)
		}
	}
	return flags, positional
}

// mountOf returns the volume mounted at the longest mount path holding p,
// and p's path inside that volume.
func mountOf(t *testing.T, spec corev1.PodSpec, p string) (corev1.Volume, string) {
	t.Helper()
	c := spec.Containers[0]
	var best *corev1.VolumeMount
	for i, vm := range c.VolumeMounts {
		if (p == vm.MountPath || strings.HasPrefix(p, strings.TrimSuffix(vm.MountPath, "/")+"/")) && (best == nil || len(vm.MountPath) > len(best.MountPath)) {
			best = &c.VolumeMounts[i]
		}
	}
	require.NotNil(t, best, "%s is on no volume", p)
	for _, v := range spec.Volumes {
		if v.Name == best.Name {
			rel, err := filepath.Rel(best.MountPath, p)
			require.NoError(t, err)
			return v, rel
		}
	}
	t.Fatalf("volume %q is not declared", best.Name)
	return corev1.Volume{}, ""
}

// TestSweepJob checks the sweep Job's shard arguments against its
// completions, that the merge Job reads the directory the shards are
// written to on the same claim, and the scenario it runs.
func TestSweepJob(t *testing.T) {
	m := readManifests(t)
	s := m.sweep.Spec
	require.Equal(t, ptr(batchv1.IndexedCompletion), s.CompletionMode)
	require.NotNil(t, s.Completions)
	n := int(*s.Completions)
	require.Positive(t, n)
	require.NotNil(t, s.Parallelism)
	require.LessOrEqual(t, int(*s.Parallelism), n)
	require.Equal(t, corev1.RestartPolicyNever, s.Template.Spec.RestartPolicy, "an Indexed Job's failed shard is a new pod (backoffLimitPerIndex)")

	require.Len(t, s.Template.Spec.Containers, 1)
	c := s.Template.Spec.Containers[0]
	require.Equal(t, []string{"/svcsim"}, c.Command)
	require.Equal(t, "run", c.Args[0])
	flags, files := splitArgs(c.Args[1:])
	// -shard i/n, i from the Job controller's JOB_COMPLETION_INDEX and n
	// the completions: each index runs its own shard, all n run.
	require.Equal(t, "$(JOB_COMPLETION_INDEX)/"+strconv.Itoa(n), flags["-shard"])
	for _, e := range c.Env {
		require.NotEqual(t, "JOB_COMPLETION_INDEX", e.Name, "the Job controller sets it; a container env would shadow it")
	}
	out := flags["-out"]
	require.True(t, path.IsAbs(out), "-out %q", out)
	shardVol, shardDir := mountOf(t, s.Template.Spec, out)
	require.NotNil(t, shardVol.PersistentVolumeClaim, "shards go to a volume that outlives the pods")
	require.Equal(t, m.pvc.Name, shardVol.PersistentVolumeClaim.ClaimName)

	// The scenario file is the ConfigMap's key.
	require.Len(t, files, 1)
	scVol, scKey := mountOf(t, s.Template.Spec, files[0])
	require.NotNil(t, scVol.ConfigMap)
	require.Equal(t, m.scenario.Name, scVol.ConfigMap.Name)
	text, ok := m.scenario.Data[scKey]
	require.True(t, ok, "ConfigMap %s has no key %q", m.scenario.Name, scKey)
	sc, err := sim.DecodeScenario([]byte(text))
	require.NoError(t, err, "the ConfigMap's scenario")
	require.Empty(t, sim.Lint(sc))
	builtin, err := os.ReadFile("../../cmd/svcsim/default.yaml")
	require.NoError(t, err)
	require.Equal(t, string(builtin), text, "the ConfigMap holds svcsim's built-in scenario, as its comment says")

	// The merge Job: suspended until the sweep completes, reading the
	// shards' directory on the same claim.
	ms := m.merge.Spec
	require.Equal(t, ptr(true), ms.Suspend)
	require.Nil(t, ms.CompletionMode)
	mc := ms.Template.Spec.Containers[0]
	require.Equal(t, []string{"/svcsim"}, mc.Command)
	require.Equal(t, "merge", mc.Args[0])
	mflags, paths := splitArgs(mc.Args[1:])
	require.Len(t, paths, 1)
	inVol, inDir := mountOf(t, ms.Template.Spec, paths[0])
	require.NotNil(t, inVol.PersistentVolumeClaim)
	require.Equal(t, m.pvc.Name, inVol.PersistentVolumeClaim.ClaimName)
	require.Equal(t, shardDir, inDir, "merge reads the directory the shards are written to")
	_, outDir := mountOf(t, ms.Template.Spec, mflags["-out"])
	require.NotEqual(t, inDir, outDir, "the merged report goes beside the shards, not among them")

	// What each index writes, as svcsim names it (shardFile in
	// cmd/svcsim: shard-%04d-of-%04d.json), matches merge's pattern
	// (shard-*-of-*.json) once each.
	for i := range n {
		name := fmt.Sprintf("shard-%04d-of-%04d.json", i, n)
		ok, err := filepath.Match("shard-*-of-*.json", name)
		require.NoError(t, err)
		require.True(t, ok, name)
	}
	require.Contains(t, m.pvc.Spec.AccessModes, corev1.ReadWriteMany, "pods of the sweep run on many nodes")
}

// TestSweepJobRuns runs the Jobs' own arguments with svcsim built from
// this repository: every index of the sweep Job, then the merge Job, with
// the volumes as directories, and -seeds 1 -duration 35s appended (the rollout is at 30s) to keep
// it short (svcsim's last flag wins). The merge must find every shard.
func TestSweepJobRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs svcsim; not with -short")
	}
	m := readManifests(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "svcsim")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/svcsim")
	build.Dir = "../.."
	outb, err := build.CombinedOutput()
	require.NoError(t, err, "%s", outb)

	shards, scenario := filepath.Join(dir, "shards"), filepath.Join(dir, "scenario")
	require.NoError(t, os.MkdirAll(scenario, 0o755))
	for k, v := range m.scenario.Data {
		require.NoError(t, os.WriteFile(filepath.Join(scenario, k), []byte(v), 0o644))
	}
	remap := func(args []string, index int) []string {
		out := slices.Clone(args)
		for i, a := range out {
			a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(index))
			a = strings.Replace(a, "/shards", shards, 1)
			out[i] = strings.Replace(a, "/scenario", scenario, 1)
		}
		return out
	}
	runArgs := m.sweep.Spec.Template.Spec.Containers[0].Args
	for i := range int(*m.sweep.Spec.Completions) {
		cmd := exec.CommandContext(ctx, bin, append(remap(runArgs, i), "-seeds", "1", "-duration", "35s")...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Run(), "index %d: %s", i, stderr.String())
	}
	cmd := exec.CommandContext(ctx, bin, remap(m.merge.Spec.Template.Spec.Containers[0].Args, 0)...)
	outb, err = cmd.CombinedOutput()
	require.NoError(t, err, "merge: %s", outb)
	_, err = os.Stat(filepath.Join(shards, "merged", "result.json"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(shards, "merged", "report.html"))
	require.NoError(t, err)
}

func ptr[T any](v T) *T { return &v }
