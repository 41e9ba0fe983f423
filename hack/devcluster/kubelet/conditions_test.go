package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func running(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func exited(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
}

func restarting(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name:                 name,
		State:                waiting(reasonCrashLoopBackOff, ""),
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}},
	}
}

func TestPodPhase(t *testing.T) {
	cases := []struct {
		name     string
		policy   corev1.RestartPolicy
		statuses []corev1.ContainerStatus
		want     corev1.PodPhase
	}{
		{"b has no status yet", corev1.RestartPolicyAlways, []corev1.ContainerStatus{running("a")}, corev1.PodPending},
		{"creating", corev1.RestartPolicyAlways, []corev1.ContainerStatus{running("a"), {Name: "b", State: waiting(reasonContainerCreating, "")}}, corev1.PodPending},
		{"all running", corev1.RestartPolicyAlways, []corev1.ContainerStatus{running("a"), running("b")}, corev1.PodRunning},
		{"crash loop is running", corev1.RestartPolicyAlways, []corev1.ContainerStatus{restarting("a"), restarting("b")}, corev1.PodRunning},
		{"never: one still runs", corev1.RestartPolicyNever, []corev1.ContainerStatus{exited("a", 1), running("b")}, corev1.PodRunning},
		{"never: a failure fails", corev1.RestartPolicyNever, []corev1.ContainerStatus{exited("a", 0), exited("b", 2)}, corev1.PodFailed},
		{"never: all zero", corev1.RestartPolicyNever, []corev1.ContainerStatus{exited("a", 0), exited("b", 0)}, corev1.PodSucceeded},
		{"on failure: waiting to restart", corev1.RestartPolicyOnFailure, []corev1.ContainerStatus{exited("a", 0), restarting("b")}, corev1.PodRunning},
		{"on failure: all zero", corev1.RestartPolicyOnFailure, []corev1.ContainerStatus{exited("a", 0), exited("b", 0)}, corev1.PodSucceeded},
	}
	for _, c := range cases {
		pod := podOf(container("a"), container("b"))
		pod.Spec.RestartPolicy = c.policy
		if got := podPhase(pod, nil, c.statuses); got != c.want {
			t.Errorf("%s: phase %s, want %s", c.name, got, c.want)
		}
	}
}

func TestTerminalPhaseAfterAStop(t *testing.T) {
	pod := podOf(container("a"), container("b"))
	if got := terminalPhase(pod, []corev1.ContainerStatus{exited("a", 0), exited("b", 0)}); got != corev1.PodSucceeded {
		t.Errorf("all exited 0: %s", got)
	}
	if got := terminalPhase(pod, []corev1.ContainerStatus{exited("a", 0), exited("b", 143)}); got != corev1.PodFailed {
		t.Errorf("one killed: %s", got)
	}
	if got := terminalPhase(pod, []corev1.ContainerStatus{exited("a", 0), restarting("b")}); got != corev1.PodFailed {
		t.Errorf("one never ran to the end: %s", got)
	}
}

func TestInitializedCountsSidecarsOnceStarted(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	pod := podOf(container("main"))
	pod.Spec.InitContainers = []corev1.Container{container("setup"), {Name: "proxy", Image: "envoy", RestartPolicy: &always}}
	sidecar := running("proxy")
	if initialized(pod, []corev1.ContainerStatus{exited("setup", 0), sidecar}) {
		t.Fatalf("a sidecar that has not started leaves the pod uninitialized")
	}
	sidecar.Started = ptr(true)
	if !initialized(pod, []corev1.ContainerStatus{exited("setup", 0), sidecar}) {
		t.Fatalf("completed init and started sidecar: initialized")
	}
	if initialized(pod, []corev1.ContainerStatus{exited("setup", 1), sidecar}) {
		t.Fatalf("a failed init container leaves the pod uninitialized")
	}
}
