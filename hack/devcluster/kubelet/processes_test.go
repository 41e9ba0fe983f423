package kubelet

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func jobPod(policy corev1.RestartPolicy, containers ...corev1.Container) *corev1.Pod {
	pod := podOf(containers...)
	pod.Spec.RestartPolicy = policy
	return pod
}

func jobContainer(name string, command ...string) corev1.Container {
	return corev1.Container{Name: name, Image: "ignored", Command: command}
}

// jobPlan plans a job-like pod with the given runs.
func jobPlan(pod *corev1.Pod, now time.Time, runs map[string]*containerRun) podPlan {
	return planPod(podInput{pod: pod, now: now, hostIP: "127.0.1.1", podIP: "10.244.0.3", runs: runs, host: noHost(), backoff: testBackoff})
}

func startsOf(p podPlan) []string {
	var out []string
	for _, a := range p.actions {
		if a.Kind == actionStart {
			out = append(out, a.Container)
		}
	}
	return out
}

func TestJobLikePods(t *testing.T) {
	owned := podOf(container("x"))
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "j"}}
	cases := map[string]struct {
		pod  *corev1.Pod
		want bool
	}{
		"replicaset pod":   {podOf(container("x")), false},
		"never":            {jobPod(corev1.RestartPolicyNever, container("x")), true},
		"on failure":       {jobPod(corev1.RestartPolicyOnFailure, container("x")), true},
		"owned by a Job":   {owned, true},
		"other owner kind": {func() *corev1.Pod { p := owned.DeepCopy(); p.OwnerReferences[0].Kind = "ReplicaSet"; return p }(), false},
	}
	for name, c := range cases {
		if got := isJobLike(c.pod); got != c.want {
			t.Errorf("%s: isJobLike = %v, want %v", name, got, c.want)
		}
	}
}

func TestJobContainerRunsToCompletion(t *testing.T) {
	pod := jobPod(corev1.RestartPolicyNever, jobContainer("main", "sh", "-c", "exit 3"))
	p := jobPlan(pod, at(0), nil)
	if got := startsOf(p); len(got) != 1 || got[0] != "main" || p.actions[0].Attempt != 0 {
		t.Fatalf("want one start of main, got %+v", p.actions)
	}
	if p.status.Phase != corev1.PodPending || p.status.ContainerStatuses[0].State.Waiting.Reason != reasonContainerCreating {
		t.Fatalf("before the process runs: %+v", p.status)
	}
	pod = apply(pod, p)
	creating := map[string]*containerRun{"main": {}}
	if p := jobPlan(pod, at(0.1), creating); len(p.actions) != 0 || p.status.ContainerStatuses[0].State.Waiting == nil {
		t.Fatalf("a run being started is not started again and shows as creating: %+v", p)
	}
	running := map[string]*containerRun{"main": {Started: at(0.2)}}
	p = jobPlan(pod, at(1), running)
	if p.status.Phase != corev1.PodRunning || !p.status.ContainerStatuses[0].Ready || len(p.actions) != 0 {
		t.Fatalf("while running: %+v", p)
	}
	pod = apply(pod, p)
	done := map[string]*containerRun{"main": {Started: at(0.2), Finished: at(2.5), ExitCode: 3, Message: "boom"}}
	p = jobPlan(pod, at(2.6), done)
	term := p.status.ContainerStatuses[0].State.Terminated
	if p.status.Phase != corev1.PodFailed || term == nil || term.ExitCode != 3 || term.Reason != reasonError || term.Message != "boom" {
		t.Fatalf("after exit 3: phase %s, state %+v", p.status.Phase, p.status.ContainerStatuses[0].State)
	}
	if !term.StartedAt.Time.Equal(t0) || !term.FinishedAt.Time.Equal(at(2)) {
		t.Fatalf("timestamps truncated to the second: %s %s", term.StartedAt, term.FinishedAt)
	}
	if c := mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse); c.Reason != reasonPodFailed {
		t.Fatalf("Ready reason = %s", c.Reason)
	}
	if len(p.actions) != 0 || !p.next.IsZero() {
		t.Fatalf("nothing follows a failed Never pod: %+v", p)
	}

	ok := map[string]*containerRun{"main": {Started: at(0.2), Finished: at(2.5)}}
	p = jobPlan(pod, at(2.6), ok)
	if p.status.Phase != corev1.PodSucceeded || p.status.ContainerStatuses[0].State.Terminated.Reason != reasonCompleted {
		t.Fatalf("exit 0: %+v", p.status)
	}
	if c := mustCondition(t, p.status, corev1.PodReady, corev1.ConditionFalse); c.Reason != reasonPodCompleted {
		t.Fatalf("Ready reason = %s", c.Reason)
	}
}

