// Package kubelet is the devcluster's fake kubelet: one process that registers N fake nodes and
// gives the pods bound to them the status a real kubelet would report.
//
// Two kinds of pods are treated differently, because tests need both to be cheap and honest:
//
//   - Long-running pods (restartPolicy Always, e.g. ReplicaSet pods) are simulated. Nothing runs;
//     their status is a pure function of the spec, the status already written and the clock
//     (postStart hooks, readiness probe delays, readiness gates, crash loops, image pull
//     failures), so a restarted kubelet derives exactly the same status again.
//   - Job-like pods (owned by a Job, or restartPolicy Never/OnFailure, which is how workflow steps
//     run) really run: each container's command is a local process in a private mount namespace
//     with its own /tmp, emptyDir and termination-message files (see runtime.go and
//     containerinit.go). Exit codes and termination messages become the container status.
//
// The package is split into a functional core (options, pods, nodes, ipam, hooks, backoff,
// containers, processes, conditions, stopping, podstatus, env, termination, and volumeFiles in
// volumes: pure, unit-tested) and an imperative shell (run, heartbeat, sync, runtime,
// containerinit, the rest of volumes, logserver). README.md describes the behaviour for users.
package kubelet

import (
	"fmt"
	"regexp"
	"time"
)

// Options configures one fake kubelet process.
type Options struct {
	// Kubeconfig is the admin kubeconfig written by the supervisor.
	Kubeconfig string
	// Nodes is how many fake nodes to register; default 3.
	Nodes int
	// NodeNamePrefix names the nodes <prefix>0, <prefix>1, ...; default "devcluster-node-".
	NodeNamePrefix string
	// StateDir holds per-pod directories: container logs, termination files, scratch dirs.
	StateDir string
	// DenyImagePattern is a Go regexp; containers whose image matches fail with ErrImagePull
	// then ImagePullBackOff. Empty: no image is denied.
	DenyImagePattern string

	// Workers is how many pods are synced concurrently; default 4 (syncs mostly wait on the API).
	Workers int
	// CrashLoopBackOffInitial is the first restart delay of a crashing container; default 10s
	// as upstream. Each restart doubles it up to CrashLoopBackOffMax (default 5m).
	CrashLoopBackOffInitial time.Duration
	CrashLoopBackOffMax     time.Duration
	// LeaseRenewInterval is how often each node's Lease is renewed; default 10s as upstream.
	LeaseRenewInterval time.Duration
	// NodeStatusInterval is how often the NodeReady heartbeat is refreshed; default 1m.
	NodeStatusInterval time.Duration
	// LogServerAddressBase is the first loopback address of the nodes (node i gets base+i); the
	// log server listens there so `kubectl logs` works. Default 127.0.1.1.
	LogServerAddressBase string
	// Log receives progress lines; nil means standard error.
	Log func(format string, args ...any)
}

// Defaults for the zero values of Options.
const (
	DefaultNodes          = 3
	DefaultNodeNamePrefix = "devcluster-node-"
	defaultWorkers        = 4
	defaultBackoffInitial = 10 * time.Second
	defaultBackoffMax     = 5 * time.Minute
	defaultLeaseRenew     = 10 * time.Second
	defaultNodeStatus     = time.Minute
	defaultAddressBase    = "127.0.1.1"
	// maxNodes keeps every node's pod CIDR inside 10.244.0.0/16 (see ipam.go).
	maxNodes = 64
)

// withDefaults fills the zero values and checks what cannot work, so Run fails at once with a
// clear message instead of half-starting.
func (o Options) withDefaults() (Options, error) {
	if o.Nodes == 0 {
		o.Nodes = DefaultNodes
	}
	if o.NodeNamePrefix == "" {
		o.NodeNamePrefix = DefaultNodeNamePrefix
	}
	if o.Workers == 0 {
		o.Workers = defaultWorkers
	}
	if o.CrashLoopBackOffInitial == 0 {
		o.CrashLoopBackOffInitial = defaultBackoffInitial
	}
	if o.CrashLoopBackOffMax == 0 {
		o.CrashLoopBackOffMax = defaultBackoffMax
	}
	if o.LeaseRenewInterval == 0 {
		o.LeaseRenewInterval = defaultLeaseRenew
	}
	if o.NodeStatusInterval == 0 {
		o.NodeStatusInterval = defaultNodeStatus
	}
	if o.LogServerAddressBase == "" {
		o.LogServerAddressBase = defaultAddressBase
	}
	switch {
	case o.Nodes < 1 || o.Nodes > maxNodes:
		return o, fmt.Errorf("nodes must be between 1 and %d, got %d", maxNodes, o.Nodes)
	case o.StateDir == "":
		return o, fmt.Errorf("a state directory is required (container logs and scratch dirs live there)")
	case o.Kubeconfig == "":
		return o, fmt.Errorf("a kubeconfig is required")
	case o.Workers < 1:
		return o, fmt.Errorf("workers must be at least 1, got %d", o.Workers)
	case o.CrashLoopBackOffInitial <= 0 || o.CrashLoopBackOffMax < o.CrashLoopBackOffInitial:
		return o, fmt.Errorf("crash loop back-off must be positive and its max (%s) at least its initial delay (%s)", o.CrashLoopBackOffMax, o.CrashLoopBackOffInitial)
	}
	if _, err := regexp.Compile(o.DenyImagePattern); err != nil {
		return o, fmt.Errorf("deny image pattern %q is not a valid Go regular expression: %w", o.DenyImagePattern, err)
	}
	if _, err := nodeAddress(o.LogServerAddressBase, o.Nodes-1); err != nil {
		return o, err
	}
	return o, nil
}

// imageDenier returns the predicate the status planner uses; nil pattern denies nothing.
func (o Options) imageDenier() func(image string) bool {
	if o.DenyImagePattern == "" {
		return func(string) bool { return false }
	}
	pattern := regexp.MustCompile(o.DenyImagePattern) // validated in withDefaults
	return pattern.MatchString
}
