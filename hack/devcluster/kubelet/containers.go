package kubelet

// Container statuses of simulated containers (the containers of long-running pods, and native
// sidecars everywhere). Nothing runs, so each status is computed from the container spec, the
// status written last time and the clock:
//
//   - an image matching the deny pattern never pulls: ErrImagePull, then ImagePullBackOff, on the
//     pull back-off schedule counted from the pod's start time;
//   - a container is created at the pod's start time plus the postStart hooks of the containers
//     before it, and shows as running once every container's postStart hook has finished (the
//     kubelet reports status only after starting them all, one hook at a time);
//   - a container whose command is a missing absolute path, or whose pod carries
//     devcluster.rollouts.dev/fail=crash, fails at every start and crash-loops, restarting on the
//     back-off schedule counted from its last finish time (kept in lastState);
//   - it is started after startupProbe.initialDelaySeconds and ready after
//     readinessProbe.initialDelaySeconds (+ devcluster.rollouts.dev/ready-delay-seconds) counted
//     from its start, probes being assumed to succeed, unless the pod carries fail=unready.
//
// Every rule reads only timestamps that are in the status, so the result is the same whether the
// kubelet evaluates it once or a hundred times, before or after a restart.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hostFacts are the host-dependent inputs of the planner, injected so tests need no host.
type hostFacts struct {
	imageDenied func(image string) bool
	pathExists  func(path string) bool
}

// simulation is the context shared by the simulated containers of one pod.
type simulation struct {
	pod     *corev1.Pod
	start   time.Time // the pod's startTime
	now     time.Time
	host    hostFacts
	backoff backoff
}

// planned is when one container is created and when the kubelet first reports it running.
type planned struct {
	createdAt time.Time
	visibleAt time.Time
}

// plannedStarts lays out the containers in start order (sidecars, then regular containers), each
// created after the postStart hooks of the ones before it; all become visible together.
func plannedStarts(start time.Time, containers []*corev1.Container) []planned {
	out := make([]planned, len(containers))
	at := start
	for i, c := range containers {
		out[i].createdAt = at
		at = ceilSecond(at.Add(postStartDuration(c)))
	}
	for i := range out {
		out[i].visibleAt = at
	}
	return out
}

// simulate computes one container's status and the next time it changes (zero: never by itself).
func (s simulation) simulate(c *corev1.Container, when planned, prev *corev1.ContainerStatus) (corev1.ContainerStatus, time.Time) {
	status := s.base(c, prev)
	if s.host.imageDenied(c.Image) {
		return s.pullFailing(status, c)
	}
	if s.now.Before(when.visibleAt) && !isRunning(prev) {
		status.ContainerID = ""
		status.State = waiting(reasonContainerCreating, "")
		return status, when.visibleAt
	}
	crash := s.crashCause(c)
	if inCrashLoop(prev) {
		retryAt := prev.LastTerminationState.Terminated.FinishedAt.Add(s.backoff.delay(prev.RestartCount))
		if s.now.Before(retryAt) {
			return status, retryAt
		}
		// The restart happens now: a new container, which crashes again or comes up.
		status.RestartCount = prev.RestartCount + 1
		status.ContainerID = containerID(s.pod, c.Name, status.RestartCount)
		if crash != nil {
			return s.crashed(status, c, crash, seconds(s.now), seconds(s.now))
		}
		return s.running(status, c, seconds(s.now), seconds(s.now))
	}
	if crash != nil {
		// A first start fails when the container would have come up; a running container
		// (the annotation was added later) fails now.
		startedAt, finishedAt := when.visibleAt, when.visibleAt
		if isRunning(prev) {
			startedAt, finishedAt = prev.State.Running.StartedAt.Time, seconds(s.now)
		}
		return s.crashed(status, c, crash, startedAt, finishedAt)
	}
	startedAt := when.createdAt
	if isRunning(prev) {
		startedAt = prev.State.Running.StartedAt.Time
	}
	return s.running(status, c, startedAt, when.visibleAt)
}

// pullFailing is the status of a container whose image never pulls: no container, and a waiting
// reason that follows the pull back-off schedule.
func (s simulation) pullFailing(status corev1.ContainerStatus, c *corev1.Container) (corev1.ContainerStatus, time.Time) {
	reason, next := s.backoff.imagePullPhase(s.start, s.now)
	status.ImageID, status.ContainerID = "", ""
	status.State = waiting(reason, pullMessage(reason, c.Image))
	return status, next
}

// base carries over identity and history from the previous status.
func (s simulation) base(c *corev1.Container, prev *corev1.ContainerStatus) corev1.ContainerStatus {
	status := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), Started: ptr(false)}
	if prev != nil {
		status.RestartCount = prev.RestartCount
		status.LastTerminationState = prev.LastTerminationState
		status.State = prev.State
	}
	status.ContainerID = containerID(s.pod, c.Name, status.RestartCount)
	return status
}

// crashCause is why every start of the container fails, nil when it starts fine.
type crashCause struct {
	exitCode int32
	reason   string
	message  string
}

func (s simulation) crashCause(c *corev1.Container) *crashCause {
	if path, missing := missingCommand(c, s.host.pathExists); missing {
		return &crashCause{exitCodeStartError, reasonStartError,
			fmt.Sprintf("failed to start container %q: exec: %q: stat %s: no such file or directory", c.Name, path, path)}
	}
	if failMode(s.pod) == failCrash {
		return &crashCause{exitCodeSimulatedCrash, reasonError,
			fmt.Sprintf("simulated crash (%s=%s)", AnnotationFail, failCrash)}
	}
	return nil
}