func TestOnFailureRestartsAfterBackoff(t *testing.T) {
	pod := jobPod(corev1.RestartPolicyOnFailure, jobContainer("main", "false"))
	pod = apply(pod, jobPlan(pod, at(0), nil))
	failed := map[string]*containerRun{"main": {Started: at(0), Finished: at(1), ExitCode: 1}}
	p := jobPlan(pod, at(1), failed)
	cs := p.status.ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != reasonCrashLoopBackOff || cs.LastTerminationState.Terminated == nil || p.status.Phase != corev1.PodRunning {
		t.Fatalf("after a failure: %+v phase %s", cs, p.status.Phase)
	}
	if len(p.actions) != 0 || !p.next.Equal(at(11)) {
		t.Fatalf("restart waits for the back-off: actions %+v next %s", p.actions, p.next)
	}
	pod = apply(pod, p)
	p = jobPlan(pod, at(11), failed)
	if len(p.actions) != 1 || p.actions[0].Attempt != 1 {
		t.Fatalf("want a start of attempt 1: %+v", p.actions)
	}
	second := map[string]*containerRun{"main": {Attempt: 1, Started: at(11.5)}}
	p = jobPlan(apply(pod, p), at(12), second)
	cs = p.status.ContainerStatuses[0]
	if cs.RestartCount != 1 || cs.State.Running == nil || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 {
		t.Fatalf("second run: %+v", cs)
	}
	pod = apply(pod, p)
	succeeded := map[string]*containerRun{"main": {Attempt: 1, Started: at(11.5), Finished: at(13)}}
	if p := jobPlan(pod, at(13), succeeded); p.status.Phase != corev1.PodSucceeded {
		t.Fatalf("an OnFailure pod whose container finally exits 0 succeeds: %s", p.status.Phase)
	}
}

func TestInitContainersRunOneAfterAnother(t *testing.T) {
	pod := jobPod(corev1.RestartPolicyNever, jobContainer("main", "true"))
	pod.Spec.InitContainers = []corev1.Container{jobContainer("first", "true"), jobContainer("second", "true")}
	p := jobPlan(pod, at(0), nil)
	if got := startsOf(p); len(got) != 1 || got[0] != "first" {
		t.Fatalf("only the first init container starts: %v", got)
	}
	if p.status.ContainerStatuses[0].State.Waiting.Reason != reasonPodInitializing || p.status.InitContainerStatuses[1].State.Waiting.Reason != reasonPodInitializing {
		t.Fatalf("the others wait: %+v", p.status)
	}
	pod = apply(pod, p)
	runs := map[string]*containerRun{"first": {Started: at(0), Finished: at(1)}}
	p = jobPlan(pod, at(1), runs)
	if got := startsOf(p); len(got) != 1 || got[0] != "second" {
		t.Fatalf("then the second: %v", got)
	}
	pod = apply(pod, p)
	runs["second"] = &containerRun{Started: at(1), Finished: at(2)}
	p = jobPlan(pod, at(2), runs)
	if got := startsOf(p); len(got) != 1 || got[0] != "main" {
		t.Fatalf("then the containers: %v", got)
	}
	mustCondition(t, p.status, corev1.PodInitialized, corev1.ConditionTrue)

	failing := jobPod(corev1.RestartPolicyNever, jobContainer("main", "true"))
	failing.Spec.InitContainers = []corev1.Container{jobContainer("first", "false")}
	failing = apply(failing, jobPlan(failing, at(0), nil))
	p = jobPlan(failing, at(1), map[string]*containerRun{"first": {Started: at(0), Finished: at(1), ExitCode: 1}})
	if p.status.Phase != corev1.PodFailed || len(p.actions) != 0 {
		t.Fatalf("a failed init container fails a Never pod: %s %+v", p.status.Phase, p.actions)
	}
}

