package kubelet

// Container statuses of really-run containers (job-like pods). The runtime reports what it saw of
// each container's current run (containerRun); this file turns that, plus the status written
// last time, into the container's status and says when to start the container (again). It never
// touches a process itself: starting and signalling are actions the shell carries out.
//
// A run the runtime does not know while the status says the container is running was lost in a
// kubelet restart (its process died with the old kubelet); the container is reported terminated
// with a message saying so, which fails a restartPolicy Never pod instead of leaving it running
// forever.

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerRun is what the runtime observed of one run (one restartCount) of one container.
type containerRun struct {
	Attempt int32 // the container's restartCount during this run
	// Started is when the command was exec'd; zero when it never started.
	Started time.Time
	// Finished is when it exited, failed to start or failed to be prepared; zero while running.
	Finished time.Time
	ExitCode int32
	// StartError says why the command could not be exec'd (missing binary, no command, ...).
	StartError string
	// ConfigError says why the container could not even be prepared (a missing ConfigMap key,
	// ...); the kubelet retries such a container instead of failing it.
	ConfigError string
	// Message is the termination message, already chosen from the file or the log tail.
	Message string
	// TermSent and KillSent record which signals the process group has received.
	TermSent bool
	KillSent bool
}

func (r *containerRun) isRunning() bool {
	return r != nil && !r.Started.IsZero() && r.Finished.IsZero()
}

// actionKind is something the shell must do to a container's process.
type actionKind int

const (
	actionStart actionKind = iota
	actionTerm
	actionKill
)

func (k actionKind) String() string {
	return [...]string{"start", "SIGTERM", "SIGKILL"}[k]
}

// action is one instruction for the runtime.
type action struct {
	Kind      actionKind
	Container string
	Attempt   int32 // for actionStart: the restartCount of the new run
}

// configErrorRetry is how long a container that could not be prepared waits before the next try.
const configErrorRetry = 10 * time.Second

// lostRunMessage explains a run whose process died with a previous kubelet.
const lostRunMessage = "the devcluster kubelet restarted while this container ran; its process and result were lost"

// exitCodeLost is the exit code reported for a lost run (as if SIGKILLed).
const exitCodeLost = 137

// processes is the context shared by the really-run containers of one pod.
type processes struct {
	pod     *corev1.Pod
	now     time.Time
	backoff backoff
}

// status computes a run container's status. mayStart is false while the container must not start
// (init containers still running, or the pod is stopping); the returned action, if any, starts it.
func (p processes) status(c *corev1.Container, prev *corev1.ContainerStatus, run *containerRun, mayStart bool) (corev1.ContainerStatus, time.Time, *action) {
	status := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), Started: ptr(false)}
	if prev != nil {
		status.RestartCount = prev.RestartCount
		status.LastTerminationState = prev.LastTerminationState
		status.State = prev.State
	}
	if run == nil {
		return p.withoutRun(c, status, prev, mayStart)
	}
	if run.Attempt != status.RestartCount {
		// A new run after a failed one: the previous run becomes lastState.
		if prev != nil && prev.State.Terminated != nil {
			status.LastTerminationState = corev1.ContainerState{Terminated: prev.State.Terminated}
		}
		status.RestartCount = run.Attempt
	}
	status.ContainerID = containerID(p.pod, c.Name, run.Attempt)
	switch {
	case run.ConfigError != "":
		status.ContainerID = ""
		status.State = waiting(reasonCreateConfigError, run.ConfigError)
		retryAt := run.Finished.Add(configErrorRetry)
		if mayStart && !p.now.Before(retryAt) {
			return status, time.Time{}, &action{Kind: actionStart, Container: c.Name, Attempt: run.Attempt}
		}
		return status, retryAt, nil
	case run.Started.IsZero() && run.Finished.IsZero():
		// Being started: the exec has not been confirmed yet.
		status.State = waiting(reasonContainerCreating, "")
		return status, time.Time{}, nil
	case run.isRunning():
		status.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(seconds(run.Started))}}
		probes, next := readiness(p.pod, c, run.Started, run.Started, p.now, 0)
		status.Ready, status.Started = probes.ready, ptr(probes.started)
		return status, next, nil
	}
	status.State = corev1.ContainerState{Terminated: terminatedState(run, status.ContainerID)}
	return p.afterExit(c, status, mayStart)
}

