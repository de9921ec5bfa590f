package sim

import "time"

// Epoch returns the wall-clock time a run's simulated time 0 stands for:
// the Cluster's clock reads Epoch plus the simulated time, and
// timestamps in the cluster's objects are counted from it. It is fixed,
// so that outputs stamped with simulated times are reproducible.
func Epoch() time.Time { return epoch }