func TestRunLostInAKubeletRestartFailsTheContainer(t *testing.T) {
	pod := jobPod(corev1.RestartPolicyNever, jobContainer("main", "sleep", "100"))
	pod = apply(pod, jobPlan(pod, at(0), map[string]*containerRun{"main": {Started: at(0)}}))
	p := jobPlan(pod, at(50), map[string]*containerRun{}) // a new kubelet knows no runs
	term := p.status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != exitCodeLost || term.Message != lostRunMessage || p.status.Phase != corev1.PodFailed {
		t.Fatalf("lost run: %+v phase %s", p.status.ContainerStatuses[0], p.status.Phase)
	}
	if len(p.actions) != 0 {
		t.Fatalf("a lost run of a Never pod is not restarted: %+v", p.actions)
	}
}

func TestConfigAndStartErrors(t *testing.T) {
	pod := jobPod(corev1.RestartPolicyNever, jobContainer("main", "env"))
	pod = apply(pod, jobPlan(pod, at(0), nil))
	runs := map[string]*containerRun{"main": {Finished: at(0), ConfigError: `configmap "settings" not found`}}
	p := jobPlan(pod, at(5), runs)
	w := p.status.ContainerStatuses[0].State.Waiting
	if w == nil || w.Reason != reasonCreateConfigError || w.Message != `configmap "settings" not found` || p.status.Phase != corev1.PodPending {
		t.Fatalf("config error: %+v", p.status.ContainerStatuses[0])
	}
	if len(p.actions) != 0 || !p.next.Equal(at(10)) {
		t.Fatalf("retry after %s: %+v next %s", configErrorRetry, p.actions, p.next)
	}
	if p := jobPlan(apply(pod, p), at(10), runs); len(startsOf(p)) != 1 {
		t.Fatalf("want a retry at %s", at(10))
	}

	runs = map[string]*containerRun{"main": {Finished: at(1), StartError: `failed to start container "main": exec: "nope": executable file not found in $PATH`}}
	p = jobPlan(pod, at(1), runs)
	term := p.status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 128 || term.Reason != reasonStartError || !strings.Contains(term.Message, "executable file not found") || p.status.Phase != corev1.PodFailed {
		t.Fatalf("start error: %+v", p.status.ContainerStatuses[0])
	}
}

