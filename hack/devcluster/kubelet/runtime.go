package kubelet

// The process runtime of job-like pods. Each container run is one process group, started through
// containerinit.go in a private mount namespace, with stdout and stderr going to a log file. The
// runtime only records what happens (started, failed to start, exited with code and termination
// message) and wakes the pod's sync; what to start or signal is decided by planPod.
//
// Files live in StateDir/<namespace>_<pod>_<uid>/:
//
//	<container>.log               stdout+stderr of the current run (kept after the pod is gone)
//	<container>.previous.log      the run before, after a restart
//	<container>.termination-log   the file mounted at terminationMessagePath
//	<container>/tmp/              the container's private /tmp (removed with the pod)
//	volumes/<volume>/             emptyDir, ConfigMap, Secret, projected volumes (removed with the pod)
//
// SIGTERM goes to the main process, SIGKILL to the whole group, and what the main process leaves
// behind is killed when it exits, as in a container. Main processes get SIGKILL if the kubelet
// process dies (Pdeathsig) and every group is killed when it stops.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// processRuntime tracks the runs of every job-like pod on this kubelet's nodes.
type processRuntime struct {
	stateDir string
	// wake asks for the pod with this key to be synced again.
	wake func(key string)
	now  func() time.Time

	mu   sync.Mutex
	pods map[types.UID]*podProcesses
}

// podProcesses is one pod's current runs, by container name.
type podProcesses struct {
	key  string
	dir  string
	runs map[string]*process
}

// process is one run; run is guarded by processRuntime.mu.
type process struct {
	run  containerRun
	pgid int
}

func newProcessRuntime(stateDir string, wake func(string), now func() time.Time) *processRuntime {
	return &processRuntime{stateDir: stateDir, wake: wake, now: now, pods: map[types.UID]*podProcesses{}}
}

// podDir is the pod's directory in the state dir, the path tests read logs from.
func podDir(stateDir string, pod *corev1.Pod) string {
	return filepath.Join(stateDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

func (r *processRuntime) podEntry(pod *corev1.Pod, key string) *podProcesses {
	entry, ok := r.pods[pod.UID]
	if !ok {
		entry = &podProcesses{key: key, dir: podDir(r.stateDir, pod), runs: map[string]*process{}}
		r.pods[pod.UID] = entry
	}
	return entry
}

// snapshot copies the pod's runs for the planner.
func (r *processRuntime) snapshot(uid types.UID) map[string]*containerRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]*containerRun{}
	if entry, ok := r.pods[uid]; ok {
		for name, p := range entry.runs {
			run := p.run
			out[name] = &run
		}
	}
	return out
}

// recordConfigError notes that the container could not be prepared; planPod retries it later.
func (r *processRuntime) recordConfigError(pod *corev1.Pod, key, container string, attempt int32, message string) {
	r.record(pod, key, container, containerRun{Attempt: attempt, Finished: r.now(), ConfigError: message})
}

// recordStartError notes that the container cannot start at all (e.g. it has no command).
func (r *processRuntime) recordStartError(pod *corev1.Pod, key, container string, attempt int32, message string) {
	r.record(pod, key, container, containerRun{Attempt: attempt, Finished: r.now(), StartError: message})
}

func (r *processRuntime) record(pod *corev1.Pod, key, container string, run containerRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.podEntry(pod, key).runs[container] = &process{run: run}
}

// containerFiles are the per-run paths of one container.
type containerFiles struct {
	log, previousLog, termination, tmp string
}

func filesOf(dir, container string) containerFiles {
	return containerFiles{
		log:         filepath.Join(dir, container+".log"),
		previousLog: filepath.Join(dir, container+".previous.log"),
		termination: filepath.Join(dir, container+".termination-log"),
		tmp:         filepath.Join(dir, container, "tmp"),
	}
}

// start launches one run. argv/env are resolved; volumeMounts are the pod's prepared volumes.
func (r *processRuntime) start(pod *corev1.Pod, key string, c *corev1.Container, attempt int32,
	argv, env []string, volumeMounts []bindMount,
) {
	r.mu.Lock()
	entry := r.podEntry(pod, key)
	proc := &process{run: containerRun{Attempt: attempt}}
	entry.runs[c.Name] = proc
	dir := entry.dir
	r.mu.Unlock()

	cmd, files, errors, err := r.launch(dir, c, attempt, argv, env, volumeMounts)
	if err != nil {
		r.finish(key, proc, func(run *containerRun) {
			run.Finished, run.StartError = r.now(), startErrorMessage(c.Name, err)
		})
		return
	}
	r.mu.Lock()
	proc.pgid = cmd.Process.Pid
	r.mu.Unlock()
	go r.wait(key, c, proc, cmd, files, errors)
}

