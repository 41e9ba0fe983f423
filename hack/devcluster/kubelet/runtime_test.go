package kubelet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// These tests run real processes in real mount namespaces (the test binary re-executes itself
// through containerinit.go), as the kubelet does; they need root, as the devcluster does.

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("the process runtime needs root for mount namespaces (running as uid %d)", os.Geteuid())
	}
}

type runtimeHarness struct {
	t       *testing.T
	rt      *processRuntime
	mu      sync.Mutex
	wakeups map[string]int
}

func newHarness(t *testing.T) *runtimeHarness {
	requireRoot(t)
	h := &runtimeHarness{t: t, wakeups: map[string]int{}}
	h.rt = newProcessRuntime(t.TempDir(), func(key string) {
		h.mu.Lock()
		h.wakeups[key]++
		h.mu.Unlock()
	}, time.Now)
	t.Cleanup(h.rt.stopAll)
	return h
}

func runtimePod(name string) *corev1.Pod {
	pod := podOf()
	pod.Name = name
	pod.UID = types.UID("uid-" + name)
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	return pod
}

func (h *runtimeHarness) start(pod *corev1.Pod, c *corev1.Container, mounts []bindMount, env ...string) {
	argv := append(append([]string{}, c.Command...), c.Args...)
	env = append([]string{"PATH=" + hostSearchPath()}, env...)
	h.rt.start(pod, pod.Namespace+"/"+pod.Name, c, 0, argv, env, mounts)
}

