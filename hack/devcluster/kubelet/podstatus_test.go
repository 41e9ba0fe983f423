package kubelet

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPlainPodIsRunningAndReadyAtOnce(t *testing.T) {
	pod := podOf(container("app"))
	p := plan(pod, at(0.4))
	st := p.status
	if st.Phase != corev1.PodRunning {
		t.Fatalf("phase = %s, want Running", st.Phase)
	}
	if st.PodIP != "10.244.0.2" || st.HostIP != "127.0.1.1" || len(st.PodIPs) != 1 || len(st.HostIPs) != 1 {
		t.Fatalf("addresses = %q/%q %v/%v", st.PodIP, st.HostIP, st.PodIPs, st.HostIPs)
	}
	if !st.StartTime.Time.Equal(t0) {
		t.Fatalf("startTime = %s, want %s (now truncated to the second)", st.StartTime, t0)
	}
	cs := st.ContainerStatuses[0]
	if cs.State.Running == nil || !cs.Ready || cs.Started == nil || !*cs.Started {
		t.Fatalf("container = %+v, want running, started and ready", cs)
	}
	if !strings.HasPrefix(cs.ContainerID, "containerd://") || !strings.HasPrefix(cs.ImageID, "nginx@sha256:") || cs.Image != "nginx:1.27" {
		t.Fatalf("container identity = %q %q %q", cs.ContainerID, cs.ImageID, cs.Image)
	}
	mustCondition(t, st, corev1.PodScheduled, corev1.ConditionTrue)
	for _, typ := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		c := mustCondition(t, st, typ, corev1.ConditionTrue)
		if c.ObservedGeneration != 1 {
			t.Fatalf("%s observedGeneration = %d", typ, c.ObservedGeneration)
		}
	}
	if st.ObservedGeneration != 1 {
		t.Fatalf("status observedGeneration = %d", st.ObservedGeneration)
	}
	if !p.next.IsZero() || len(p.actions) != 0 || p.finalize {
		t.Fatalf("a ready pod needs nothing more: %+v", p)
	}
}

// The property that keeps writes minimal: planning again from the written status changes
// nothing, however much later.
func TestPlanningIsIdempotent(t *testing.T) {
	probe := container("app")
	probe.ReadinessProbe = &corev1.Probe{InitialDelaySeconds: 5}
	hooked := container("hooked")
	hooked.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 2}}}
	crashing := container("crash")
	crashing.Command = []string{"/no/such/binary"}
	pods := map[string]*corev1.Pod{
		"plain":   podOf(container("app")),
		"probe":   podOf(probe),
		"hook":    podOf(hooked, container("second")),
		"crash":   podOf(crashing),
		"gated":   withGate(podOf(container("app")), "example.com/gate"),
		"initted": withInit(podOf(container("app")), container("setup")),
	}
	for name, pod := range pods {
		t.Run(name, func(t *testing.T) {
			for _, now := range []time.Time{at(0), at(2.5), at(7), at(45), at(4000)} {
				first := plan(pod, now)
				again := plan(apply(pod, first), now.Add(300*time.Millisecond))
				if !equality.Semantic.DeepEqual(first.status, again.status) {
					t.Fatalf("at %s the status changed on re-planning:\n%+v\n%+v", now, first.status, again.status)
				}
				pod = apply(pod, first)
			}
		})
	}
}

func TestReadinessProbeDelayCountsFromContainerStart(t *testing.T) {
	c := container("app")
	c.ReadinessProbe = &corev1.Probe{InitialDelaySeconds: 5}
	pod := podOf(c)
	p := plan(pod, at(0.7))
	mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse)
	if p.status.Phase != corev1.PodRunning || p.status.ContainerStatuses[0].Ready {
		t.Fatalf("want running and unready: %+v", p.status)
	}
	// startedAt is known to the second only, so readiness waits one extra second.
	if !p.next.Equal(at(6)) {
		t.Fatalf("next = %s, want %s", p.next, at(6))
	}
	pod = apply(pod, p)
	p = plan(pod, at(5.9))
	mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse)
	pod = apply(pod, p)
	p = plan(pod, at(6.2))
	ready := mustCondition(t, p.status, corev1.PodReady, corev1.ConditionTrue)
	if gap := ready.LastTransitionTime.Sub(p.status.StartTime.Time); gap < 5*time.Second {
		t.Fatalf("Ready after %s, want at least 5s after startTime", gap)
	}
}

func withGate(pod *corev1.Pod, gate corev1.PodConditionType) *corev1.Pod {
	pod.Spec.ReadinessGates = append(pod.Spec.ReadinessGates, corev1.PodReadinessGate{ConditionType: gate})
	return pod
}

func withInit(pod *corev1.Pod, c corev1.Container) *corev1.Pod {
	pod.Spec.InitContainers = append(pod.Spec.InitContainers, c)
	return pod
}

