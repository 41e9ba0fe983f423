package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Phases of a cluster as recorded in the state file.
const (
	PhaseStarting = "starting"
	PhaseReady    = "ready"
	PhaseStopping = "stopping"
	PhaseStopped  = "stopped"
	PhaseFailed   = "failed"
)

// Child is one running part.
type Child struct {
	Part string `json:"part"`
	Pid  int    `json:"pid"`
	Log  string `json:"log"`
}

// Versions are the pinned component versions compiled into the binary.
type Versions struct {
	Kubernetes string `json:"kubernetes"`
	Etcd       string `json:"etcd"`
	Go         string `json:"go"`
}

// State is DIR/state.json, the contract with the Python driver (rollouts.devcluster): it reads
// pids to stop and check the cluster, ports for `status`, and Error when start-up failed.
type State struct {
	SupervisorPid int       `json:"supervisorPid"`
	StartedAt     time.Time `json:"startedAt"`
	Phase         string    `json:"phase"`
	// Error says why the cluster failed; FailedPart names the part whose log explains it.
	Error      string   `json:"error,omitempty"`
	FailedPart string   `json:"failedPart,omitempty"`
	Server     string   `json:"server,omitempty"`
	Nodes      int      `json:"nodes"`
	Ports      Ports    `json:"ports"`
	Children   []Child  `json:"children"`
	Versions   Versions `json:"versions"`
}

// WriteState replaces path atomically so a reader never sees half a file.
func WriteState(path string, s State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*.json")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadState reads a state file written by WriteState.
func ReadState(path string) (State, error) {
	var s State
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(data, &s)
}
