// Package deploy tests the repository's deployment files against
// Kubernetes' own types: deploy/sweep-job.yaml (the Indexed Job that
// shards a svcsim sweep and the Job that merges the shards) and the
// Dockerfile that builds the image they run. It has no code of its own.
package deploy