func setCondition(pod *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus) *corev1.Pod {
	out := pod.DeepCopy()
	for i := range out.Status.Conditions {
		if out.Status.Conditions[i].Type == typ {
			out.Status.Conditions[i].Status = status
			return out
		}
	}
	out.Status.Conditions = append(out.Status.Conditions, corev1.PodCondition{Type: typ, Status: status})
	return out
}

func TestReadinessGatesHoldReadyUntilTheirConditionIsTrue(t *testing.T) {
	const gate = "target-health.example.com/ready"
	pod := withGate(podOf(container("app")), gate)
	p := plan(pod, at(0))
	mustCondition(t, p.status, corev1.ContainersReady, corev1.ConditionTrue)
	ready := mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse)
	if ready.Reason != reasonReadinessGates || !strings.Contains(ready.Message, "does not exist") {
		t.Fatalf("Ready = %+v", ready)
	}
	if conditionOf(p.status, gate) != nil {
		t.Fatalf("the kubelet must never set a readiness gate's condition itself")
	}
	pod = setCondition(apply(pod, p), gate, corev1.ConditionFalse)
	p = plan(pod, at(1))
	ready = mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse)
	if !strings.Contains(ready.Message, `is not "True", but False`) {
		t.Fatalf("Ready message = %q", ready.Message)
	}
	pod = setCondition(apply(pod, p), gate, corev1.ConditionTrue)
	p = plan(pod, at(2))
	mustCondition(t, p.status, corev1.PodReady, corev1.ConditionTrue)
	mustCondition(t, p.status, gate, corev1.ConditionTrue) // kept as the other writer left it
	pod = setCondition(apply(pod, p), gate, corev1.ConditionFalse)
	mustCondition(t, plan(pod, at(3)).status, corev1.PodReady, corev1.ConditionFalse)
}

func TestPostStartSleepDelaysRunning(t *testing.T) {
	c := container("app")
	c.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "sleep 3"}}}}
	pod := podOf(c, container("sidecar"))
	p := plan(pod, at(0))
	if p.status.Phase != corev1.PodPending || p.status.ContainerStatuses[0].State.Waiting == nil ||
		p.status.ContainerStatuses[0].State.Waiting.Reason != reasonContainerCreating {
		t.Fatalf("want Pending/ContainerCreating during postStart: %+v", p.status)
	}
	if !p.next.Equal(at(3)) {
		t.Fatalf("next = %s, want %s", p.next, at(3))
	}
	p = plan(apply(pod, p), at(3))
	mustCondition(t, p.status, corev1.PodReady, corev1.ConditionTrue)
	if got := p.status.ContainerStatuses[1].State.Running.StartedAt.Time; !got.Equal(at(3)) {
		t.Fatalf("second container created after the first one's hook: startedAt %s", got)
	}
}

func TestDeniedImageNeverPulls(t *testing.T) {
	pod := podOf(corev1.Container{Name: "app", Image: "registry.example/bad:1"})
	input := podInput{pod: pod, hostIP: "127.0.1.1", podIP: "10.244.0.2", backoff: testBackoff, host: noHost()}
	input.host.imageDenied = func(image string) bool { return strings.Contains(image, "bad") }
	want := []struct {
		at     float64
		reason string
	}{{0, reasonErrImagePull}, {1.5, reasonErrImagePull}, {2, reasonImagePullBackOff}, {9.9, reasonImagePullBackOff}, {10, reasonErrImagePull}, {12, reasonImagePullBackOff}, {30.5, reasonErrImagePull}}
	for _, w := range want {
		input.now = at(w.at)
		p := planPod(input)
		cs := p.status.ContainerStatuses[0]
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != w.reason {
			t.Fatalf("at %gs: state %+v, want %s", w.at, cs.State, w.reason)
		}
		if p.status.Phase != corev1.PodPending || cs.Ready || cs.ContainerID != "" {
			t.Fatalf("at %gs: want Pending, unready, no container: %+v", w.at, p.status)
		}
		mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse)
		input.pod = apply(pod, p)
	}
}