// crashed records a failed run in lastState and waits for the next restart.
func (s simulation) crashed(status corev1.ContainerStatus, c *corev1.Container, cause *crashCause, startedAt, finishedAt time.Time) (corev1.ContainerStatus, time.Time) {
	status.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode:    cause.exitCode,
		Reason:      cause.reason,
		Message:     cause.message,
		StartedAt:   metav1.NewTime(startedAt),
		FinishedAt:  metav1.NewTime(finishedAt),
		ContainerID: status.ContainerID,
	}}
	delay := s.backoff.delay(status.RestartCount)
	status.State = waiting(reasonCrashLoopBackOff, crashLoopMessage(delay, c.Name, s.pod))
	status.Ready, status.Started = false, ptr(false)
	return status, finishedAt.Add(delay)
}

// running reports a started container and when its started/ready flags next change.
func (s simulation) running(status corev1.ContainerStatus, c *corev1.Container, startedAt, visibleAt time.Time) (corev1.ContainerStatus, time.Time) {
	status.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(startedAt)}}
	ready, next := readiness(s.pod, c, startedAt, visibleAt, s.now, time.Second)
	status.Ready = ready.ready
	status.Started = ptr(ready.started)
	return status, next
}

// probeState is what the startup and readiness probes say about a running container.
type probeState struct {
	started bool
	ready   bool
}

// readiness applies the probe delays from the container's start. A container without probes is
// started and ready as soon as it is reported running (notBefore). slack is added to every
// non-zero delay: a simulated container's start time is only known to the second, and a delay
// must never end early (a real prober is, if anything, late by up to a probe period).
func readiness(pod *corev1.Pod, c *corev1.Container, startedAt, notBefore, now time.Time, slack time.Duration) (probeState, time.Time) {
	delayed := func(d time.Duration) time.Time {
		if d > 0 {
			d += slack
		}
		return startedAt.Add(d)
	}
	startedFrom := maxTime(notBefore, delayed(probeDelay(c.StartupProbe)))
	readyFrom := maxTime(startedFrom, delayed(probeDelay(c.ReadinessProbe)+extraReadyDelay(pod)))
	state := probeState{started: !now.Before(startedFrom)}
	state.ready = state.started && !now.Before(readyFrom) && failMode(pod) != failUnready
	var next time.Time
	if !state.started {
		next = startedFrom
	} else if !state.ready && failMode(pod) != failUnready {
		next = readyFrom
	}
	return state, next
}

func probeDelay(p *corev1.Probe) time.Duration {
	if p == nil {
		return 0
	}
	return time.Duration(p.InitialDelaySeconds) * time.Second
}

// completedInit is the status of a simulated regular init container: it ran instantly and
// succeeded at the pod's start.
func (s simulation) completedInit(c *corev1.Container, prev *corev1.ContainerStatus) (corev1.ContainerStatus, time.Time) {
	status := s.base(c, prev)
	if s.host.imageDenied(c.Image) {
		return s.pullFailing(status, c)
	}
	status.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 0, Reason: reasonCompleted, StartedAt: metav1.NewTime(s.start), FinishedAt: metav1.NewTime(s.start),
		ContainerID: status.ContainerID,
	}}
	return status, time.Time{}
}

func isRunning(st *corev1.ContainerStatus) bool { return st != nil && st.State.Running != nil }

// inCrashLoop says whether the container is waiting to be restarted after a failed run.
func inCrashLoop(st *corev1.ContainerStatus) bool {
	return st != nil && st.State.Waiting != nil && st.LastTerminationState.Terminated != nil
}

func waiting(reason, message string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
}

func pullMessage(reason, image string) string {
	if reason == reasonImagePullBackOff {
		return fmt.Sprintf("Back-off pulling image %q", image)
	}
	return fmt.Sprintf("Failed to pull image %q: image is denied by the devcluster's deny pattern", image)
}

func crashLoopMessage(delay time.Duration, container string, pod *corev1.Pod) string {
	return fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", delay, container, podRef(pod))
}

// containerID is stable for one run of one container, as a runtime's ID would be.
func containerID(pod *corev1.Pod, container string, restartCount int32) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", pod.UID, container, restartCount))
	return "containerd://" + hex.EncodeToString(sum[:])
}

// imageID is a digest reference derived from the image name, as if the registry had served it.
func imageID(image string) string {
	repository := image
	if at := strings.Index(repository, "@"); at >= 0 {
		return repository
	}
	if slash, colon := strings.LastIndex(repository, "/"), strings.LastIndex(repository, ":"); colon > slash {
		repository = repository[:colon]
	}
	sum := sha256.Sum256([]byte(image))
	return repository + "@sha256:" + hex.EncodeToString(sum[:])
}

func ptr[T any](v T) *T { return &v }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ceilSecond rounds up to a whole second: times the kubelet chooses (a pod's start) are stored
// with second precision, and rounding up keeps every delay counted from them at least as long
// as asked.
func ceilSecond(t time.Time) time.Time {
	if f := t.Truncate(time.Second); !f.Equal(t) {
		return f.Add(time.Second)
	}
	return t
}
