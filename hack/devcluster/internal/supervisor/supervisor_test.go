package supervisor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rollouts/rollouts/hack/devcluster/internal/cluster"
)

// fakeParts writes an executable standing in for the devcluster binary: every part sleeps,
// except `failing`, which prints a line and exits 3. Real processes, no Kubernetes.
func fakeParts(t *testing.T, failing string) string {
	t.Helper()
	script := "#!/bin/sh\nif [ \"$1\" = \"" + failing + "\" ]; then echo \"$1 cannot start: boom\"; exit 3; fi\nexec sleep 60\n"
	path := filepath.Join(t.TempDir(), "devcluster")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func spec(t *testing.T, self string, startTimeout time.Duration) Spec {
	t.Helper()
	layout := cluster.Layout{Dir: t.TempDir()}
	if err := os.MkdirAll(layout.LogsDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	ports, err := cluster.AllocatePorts(0)
	if err != nil {
		t.Fatal(err)
	}
	return Spec{
		Self: self, Layout: layout, Ports: ports,
		Options:      cluster.Options{Nodes: 1, NodeNamePrefix: "n-"},
		StartTimeout: startTimeout, StopGrace: 5 * time.Second, Log: &bytes.Buffer{},
	}
}

func TestAPartThatExitsDuringStartUpFailsTheClusterAndNamesThePart(t *testing.T) {
	s := spec(t, fakeParts(t, cluster.PartEtcd), time.Minute)
	err := Run(context.Background(), s)
	var partErr *PartError
	if !errors.As(err, &partErr) || partErr.Part != cluster.PartEtcd {
		t.Fatalf("want a PartError for etcd, got %v", err)
	}
	state, readErr := cluster.ReadState(s.Layout.StateFile())
	if readErr != nil {
		t.Fatal(readErr)
	}
	if state.Phase != cluster.PhaseFailed || state.FailedPart != cluster.PartEtcd || !strings.Contains(state.Error, "exit status 3") {
		t.Fatalf("state does not record the failure: %+v", state)
	}
	log, _ := os.ReadFile(s.Layout.LogFile(cluster.PartEtcd))
	if !strings.Contains(string(log), "etcd cannot start: boom") {
		t.Fatalf("part log lacks its output: %q", log)
	}
	if _, err := os.Stat(s.Layout.ReadyFile()); !os.IsNotExist(err) {
		t.Fatal("ready file exists after a failure")
	}
}

func TestAPartThatNeverBecomesHealthyTimesOutAndIsStopped(t *testing.T) {
	// Every part sleeps, so etcd's health URL never answers.
	s := spec(t, fakeParts(t, "none"), 500*time.Millisecond)
	err := Run(context.Background(), s)
	var partErr *PartError
	if !errors.As(err, &partErr) || partErr.Part != cluster.PartEtcd || !strings.Contains(err.Error(), "not healthy") {
		t.Fatalf("want etcd not healthy, got %v", err)
	}
	state, _ := cluster.ReadState(s.Layout.StateFile())
	if len(state.Children) != 1 {
		t.Fatalf("only etcd should have started: %+v", state.Children)
	}
	if processAlive(state.Children[0].Pid) {
		t.Fatal("the sleeping etcd stand-in was left running")
	}
}

func TestAStopRequestDuringStartUpIsACleanShutdown(t *testing.T) {
	s := spec(t, fakeParts(t, "none"), time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if state, err := cluster.ReadState(s.Layout.StateFile()); err == nil && len(state.Children) > 0 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if err := Run(ctx, s); err != nil {
		t.Fatalf("a requested stop is not an error: %v", err)
	}
	state, _ := cluster.ReadState(s.Layout.StateFile())
	if state.Phase != cluster.PhaseStopped || processAlive(state.Children[0].Pid) {
		t.Fatalf("not stopped cleanly: %+v", state)
	}
}

// processAlive is true for a running process (a reaped child's pid no longer exists).
func processAlive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
