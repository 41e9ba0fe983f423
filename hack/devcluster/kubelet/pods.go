package kubelet

// Facts about a pod that every other decision starts from: which kind of pod it is (simulated or
// really run), the test-injection annotations, and the reasons and messages a real kubelet
// writes, gathered here so their spelling is in one place.

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Annotations that let tests inject behaviour into simulated pods.
const (
	annotationPrefix = "devcluster.rollouts.dev/"
	// AnnotationReadyDelay ("N" seconds) delays container readiness beyond any probe delay.
	AnnotationReadyDelay = annotationPrefix + "ready-delay-seconds"
	// AnnotationFail is "crash" (the containers crash-loop) or "unready" (they run, never Ready).
	// It can be set or removed on a running pod; the pod follows.
	AnnotationFail = annotationPrefix + "fail"
	failCrash      = "crash"
	failUnready    = "unready"
)

// Reasons and messages a real kubelet writes.
const (
	reasonContainerCreating    = "ContainerCreating"
	reasonPodInitializing      = "PodInitializing"
	reasonErrImagePull         = "ErrImagePull"
	reasonImagePullBackOff     = "ImagePullBackOff"
	reasonCrashLoopBackOff     = "CrashLoopBackOff"
	reasonCreateConfigError    = "CreateContainerConfigError"
	reasonCompleted            = "Completed"
	reasonError                = "Error"
	reasonStartError           = "StartError"
	reasonContainersNotReady   = "ContainersNotReady"
	reasonContainersNotInit    = "ContainersNotInitialized"
	reasonReadinessGates       = "ReadinessGatesNotReady"
	reasonPodCompleted         = "PodCompleted"
	reasonPodFailed            = "PodFailed"
	reasonDeadlineExceeded     = "DeadlineExceeded"
	messageDeadlineExceeded    = "Pod was active on the node longer than the specified deadline"
	exitCodeStartError         = 128
	exitCodeSimulatedCrash     = 1
	defaultTerminationLogPath  = "/dev/termination-log"
	maxTerminationMessageBytes = 4096
)

// isJobLike says whether the pod's containers really run as local processes: pods of Jobs and
// any pod that is meant to finish (restartPolicy Never or OnFailure), e.g. workflow steps.
func isJobLike(pod *corev1.Pod) bool {
	if pod.Spec.RestartPolicy == corev1.RestartPolicyNever || pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
		return true
	}
	for _, owner := range pod.OwnerReferences {
		if owner.Kind == "Job" && owner.APIVersion == "batch/v1" {
			return true
		}
	}
	return false
}

// restartsOnFailure says whether a container that exited non-zero is started again.
func restartsOnFailure(pod *corev1.Pod) bool {
	return pod.Spec.RestartPolicy != corev1.RestartPolicyNever
}

// failMode is the value of AnnotationFail, "" when absent or not understood.
func failMode(pod *corev1.Pod) string {
	switch v := pod.Annotations[AnnotationFail]; v {
	case failCrash, failUnready:
		return v
	}
	return ""
}

// extraReadyDelay is AnnotationReadyDelay as a duration; malformed values count as 0.
func extraReadyDelay(pod *corev1.Pod) time.Duration {
	seconds, err := strconv.ParseFloat(pod.Annotations[AnnotationReadyDelay], 64)
	if err != nil || !(seconds > 0 && seconds < float64(maxSleep/time.Second)) {
		return 0
	}
	return time.Duration(seconds * float64(time.Second))
}

// isRestartableInit says whether an init container is a native sidecar.
func isRestartableInit(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// missingCommand returns the absolute command path that does not exist on the host, if any: such
// a container cannot start, as in a real container whose image lacks the binary.
func missingCommand(c *corev1.Container, exists func(path string) bool) (string, bool) {
	if len(c.Command) == 0 || !filepath.IsAbs(c.Command[0]) || exists(c.Command[0]) {
		return "", false
	}
	return c.Command[0], true
}

// podRef is the pod as the kubelet names it in messages: name_namespace(uid).
func podRef(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

// isTerminal says whether the phase is final.
func isTerminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}

// seconds truncates a time to what metav1.Time keeps, so a status computed now compares equal to
// the same status read back from the API server.
func seconds(t time.Time) time.Time { return t.Truncate(time.Second) }

// earliest returns the earlier non-zero time (zero means "no deadline").
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
