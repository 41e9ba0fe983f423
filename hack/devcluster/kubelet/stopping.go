package kubelet

// When and how a pod's containers stop: on deletion (deletionTimestamp set) and when
// spec.activeDeadlineSeconds has passed. As in a real kubelet each running container first runs
// its preStop hook, then receives SIGTERM, and is killed when the grace period ends, so the pod
// takes min(preStop, grace) to stop (plus however long a real process takes to exit on SIGTERM).
// Both moments are derived from the pod object (deletionTimestamp minus the grace period is when
// the deletion was requested), so a restarted kubelet stops a pod on the same schedule.

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// defaultGracePeriod is the API's default terminationGracePeriodSeconds.
const defaultGracePeriod = 30 * time.Second

// exitCodeStopped is the exit code of a simulated container stopped by the kubelet: a process
// that ends on SIGTERM without handling it.
const exitCodeStopped = 143

// stopSchedule is when a pod's stop was asked for and when its grace period ends.
type stopSchedule struct {
	requested time.Time
	deadline  time.Time
	// deadlineExceeded marks a stop caused by activeDeadlineSeconds rather than deletion.
	deadlineExceeded bool
}

// stopFor returns the pod's stop schedule, or false when the pod is not being stopped.
func stopFor(pod *corev1.Pod, start, now time.Time) (stopSchedule, bool) {
	if pod.DeletionTimestamp != nil {
		grace := defaultGracePeriod
		if pod.DeletionGracePeriodSeconds != nil {
			grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		}
		return stopSchedule{requested: pod.DeletionTimestamp.Add(-grace), deadline: pod.DeletionTimestamp.Time}, true
	}
	if ads := pod.Spec.ActiveDeadlineSeconds; ads != nil {
		exceededAt := start.Add(time.Duration(*ads) * time.Second)
		if !now.Before(exceededAt) {
			return stopSchedule{requested: exceededAt, deadline: exceededAt.Add(specGracePeriod(pod)), deadlineExceeded: true}, true
		}
	}
	return stopSchedule{}, false
}

// deadlineAt is when activeDeadlineSeconds expires, zero when the pod has none.
func deadlineAt(pod *corev1.Pod, start time.Time) time.Time {
	if ads := pod.Spec.ActiveDeadlineSeconds; ads != nil {
		return start.Add(time.Duration(*ads) * time.Second)
	}
	return time.Time{}
}

func specGracePeriod(pod *corev1.Pod) time.Duration {
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return defaultGracePeriod
}

// timestampSlack makes up for the API's timestamps being truncated to the second: a wait counted
// from deletionTimestamp gets one second more, so it is never shorter than the spec asks.
const timestampSlack = time.Second

// termAt is when the container receives SIGTERM: after its preStop hook, at the latest when the
// grace period ends. Without a hook that is at once.
func (s stopSchedule) termAt(c *corev1.Container) time.Time {
	hook := preStopDuration(c)
	if hook == 0 {
		return s.requested
	}
	return earliest(s.requested.Add(hook), s.deadline).Add(timestampSlack)
}

// killAt is when processes still running get SIGKILL.
func (s stopSchedule) killAt() time.Time { return s.deadline.Add(timestampSlack) }

// stopSimulated ends a simulated running container at its SIGTERM time: it exits at once.
func (s stopSchedule) stopSimulated(c *corev1.Container, st *corev1.ContainerStatus, now time.Time) (stopped bool, next time.Time) {
	if st.State.Running == nil {
		return true, time.Time{}
	}
	at := s.termAt(c)
	if now.Before(at) {
		return false, at
	}
	st.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: exitCodeStopped, Reason: reasonError,
		StartedAt: st.State.Running.StartedAt, FinishedAt: metav1.NewTime(seconds(at)),
		ContainerID: st.ContainerID,
	}}
	st.Ready, st.Started = false, ptr(false)
	return true, time.Time{}
}

// stopProcess returns the signal the container's process is due, if any, and when the next one
// is due; stopped is true once the process has exited.
func (s stopSchedule) stopProcess(c *corev1.Container, run *containerRun, now time.Time) (stopped bool, due *action, next time.Time) {
	if !run.isRunning() {
		return true, nil, time.Time{}
	}
	term, kill := s.termAt(c), s.killAt()
	switch {
	case !now.Before(kill):
		if !run.KillSent {
			return false, &action{Kind: actionKill, Container: c.Name}, time.Time{}
		}
		return false, nil, time.Time{} // the exit wakes the pod up
	case !now.Before(term):
		if !run.TermSent {
			return false, &action{Kind: actionTerm, Container: c.Name}, kill
		}
		return false, nil, kill
	}
	return false, nil, term
}