func TestDeletingARunningJobPodSignalsItsProcess(t *testing.T) {
	c := jobContainer("main", "sleep", "1000")
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 2}}}
	pod := jobPod(corev1.RestartPolicyNever, c)
	runs := map[string]*containerRun{"main": {Started: at(0)}}
	pod = deleting(apply(pod, jobPlan(pod, at(0), runs)), at(10), 30)

	// Waits counted from deletionTimestamp get a second of slack (it is truncated to the second).
	p := jobPlan(pod, at(11), runs)
	if len(p.actions) != 0 || !p.next.Equal(at(13)) || p.finalize {
		t.Fatalf("during preStop nothing is signalled: %+v", p)
	}
	p = jobPlan(pod, at(13), runs)
	if len(p.actions) != 1 || p.actions[0].Kind != actionTerm || !p.next.Equal(at(41)) {
		t.Fatalf("SIGTERM after preStop, SIGKILL due at the deadline: %+v", p)
	}
	runs["main"].TermSent = true
	if p := jobPlan(pod, at(14), runs); len(p.actions) != 0 || p.finalize {
		t.Fatalf("SIGTERM is sent once: %+v", p)
	}
	p = jobPlan(pod, at(41), runs)
	if len(p.actions) != 1 || p.actions[0].Kind != actionKill {
		t.Fatalf("SIGKILL at the deadline: %+v", p.actions)
	}
	runs["main"].KillSent = true
	runs["main"].Finished, runs["main"].ExitCode = at(41.1), 137
	p = jobPlan(pod, at(41.2), runs)
	if !p.finalize || p.status.Phase != corev1.PodFailed || p.status.ContainerStatuses[0].State.Terminated.ExitCode != 137 {
		t.Fatalf("once the process is gone the pod is deleted: %+v", p)
	}
	for _, a := range p.actions {
		if a.Kind == actionStart {
			t.Fatalf("nothing starts in a stopping pod")
		}
	}
}

func TestActiveDeadlineKillsJobProcesses(t *testing.T) {
	pod := jobPod(corev1.RestartPolicyNever, jobContainer("main", "sleep", "1000"))
	pod.Spec.ActiveDeadlineSeconds = int64p(5)
	pod.Spec.TerminationGracePeriodSeconds = int64p(3)
	runs := map[string]*containerRun{"main": {Started: at(0)}}
	p := jobPlan(pod, at(0.5), runs)
	if !p.next.Equal(at(5)) {
		t.Fatalf("next = %s, want the deadline", p.next)
	}
	pod = apply(pod, p)
	p = jobPlan(pod, at(5), runs)
	if len(p.actions) != 1 || p.actions[0].Kind != actionTerm || isTerminal(p.status.Phase) {
		t.Fatalf("deadline: SIGTERM first: %+v", p)
	}
	runs["main"].TermSent = true
	runs["main"].Finished, runs["main"].ExitCode = at(5.1), 143
	p = jobPlan(pod, at(5.2), runs)
	if p.status.Phase != corev1.PodFailed || p.status.Reason != reasonDeadlineExceeded || p.finalize {
		t.Fatalf("then Failed/DeadlineExceeded, not deleted: %+v", p.status)
	}
}

func TestLostRunOfAnOnFailurePodIsRestarted(t *testing.T) {
	pod := jobPod(corev1.RestartPolicyOnFailure, jobContainer("main", "sleep", "100"))
	pod = apply(pod, jobPlan(pod, at(0), map[string]*containerRun{"main": {Started: at(0)}}))
	p := jobPlan(pod, at(50), map[string]*containerRun{})
	cs := p.status.ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.Message != lostRunMessage {
		t.Fatalf("a lost run is a failure to restart from: %+v", cs)
	}
	if !p.next.Equal(at(60)) || p.status.Phase != corev1.PodRunning {
		t.Fatalf("restart after the back-off: next %s phase %s", p.next, p.status.Phase)
	}
	// A kubelet restarted again during the back-off still knows when to restart, from the status.
	pod = apply(pod, p)
	if p := jobPlan(pod, at(55), map[string]*containerRun{}); len(p.actions) != 0 || !p.next.Equal(at(60)) {
		t.Fatalf("during the back-off: %+v", p)
	}
	if p := jobPlan(pod, at(60), map[string]*containerRun{}); len(p.actions) != 1 || p.actions[0].Attempt != 1 {
		t.Fatalf("at the end of the back-off: %+v", p.actions)
	}
}