// await polls until the run satisfies done; the bound only keeps a broken test from hanging.
func (h *runtimeHarness) await(pod *corev1.Pod, container string, done func(*containerRun) bool) *containerRun {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if run := h.rt.snapshot(pod.UID)[container]; run != nil && done(run) {
			return run
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("container %s of %s never reached the awaited state: %+v", container, pod.Name, h.rt.snapshot(pod.UID)[container])
	return nil
}

func finished(run *containerRun) bool { return !run.Finished.IsZero() }

func TestPrivateTmpPerContainer(t *testing.T) {
	h := newHarness(t)
	marker := fmt.Sprintf("/tmp/out-%d", os.Getpid())
	pods := []*corev1.Pod{runtimePod("a"), runtimePod("b")}
	for _, pod := range pods {
		script := fmt.Sprintf("echo %s > %s; sleep 0.5; cat %s > /dev/termination-log", pod.Name, marker, marker)
		h.start(pod, &corev1.Container{Name: "main", Command: []string{"sh", "-c", script}}, nil)
	}
	for _, pod := range pods {
		run := h.await(pod, "main", finished)
		if run.ExitCode != 0 || run.Message != pod.Name+"\n" {
			t.Fatalf("pod %s read back %q (exit %d), want its own content", pod.Name, run.Message, run.ExitCode)
		}
		if run.Started.IsZero() || run.StartError != "" {
			t.Fatalf("run %+v", run)
		}
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("a container's /tmp write reached the host's /tmp: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wakeups["ns/a"] < 2 || h.wakeups["ns/b"] < 2 {
		t.Fatalf("the runtime must wake the pod on start and on exit: %v", h.wakeups)
	}
}

func TestExitCodeLogsAndFallbackMessage(t *testing.T) {
	h := newHarness(t)
	pod := runtimePod("exit")
	c := &corev1.Container{Name: "main", Command: []string{"sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError}
	h.start(pod, c, nil)
	run := h.await(pod, "main", finished)
	if run.ExitCode != 3 || run.Message != "to-stdout\nto-stderr\n" {
		t.Fatalf("exit %d message %q", run.ExitCode, run.Message)
	}
	log, err := os.ReadFile(filepath.Join(podDir(h.rt.stateDir, pod), "main.log"))
	if err != nil || string(log) != "to-stdout\nto-stderr\n" {
		t.Fatalf("log file: %q %v", log, err)
	}
}

func TestWorkingDirEnvAndCustomTerminationPath(t *testing.T) {
	h := newHarness(t)
	pod := runtimePod("env")
	dir := t.TempDir()
	c := &corev1.Container{Name: "main", WorkingDir: dir, TerminationMessagePath: "/tmp/custom/term",
		Command: []string{"python3", "-c", "import os; open('/tmp/custom/term','w').write(os.getcwd()+' '+os.environ['GREETING'])"}}
	h.start(pod, c, nil, "GREETING=hi")
	run := h.await(pod, "main", finished)
	if run.ExitCode != 0 || run.Message != dir+" hi" {
		t.Fatalf("exit %d message %q, want %q", run.ExitCode, run.Message, dir+" hi")
	}
}

func TestStartErrors(t *testing.T) {
	h := newHarness(t)
	pod := runtimePod("broken")
	h.start(pod, &corev1.Container{Name: "nocmd", Command: []string{"no-such-command-here"}}, nil)
	h.start(pod, &corev1.Container{Name: "abs", Command: []string{"/no/such/binary"}}, nil)
	h.start(pod, &corev1.Container{Name: "mount", Command: []string{"true"}}, []bindMount{{Source: "/no/such/source", Target: "/data"}})
	for name, want := range map[string]string{
		"nocmd": `exec: "no-such-command-here": executable file not found in $PATH`,
		"abs":   `exec: "/no/such/binary": stat /no/such/binary: no such file or directory`,
		"mount": "opening mount source /no/such/source",
	} {
		run := h.await(pod, name, finished)
		if !strings.Contains(run.StartError, want) || !run.Started.IsZero() {
			t.Errorf("%s: start error %q, want it to contain %q", name, run.StartError, want)
		}
	}
}

func TestEmptyDirIsSharedWithinAPodOnly(t *testing.T) {
	h := newHarness(t)
	pod := runtimePod("shared")
	volume := filepath.Join(podDir(h.rt.stateDir, pod), "volumes", "work")
	if err := os.MkdirAll(volume, 0o777); err != nil {
		t.Fatal(err)
	}
	mounts := []bindMount{{Source: volume, Target: "/tmp/work"}}
	h.start(pod, &corev1.Container{Name: "writer", Command: []string{"sh", "-c", "echo shared > /tmp/work/file"}}, mounts)
	h.await(pod, "writer", finished)
	h.start(pod, &corev1.Container{Name: "reader", Command: []string{"sh", "-c", "cat /tmp/work/file > /dev/termination-log; ls /tmp"}}, mounts)
	if run := h.await(pod, "reader", finished); run.Message != "shared\n" {
		t.Fatalf("the second container saw %q in the shared volume", run.Message)
	}
	log, _ := os.ReadFile(filepath.Join(podDir(h.rt.stateDir, pod), "reader.log"))
	if strings.TrimSpace(string(log)) != "work" {
		t.Fatalf("the reader's /tmp holds %q; want only the volume, not the writer's files", log)
	}
}

func TestSignalsFollowContainerSemantics(t *testing.T) {
	h := newHarness(t)
	pod := runtimePod("sleepy")
	// The main process reports its background child's PID, then waits for it.
	script := "sleep 1000 & echo $! > /dev/termination-log; wait"
	h.start(pod, &corev1.Container{Name: "main", Command: []string{"sh", "-c", script}}, nil)
	h.await(pod, "main", func(r *containerRun) bool { return r.isRunning() })
	if !h.rt.isRunning(pod.UID, "main") {
		t.Fatalf("isRunning disagrees with the snapshot")
	}
	h.rt.signal(pod.UID, "main", actionTerm)
	run := h.await(pod, "main", finished)
	if run.ExitCode != 143 || !run.TermSent {
		t.Fatalf("SIGTERM goes to the main process, which dies of it: %+v", run)
	}
	child := strings.TrimSpace(run.Message)
	alive := func() bool { // a zombie has died; only its parent's wait is missing
		stat, err := os.ReadFile("/proc/" + child + "/stat")
		return err == nil && !strings.Contains(string(stat), ") Z ")
	}
	for deadline := time.Now().Add(10 * time.Second); alive() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // SIGKILL is delivered asynchronously
	}
	if child == "" || alive() {
		t.Fatalf("the background child %q outlived the container's main process", child)
	}

	h.start(pod, &corev1.Container{Name: "stubborn", Command: []string{"sh", "-c", "trap '' TERM; sleep 1000 & wait"}}, nil)
	h.await(pod, "stubborn", func(r *containerRun) bool { return r.isRunning() })
	h.rt.signal(pod.UID, "stubborn", actionTerm)
	h.rt.signal(pod.UID, "stubborn", actionKill)
	if run := h.await(pod, "stubborn", finished); run.ExitCode != 137 || !run.KillSent {
		t.Fatalf("SIGKILL ends what ignores SIGTERM: %+v", run)
	}
}

func TestForgetKillsAndRemovesScratch(t *testing.T) {
	h := newHarness(t)
	pod := runtimePod("gone")
	h.start(pod, &corev1.Container{Name: "main", Command: []string{"sleep", "1000"}}, nil)
	h.await(pod, "main", func(r *containerRun) bool { return r.isRunning() })
	dir := podDir(h.rt.stateDir, pod)
	h.rt.forget(pod.UID)
	if _, err := os.Stat(filepath.Join(dir, "main", "tmp")); !os.IsNotExist(err) {
		t.Fatalf("scratch dir kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.log")); err != nil {
		t.Fatalf("the log must stay for inspection: %v", err)
	}
	if len(h.rt.snapshot(pod.UID)) != 0 {
		t.Fatalf("a forgotten pod has no runs")
	}
}