// withoutRun handles a container the runtime has no run for: not started yet, lost in a kubelet
// restart, or finished before the restart (its status is all that is left).
func (p processes) withoutRun(c *corev1.Container, status corev1.ContainerStatus, prev *corev1.ContainerStatus, mayStart bool) (corev1.ContainerStatus, time.Time, *action) {
	switch {
	case prev != nil && prev.State.Running != nil:
		status.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: exitCodeLost, Reason: reasonError, Message: lostRunMessage,
			StartedAt: prev.State.Running.StartedAt, FinishedAt: metav1.NewTime(seconds(p.now)),
			ContainerID: prev.ContainerID,
		}}
		status.ContainerID = prev.ContainerID
		return p.afterExit(c, status, mayStart)
	case prev != nil && prev.State.Terminated != nil:
		status.ContainerID = prev.ContainerID
		return p.afterExit(c, status, mayStart)
	case inCrashLoop(prev):
		status.ContainerID = prev.ContainerID
		retryAt := prev.LastTerminationState.Terminated.FinishedAt.Add(p.backoff.delay(prev.RestartCount))
		if !mayStart {
			return status, time.Time{}, nil
		}
		if p.now.Before(retryAt) {
			return status, retryAt, nil
		}
		return status, time.Time{}, &action{Kind: actionStart, Container: c.Name, Attempt: prev.RestartCount + 1}
	}
	status.ContainerID = ""
	if !mayStart {
		status.State = waiting(reasonPodInitializing, "")
		return status, time.Time{}, nil
	}
	status.State = waiting(reasonContainerCreating, "")
	return status, time.Time{}, &action{Kind: actionStart, Container: c.Name, Attempt: status.RestartCount}
}

// afterExit decides what follows a terminated run: nothing (success, or restartPolicy Never), or
// a restart after the crash-loop back-off (restartPolicy OnFailure).
func (p processes) afterExit(c *corev1.Container, status corev1.ContainerStatus, mayStart bool) (corev1.ContainerStatus, time.Time, *action) {
	term := status.State.Terminated
	if term.ExitCode == 0 || !restartsOnFailure(p.pod) || !mayStart {
		return status, time.Time{}, nil
	}
	delay := p.backoff.delay(status.RestartCount)
	status.LastTerminationState = corev1.ContainerState{Terminated: term}
	status.State = waiting(reasonCrashLoopBackOff, crashLoopMessage(delay, c.Name, p.pod))
	retryAt := term.FinishedAt.Add(delay)
	if p.now.Before(retryAt) {
		return status, retryAt, nil
	}
	return status, time.Time{}, &action{Kind: actionStart, Container: c.Name, Attempt: status.RestartCount + 1}
}

// terminatedState describes a finished run.
func terminatedState(run *containerRun, id string) *corev1.ContainerStateTerminated {
	term := &corev1.ContainerStateTerminated{
		ExitCode:    run.ExitCode,
		Reason:      reasonCompleted,
		Message:     run.Message,
		StartedAt:   metav1.NewTime(seconds(run.Started)),
		FinishedAt:  metav1.NewTime(seconds(run.Finished)),
		ContainerID: id,
	}
	switch {
	case run.StartError != "":
		term.ExitCode, term.Reason, term.Message = exitCodeStartError, reasonStartError, run.StartError
		term.StartedAt = metav1.NewTime(seconds(run.Finished))
	case run.ExitCode != 0:
		term.Reason = reasonError
	}
	return term
}

// startErrorMessage is how a container that cannot start at all is explained.
func startErrorMessage(container string, err error) string {
	return fmt.Sprintf("failed to start container %q: %v", container, err)
}
