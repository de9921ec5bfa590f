package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunProgress: Progress is called with simulated time going forward
// to the end, and the Result is byte for byte Run's, also when an
// invariant stops the run.
func TestRunProgress(t *testing.T) {
	s := small(7)
	s.Churn = []ChurnSpec{{Rate: 0.1}, {Action: ActionCrashPod, Rate: 0.02}}
	s.Timeline = []TimelineEvent{
		{At: Duration(time.Minute), Action: ActionRollout, Target: "svc-0"},
		{At: Duration(90 * time.Second), Action: ActionKillNode, Target: "node-1", For: D(time.Minute)},
	}
	want, err := Run(s)
	require.NoError(t, err)
	var calls []Progress
	got, err := RunWithOptions(s, RunOptions{ProgressEvery: 7 * time.Second, Progress: func(p Progress) { calls = append(calls, p) }})
	require.NoError(t, err)
	require.Equal(t, string(mustJSON(t, want)), string(mustJSON(t, got)))
	require.Len(t, calls, int((s.Duration.D()+7*time.Second-1)/(7*time.Second)))
	for i, p := range calls {
		require.Equal(t, s.Duration.D(), p.Duration)
		if i > 0 {
			require.Greater(t, p.Now, calls[i-1].Now)
			require.GreaterOrEqual(t, p.Events, calls[i-1].Events)
		}
	}
	require.Equal(t, 7*time.Second, calls[0].Now)
	last := calls[len(calls)-1]
	require.Equal(t, s.Duration.D(), last.Now)
	require.Equal(t, want.Events, last.Events)

	// Stopped by an invariant: the last call is where it stopped.
	s.Checks.ConvergenceBound = D(10 * time.Millisecond)
	want, wantErr := Run(s)
	require.ErrorIs(t, wantErr, ErrViolation)
	calls = nil
	got, err = RunWithOptions(s, RunOptions{Progress: func(p Progress) { calls = append(calls, p) }})
	require.Equal(t, wantErr.Error(), err.Error())
	require.Equal(t, string(mustJSON(t, want)), string(mustJSON(t, got)))
	require.Equal(t, want.Duration.D(), calls[len(calls)-1].Now)
	require.Less(t, calls[len(calls)-1].Now, s.Duration.D())
}
