package kubelet

// The pod phase and the pod conditions the kubelet owns (PodReadyToStartContainers, Initialized,
// ContainersReady, Ready), computed from container statuses with the rules of the real kubelet
// (pkg/kubelet/kubelet_pods.go getPhase and pkg/kubelet/status/generate.go), reduced to the
// features a devcluster needs. Conditions written by others (readiness gates, DisruptionTarget,
// PodScheduled) are kept as they are; Ready is True only when every readiness gate's condition is.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podPhase follows the real kubelet: Pending until initialized and every container has been
// created; Succeeded/Failed once nothing runs and nothing will restart; Running otherwise.
func podPhase(pod *corev1.Pod, initStatuses, statuses []corev1.ContainerStatus) corev1.PodPhase {
	if !initialized(pod, initStatuses) {
		for i := range pod.Spec.InitContainers {
			c := &pod.Spec.InitContainers[i]
			st := findStatus(initStatuses, c.Name)
			if !isRestartableInit(c) && st != nil && st.State.Terminated != nil &&
				st.State.Terminated.ExitCode != 0 && !restartsOnFailure(pod) {
				return corev1.PodFailed
			}
		}
		return corev1.PodPending
	}
	var running, waitingFresh, stopped, succeeded int
	for i := range pod.Spec.Containers {
		st := findStatus(statuses, pod.Spec.Containers[i].Name)
		switch {
		case st == nil:
			waitingFresh++
		case st.State.Running != nil:
			running++
		case st.State.Terminated != nil:
			stopped++
			if st.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case st.LastTerminationState.Terminated != nil:
			stopped++ // waiting to restart after a run: it has run, the pod is not Pending
		default:
			waitingFresh++
		}
	}
	switch {
	case waitingFresh > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	}
	switch pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		if succeeded == stopped {
			return corev1.PodSucceeded
		}
		return corev1.PodFailed
	case corev1.RestartPolicyOnFailure:
		if succeeded == stopped {
			return corev1.PodSucceeded
		}
	}
	return corev1.PodRunning
}

// terminalPhase is the phase of a pod whose containers were all stopped by the kubelet (deletion
// or deadline): Succeeded only if every container exited 0.
func terminalPhase(pod *corev1.Pod, statuses []corev1.ContainerStatus) corev1.PodPhase {
	for i := range pod.Spec.Containers {
		st := findStatus(statuses, pod.Spec.Containers[i].Name)
		if st == nil || st.State.Terminated == nil || st.State.Terminated.ExitCode != 0 {
			return corev1.PodFailed
		}
	}
	return corev1.PodSucceeded
}

// initialized says whether every regular init container has completed and every native sidecar
// has started.
func initialized(pod *corev1.Pod, initStatuses []corev1.ContainerStatus) bool {
	return len(incompleteInits(pod, initStatuses)) == 0
}

func incompleteInits(pod *corev1.Pod, initStatuses []corev1.ContainerStatus) []string {
	var names []string
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		st := findStatus(initStatuses, c.Name)
		done := st != nil && st.State.Terminated != nil && st.State.Terminated.ExitCode == 0
		if isRestartableInit(c) {
			done = st != nil && st.Started != nil && *st.Started
		}
		if !done {
			names = append(names, c.Name)
		}
	}
	return names
}

// condition is one kubelet-owned condition before timestamps are decided.
type condition struct {
	Type    corev1.PodConditionType
	Status  corev1.ConditionStatus
	Reason  string
	Message string
}

// kubeletConditions computes the kubelet-owned conditions for the given container statuses.
func kubeletConditions(pod *corev1.Pod, phase corev1.PodPhase, initStatuses, statuses []corev1.ContainerStatus) []condition {
	initCond := condition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}
	if phase == corev1.PodSucceeded {
		initCond.Reason = reasonPodCompleted
	} else if names := incompleteInits(pod, initStatuses); len(names) > 0 && !anyRegularStarted(statuses) {
		initCond = condition{corev1.PodInitialized, corev1.ConditionFalse, reasonContainersNotInit,
			fmt.Sprintf("containers with incomplete status: %s", bracketed(names))}
	}
	containersReady := containersReadyCondition(pod, phase, initStatuses, statuses)
	ready := containersReady
	ready.Type = corev1.PodReady
	if containersReady.Status == corev1.ConditionTrue {
		if message := unmetReadinessGates(pod); message != "" {
			ready = condition{corev1.PodReady, corev1.ConditionFalse, reasonReadinessGates, message}
		}
	}
	return []condition{
		{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue},
		initCond,
		ready,
		containersReady,
	}
}