// launch prepares the run's files and starts the re-executed binary; it returns once the
// process exists (the exec of the command is confirmed later, in wait).
func (r *processRuntime) launch(dir string, c *corev1.Container, attempt int32, argv, env []string,
	volumeMounts []bindMount,
) (*exec.Cmd, containerFiles, *os.File, error) {
	files := filesOf(dir, c.Name)
	if err := os.MkdirAll(files.tmp, 0o777); err != nil {
		return nil, files, nil, err
	}
	if err := os.Chmod(files.tmp, 0o1777); err != nil { // like /tmp: sticky, world-writable
		return nil, files, nil, err
	}
	if attempt > 0 {
		_ = os.Rename(files.log, files.previousLog)
	}
	if err := os.WriteFile(files.termination, nil, 0o666); err != nil {
		return nil, files, nil, err
	}
	logFile, err := os.OpenFile(files.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, files, nil, err
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor

	terminationPath := c.TerminationMessagePath
	if terminationPath == "" {
		terminationPath = defaultTerminationLogPath
	}
	mounts := append([]bindMount{{Source: files.tmp, Target: "/tmp"}}, volumeMounts...)
	mounts = append(mounts, bindMount{Source: files.termination, Target: terminationPath, File: true})
	spec := startSpec{Argv: argv, Env: env, WorkingDir: c.WorkingDir, Mounts: orderMounts(mounts)}
	specPath := filepath.Join(dir, c.Name+".start.json")
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, files, nil, err
	}
	if err := os.WriteFile(specPath, data, 0o600); err != nil { // env may hold Secret values
		return nil, files, nil, err
	}
	readErrors, writeErrors, err := os.Pipe()
	if err != nil {
		return nil, files, nil, err
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"devcluster-container", c.Name},
		Env:        []string{containerInitEnv + "=" + specPath},
		Stdin:      nil,
		Stdout:     logFile,
		Stderr:     logFile,
		ExtraFiles: []*os.File{writeErrors},
		SysProcAttr: &syscall.SysProcAttr{
			Unshareflags: syscall.CLONE_NEWNS, // Go also makes / rprivate in the child
			Setpgid:      true,
			Pdeathsig:    syscall.SIGKILL,
		},
	}
	err = cmd.Start()
	_ = writeErrors.Close()
	if err != nil {
		_ = readErrors.Close()
		_ = os.Remove(specPath)
		return nil, files, nil, err
	}
	return cmd, files, readErrors, nil
}

// orderMounts puts shallower targets first, so /tmp is mounted before a volume under /tmp.
func orderMounts(mounts []bindMount) []bindMount {
	out := append([]bindMount(nil), mounts...)
	sort.SliceStable(out, func(i, j int) bool {
		return strings.Count(filepath.Clean(out[i].Target), "/") < strings.Count(filepath.Clean(out[j].Target), "/")
	})
	return out
}

// wait follows one run to its end and records the outcome.
func (r *processRuntime) wait(key string, c *corev1.Container, proc *process, cmd *exec.Cmd, files containerFiles, startErrors *os.File) {
	report, _ := io.ReadAll(startErrors) // EOF at exec (close-on-exec) or exit
	_ = startErrors.Close()
	_ = os.Remove(filepath.Join(filepath.Dir(files.log), c.Name+".start.json"))
	if len(report) == 0 {
		r.finish(key, proc, func(run *containerRun) { run.Started = r.now() })
	}
	err := cmd.Wait()
	finished := r.now()
	// When a container's main process ends, whatever it left running ends with it.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if len(report) > 0 {
		r.finish(key, proc, func(run *containerRun) {
			run.Finished, run.StartError = finished, startErrorMessage(c.Name, errors.New(string(report)))
		})
		return
	}
	code := exitCode(cmd, err)
	file, _ := readLast(files.termination, maxTerminationMessageBytes)
	log, _ := readLast(files.log, 64*1024)
	message := terminationMessage(file, log, c.TerminationMessagePolicy, code)
	r.finish(key, proc, func(run *containerRun) {
		run.Finished, run.ExitCode, run.Message = finished, code, message
	})
}

// finish applies an update to a run and wakes its pod.
func (r *processRuntime) finish(key string, proc *process, update func(*containerRun)) {
	r.mu.Lock()
	update(&proc.run)
	r.mu.Unlock()
	r.wake(key)
}

func exitCode(cmd *exec.Cmd, err error) int32 {
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		if status.Signaled() {
			return 128 + int32(status.Signal())
		}
		return int32(status.ExitStatus())
	}
	if err != nil {
		return 1
	}
	return 0
}

// readLast reads at most the last n bytes of a file.
func readLast(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	offset := max(info.Size()-n, 0)
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, n))
}

// isRunning says whether the container's current run is still running.
func (r *processRuntime) isRunning(uid types.UID, container string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	entry, ok := r.pods[uid]
	if !ok {
		return false
	}
	proc, ok := entry.runs[container]
	return ok && (proc.run.isRunning() || (proc.run.Started.IsZero() && proc.run.Finished.IsZero()))
}

// signal sends a signal to a running container's process group.
func (r *processRuntime) signal(uid types.UID, container string, kind actionKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	entry, ok := r.pods[uid]
	if !ok {
		return
	}
	proc, ok := entry.runs[container]
	if !ok || !proc.run.isRunning() || proc.pgid == 0 {
		return
	}
	// As a container runtime does, SIGTERM goes to the container's main process only (it decides
	// what to tell its children) and SIGKILL to everything in the container.
	if kind == actionKill {
		proc.run.KillSent = true
		_ = syscall.Kill(-proc.pgid, syscall.SIGKILL)
		return
	}
	proc.run.TermSent = true
	_ = syscall.Kill(proc.pgid, syscall.SIGTERM)
}

// forget kills whatever still runs of a pod that is gone and removes its scratch space; logs and
// termination files stay for inspection.
func (r *processRuntime) forget(uid types.UID) {
	r.mu.Lock()
	entry, ok := r.pods[uid]
	delete(r.pods, uid)
	if ok {
		for _, proc := range entry.runs {
			if proc.run.isRunning() || (proc.run.Finished.IsZero() && proc.pgid != 0) {
				_ = syscall.Kill(-proc.pgid, syscall.SIGKILL)
			}
		}
	}
	r.mu.Unlock()
	if ok {
		removeScratch(entry.dir)
	}
}

// removeScratch deletes a pod directory's volumes and private /tmp dirs, keeping files.
func removeScratch(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// stopAll kills every process, for shutdown.
func (r *processRuntime) stopAll() {
	r.mu.Lock()
	uids := make([]types.UID, 0, len(r.pods))
	for uid := range r.pods {
		uids = append(uids, uid)
	}
	r.mu.Unlock()
	for _, uid := range uids {
		r.forget(uid)
	}
}