func TestMissingCommandCrashLoopsWithGrowingRestarts(t *testing.T) {
	c := container("app")
	c.Command = []string{"/nonexistent/server", "--port=80"}
	pod := podOf(c)
	input := podInput{pod: pod, hostIP: "127.0.1.1", podIP: "10.244.0.2", backoff: testBackoff, host: noHost()}
	input.host.pathExists = func(path string) bool { return path != "/nonexistent/server" }
	type step struct {
		at       float64
		restarts int32
		next     float64
	}
	for _, s := range []step{{0, 0, 10}, {5, 0, 10}, {10, 1, 30}, {30.2, 2, 70}, {71, 3, 151}} {
		input.now = at(s.at)
		p := planPod(input)
		cs := p.status.ContainerStatuses[0]
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != reasonCrashLoopBackOff {
			t.Fatalf("at %gs: state %+v, want CrashLoopBackOff", s.at, cs.State)
		}
		last := cs.LastTerminationState.Terminated
		if last == nil || last.ExitCode != exitCodeStartError || last.Reason != reasonStartError || !strings.Contains(last.Message, "/nonexistent/server") {
			t.Fatalf("at %gs: lastState %+v", s.at, cs.LastTerminationState)
		}
		if cs.RestartCount != s.restarts || cs.Ready {
			t.Fatalf("at %gs: restartCount %d ready %v, want %d and unready", s.at, cs.RestartCount, cs.Ready, s.restarts)
		}
		if !p.next.Equal(at(s.next)) {
			t.Fatalf("at %gs: next = %s, want %s", s.at, p.next, at(s.next))
		}
		if p.status.Phase != corev1.PodRunning {
			t.Fatalf("a crash-looping pod of a ReplicaSet is Running, got %s", p.status.Phase)
		}
		mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse)
		input.pod = apply(pod, p)
	}
}

func TestFailAnnotationCrashesAndRecovers(t *testing.T) {
	pod := podOf(container("app"))
	pod = apply(pod, plan(pod, at(0)))
	pod.Annotations = map[string]string{AnnotationFail: "crash"}
	p := plan(pod, at(20))
	cs := p.status.ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 {
		t.Fatalf("want a crash of the running container: %+v", cs)
	}
	if !cs.LastTerminationState.Terminated.StartedAt.Time.Equal(t0) || !cs.LastTerminationState.Terminated.FinishedAt.Time.Equal(at(20)) {
		t.Fatalf("the crashed run lasted from its start until now: %+v", cs.LastTerminationState.Terminated)
	}
	pod = apply(pod, p)
	pod.Annotations = nil
	p = plan(pod, at(29))
	if p.status.ContainerStatuses[0].State.Running != nil {
		t.Fatalf("restart happens only after the back-off")
	}
	p = plan(apply(pod, p), at(30))
	cs = p.status.ContainerStatuses[0]
	if cs.State.Running == nil || !cs.Ready || cs.RestartCount != 1 || cs.LastTerminationState.Terminated == nil {
		t.Fatalf("want a restarted ready container with history: %+v", cs)
	}
}

func TestFailUnreadyAndReadyDelayAnnotations(t *testing.T) {
	pod := podOf(container("app"))
	pod.Annotations = map[string]string{AnnotationFail: "unready"}
	p := plan(pod, at(0))
	cs := p.status.ContainerStatuses[0]
	if cs.State.Running == nil || cs.Ready || !*cs.Started || !p.next.IsZero() {
		t.Fatalf("want running, started, never ready: %+v next %s", cs, p.next)
	}
	pod = podOf(container("app"))
	pod.Annotations = map[string]string{AnnotationReadyDelay: "3"}
	p = plan(pod, at(0))
	if p.status.ContainerStatuses[0].Ready || !p.next.Equal(at(4)) {
		t.Fatalf("ready delay 3s: ready=%v next=%s", p.status.ContainerStatuses[0].Ready, p.next)
	}
	mustCondition(t, plan(apply(pod, p), at(4)).status, corev1.PodReady, corev1.ConditionTrue)
}

func deleting(pod *corev1.Pod, requested time.Time, grace int64) *corev1.Pod {
	out := pod.DeepCopy()
	out.DeletionTimestamp = &metav1.Time{Time: requested.Add(time.Duration(grace) * time.Second)}
	out.DeletionGracePeriodSeconds = int64p(grace)
	return out
}

func TestPreStopSleepDelaysDeletionUpToTheGracePeriod(t *testing.T) {
	c := container("app")
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sleep", "5"}}}}
	pod := podOf(c)
	pod = apply(pod, plan(pod, at(0)))
	pod = deleting(pod, at(100), 30)
	// deletionTimestamp is known to the second only, so the hook's end is counted a second late.
	p := plan(pod, at(102))
	if p.finalize || !p.next.Equal(at(106)) {
		t.Fatalf("during preStop: finalize=%v next=%s, want false and %s", p.finalize, p.next, at(106))
	}
	if p := plan(pod, at(105.5)); p.finalize {
		t.Fatalf("deleted before the preStop hook could have ended")
	}
	p = plan(apply(pod, p), at(106))
	if !p.finalize || !isTerminal(p.status.Phase) {
		t.Fatalf("after preStop the pod is stopped and deleted: %+v", p)
	}
	term := p.status.ContainerStatuses[0].State.Terminated
	if term == nil || !term.FinishedAt.Time.Equal(at(106)) {
		t.Fatalf("container stopped at the end of preStop: %+v", p.status.ContainerStatuses[0].State)
	}
	mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse)

	long := podOf(c)
	long.Spec.Containers[0].Lifecycle.PreStop.Exec.Command = []string{"/bin/sh", "-c", "sleep 60"}
	long = deleting(apply(long, plan(long, at(0))), at(100), 10)
	if p := plan(long, at(110.5)); p.finalize {
		t.Fatalf("stopped before the grace period although preStop is longer")
	}
	if p := plan(long, at(111)); !p.finalize {
		t.Fatalf("a real kubelet kills at the grace period: want finalize at %s", at(111))
	}
}