func containersReadyCondition(pod *corev1.Pod, phase corev1.PodPhase, initStatuses, statuses []corev1.ContainerStatus) condition {
	switch phase {
	case corev1.PodSucceeded:
		return condition{corev1.ContainersReady, corev1.ConditionFalse, reasonPodCompleted, ""}
	case corev1.PodFailed:
		return condition{corev1.ContainersReady, corev1.ConditionFalse, reasonPodFailed, ""}
	}
	var unknown, unready []string
	check := func(c *corev1.Container, list []corev1.ContainerStatus) {
		switch st := findStatus(list, c.Name); {
		case st == nil:
			unknown = append(unknown, c.Name)
		case !st.Ready:
			unready = append(unready, c.Name)
		}
	}
	for i := range pod.Spec.InitContainers {
		if isRestartableInit(&pod.Spec.InitContainers[i]) {
			check(&pod.Spec.InitContainers[i], initStatuses)
		}
	}
	for i := range pod.Spec.Containers {
		check(&pod.Spec.Containers[i], statuses)
	}
	var messages []string
	if len(unknown) > 0 {
		messages = append(messages, fmt.Sprintf("containers with unknown status: %s", bracketed(unknown)))
	}
	if len(unready) > 0 {
		messages = append(messages, fmt.Sprintf("containers with unready status: %s", bracketed(unready)))
	}
	if len(messages) > 0 {
		return condition{corev1.ContainersReady, corev1.ConditionFalse, reasonContainersNotReady, strings.Join(messages, ", ")}
	}
	return condition{Type: corev1.ContainersReady, Status: corev1.ConditionTrue}
}

// unmetReadinessGates explains which readiness gates are not True, "" when all are.
func unmetReadinessGates(pod *corev1.Pod) string {
	var messages []string
	for _, gate := range pod.Spec.ReadinessGates {
		idx := slices.IndexFunc(pod.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == gate.ConditionType })
		switch {
		case idx < 0:
			messages = append(messages, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", gate.ConditionType))
		case pod.Status.Conditions[idx].Status != corev1.ConditionTrue:
			messages = append(messages, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", gate.ConditionType, pod.Status.Conditions[idx].Status))
		}
	}
	return strings.Join(messages, ", ")
}

func anyRegularStarted(statuses []corev1.ContainerStatus) bool {
	for i := range statuses {
		if statuses[i].State.Running != nil || statuses[i].State.Terminated != nil || statuses[i].LastTerminationState.Terminated != nil {
			return true
		}
	}
	return false
}

// mergeConditions applies the kubelet-owned conditions to the existing list: conditions of others
// stay untouched and in place; a condition's lastTransitionTime changes only when its status does.
func mergeConditions(existing []corev1.PodCondition, owned []condition, generation int64, now time.Time) []corev1.PodCondition {
	out := slices.Clone(existing)
	for _, c := range owned {
		cond := corev1.PodCondition{
			Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message,
			ObservedGeneration: generation, LastTransitionTime: metav1.NewTime(seconds(now)),
		}
		idx := slices.IndexFunc(out, func(e corev1.PodCondition) bool { return e.Type == c.Type })
		if idx < 0 {
			out = append(out, cond)
			continue
		}
		if out[idx].Status == c.Status {
			cond.LastTransitionTime = out[idx].LastTransitionTime
			cond.LastProbeTime = out[idx].LastProbeTime
		}
		out[idx] = cond
	}
	if !slices.ContainsFunc(out, func(e corev1.PodCondition) bool { return e.Type == corev1.PodScheduled }) {
		out = append(out, corev1.PodCondition{
			Type: corev1.PodScheduled, Status: corev1.ConditionTrue, ObservedGeneration: generation,
			LastTransitionTime: metav1.NewTime(seconds(now)),
		})
	}
	return out
}

func findStatus(list []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// bracketed formats names as Go prints a []string, the form the kubelet's messages use.
func bracketed(names []string) string {
	return "[" + strings.Join(names, " ") + "]"
}