func TestFinishedPodsKillStragglersBeforeDeletion(t *testing.T) {
	pod := jobPod(corev1.RestartPolicyNever, jobContainer("main", "sleep", "100"))
	pod.Status.Phase = corev1.PodFailed
	pod = deleting(pod, at(10), 30)
	runs := map[string]*containerRun{"main": {Started: at(0)}}
	p := jobPlan(pod, at(10), runs)
	if p.finalize || len(p.actions) != 1 || p.actions[0].Kind != actionKill {
		t.Fatalf("a process still running in a finished pod is killed first: %+v", p)
	}
	runs["main"].KillSent, runs["main"].Finished = true, at(10.1)
	if p := jobPlan(pod, at(10.2), runs); !p.finalize || len(p.actions) != 0 {
		t.Fatalf("then the pod is deleted: %+v", p)
	}
}

func TestDeniedImageOfAJobPodNeverRuns(t *testing.T) {
	denied := func(image string) bool { return strings.HasPrefix(image, "denied/") }
	for _, policy := range []corev1.RestartPolicy{corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure} {
		main := jobContainer("main", "sh", "-c", "touch /tmp/ran")
		main.Image = "denied/app:1"
		pod := jobPod(policy, main)
		input := podInput{pod: pod, hostIP: "127.0.1.1", podIP: "10.244.0.3", host: noHost(), backoff: testBackoff}
		input.host.imageDenied = denied
		for _, w := range []struct {
			at     float64
			reason string
		}{{0, reasonErrImagePull}, {2, reasonImagePullBackOff}, {10, reasonErrImagePull}, {12.5, reasonImagePullBackOff}} {
			input.now = at(w.at)
			p := planPod(input)
			cs := p.status.ContainerStatuses[0]
			if len(p.actions) != 0 {
				t.Fatalf("%s at %gs: a denied image's command must not start: %+v", policy, w.at, p.actions)
			}
			if cs.State.Waiting == nil || cs.State.Waiting.Reason != w.reason || cs.ContainerID != "" {
				t.Fatalf("%s at %gs: state %+v, want waiting %s without a container", policy, w.at, cs.State, w.reason)
			}
			if p.status.Phase != corev1.PodPending || p.next.IsZero() {
				t.Fatalf("%s at %gs: want Pending with a next pull: %s next=%s", policy, w.at, p.status.Phase, p.next)
			}
			input.pod = apply(pod, p)
		}
	}

	// A denied init container blocks the containers after it; a denied main container does not
	// keep the pod's other containers from running.
	init := jobContainer("fetch", "true")
	init.Image = "denied/fetch"
	blocked := jobPod(corev1.RestartPolicyNever, jobContainer("main", "true"))
	blocked.Spec.InitContainers = []corev1.Container{init}
	input := podInput{pod: blocked, now: at(0), hostIP: "127.0.1.1", podIP: "10.244.0.3", host: noHost(), backoff: testBackoff}
	input.host.imageDenied = denied
	p := planPod(input)
	if len(p.actions) != 0 || p.status.InitContainerStatuses[0].State.Waiting.Reason != reasonErrImagePull ||
		p.status.ContainerStatuses[0].State.Waiting.Reason != reasonPodInitializing {
		t.Fatalf("denied init container: %+v %+v", p.actions, p.status)
	}
	deniedMain := jobContainer("main", "true")
	deniedMain.Image = "denied/app"
	mixed := jobPod(corev1.RestartPolicyNever, deniedMain, jobContainer("helper", "true"))
	input.pod = mixed
	p = planPod(input)
	if got := startsOf(p); len(got) != 1 || got[0] != "helper" || p.status.Phase != corev1.PodPending {
		t.Fatalf("only the pullable container starts, the pod stays Pending: %v %s", got, p.status.Phase)
	}

	// Deleting or timing out such a pod needs no process to stop.
	input.pod = jobPod(corev1.RestartPolicyNever, deniedMain)
	input.pod = deleting(apply(input.pod, planPod(input)), at(5), 30)
	input.now = at(5)
	if p := planPod(input); !p.finalize || len(p.actions) != 0 {
		t.Fatalf("a deleted pod whose image never pulled is removed at once: %+v", p)
	}
}