func TestDeletingAPodThatDoesNotRunIsImmediate(t *testing.T) {
	c := container("app")
	c.Command = []string{"/missing"}
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 20}}}
	pod := podOf(c)
	input := podInput{pod: pod, now: at(0), hostIP: "127.0.1.1", podIP: "10.244.0.2", backoff: testBackoff, host: noHost()}
	input.host.pathExists = func(string) bool { return false }
	input.pod = deleting(apply(pod, planPod(input)), at(3), 30)
	input.now = at(3)
	if p := planPod(input); !p.finalize || p.status.Phase != corev1.PodFailed {
		t.Fatalf("a crash-looping container runs no preStop hook: %+v", p)
	}
}

func TestActiveDeadlineFailsThePod(t *testing.T) {
	pod := podOf(container("app"))
	pod.Spec.ActiveDeadlineSeconds = int64p(20)
	p := plan(pod, at(0))
	if !p.next.Equal(at(20)) {
		t.Fatalf("next = %s, want the deadline %s", p.next, at(20))
	}
	p = plan(apply(pod, p), at(20))
	if p.status.Phase != corev1.PodFailed || p.status.Reason != reasonDeadlineExceeded || p.status.Message != messageDeadlineExceeded || p.finalize {
		t.Fatalf("want Failed/DeadlineExceeded without deletion: %+v", p)
	}
}

func TestTerminalPodsAreLeftAloneUntilDeleted(t *testing.T) {
	pod := podOf(container("app"))
	pod.Status.Phase = corev1.PodSucceeded
	p := plan(pod, at(50))
	if !equality.Semantic.DeepEqual(p.status, pod.Status) || p.finalize || !p.next.IsZero() {
		t.Fatalf("a finished pod's status must not change: %+v", p)
	}
	p = plan(deleting(pod, at(60), 30), at(60))
	if !p.finalize {
		t.Fatalf("a finished pod is deleted at once")
	}
}

func TestSimulatedInitContainersCompleteFirst(t *testing.T) {
	pod := withInit(podOf(container("app")), container("migrate"))
	p := plan(pod, at(0))
	init := p.status.InitContainerStatuses[0]
	if init.State.Terminated == nil || init.State.Terminated.Reason != reasonCompleted {
		t.Fatalf("init container = %+v", init)
	}
	mustCondition(t, p.status, corev1.PodInitialized, corev1.ConditionTrue)
	mustCondition(t, p.status, corev1.PodReady, corev1.ConditionTrue)

	denied := withInit(podOf(container("app")), corev1.Container{Name: "fetch", Image: "bad/image"})
	input := podInput{pod: denied, now: at(0), hostIP: "127.0.1.1", podIP: "10.244.0.2", backoff: testBackoff, host: noHost()}
	input.host.imageDenied = func(image string) bool { return image == "bad/image" }
	p = planPod(input)
	init = p.status.InitContainerStatuses[0]
	if init.State.Waiting == nil || init.State.Waiting.Reason != reasonErrImagePull {
		t.Fatalf("init container with denied image = %+v", init)
	}
	if p.status.ContainerStatuses[0].State.Waiting.Reason != reasonPodInitializing || p.status.Phase != corev1.PodPending {
		t.Fatalf("containers wait for init: %+v", p.status)
	}
	c := mustCondition(t, p.status, corev1.PodInitialized, corev1.ConditionFalse)
	if c.Message != "containers with incomplete status: [fetch]" {
		t.Fatalf("Initialized message = %q", c.Message)
	}
}

func TestForeignConditionsAndTransitionTimesAreKept(t *testing.T) {
	pod := podOf(container("app"))
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: "DisruptionTarget", Status: corev1.ConditionTrue, Reason: "x"})
	first := plan(pod, at(0))
	pod = apply(pod, first)
	later := plan(pod, at(100))
	if c := conditionOf(later.status, "DisruptionTarget"); c == nil || c.Reason != "x" {
		t.Fatalf("foreign condition lost: %+v", later.status.Conditions)
	}
	if c := conditionOf(later.status, corev1.PodReady); !c.LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("Ready's transition time moved without a transition: %s", c.LastTransitionTime)
	}
	if c := conditionOf(later.status, corev1.PodScheduled); !c.LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("PodScheduled (the scheduler's) changed: %+v", c)
	}
}
