package kubelet

// planPod is the kubelet's one decision: given a pod (spec and the status last written), the
// clock, the runtime's observations of its processes and the host facts, it returns the status
// the pod should have, the process actions to take, whether the pod object can now be deleted,
// and when the answer will next change by itself. The shell calls it on every pod event and at
// the returned time, writes the status only when it differs, and carries out the actions.

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podInput is everything planPod reads.
type podInput struct {
	pod    *corev1.Pod
	now    time.Time
	hostIP string
	podIP  string
	// runs are the runtime's current runs of a job-like pod's containers, by container name.
	runs    map[string]*containerRun
	host    hostFacts
	backoff backoff
}

// podPlan is planPod's answer.
type podPlan struct {
	status  corev1.PodStatus
	actions []action
	// finalize: the pod has stopped after deletion; write status, then delete the object.
	finalize bool
	// next is when to plan again without an event (zero: only on events).
	next time.Time
}

func (p *podPlan) wakeAt(t time.Time) { p.next = earliest(p.next, t) }

func (p *podPlan) do(a *action) {
	if a != nil {
		p.actions = append(p.actions, *a)
	}
}

func planPod(in podInput) podPlan {
	pod := in.pod
	if isTerminal(pod.Status.Phase) {
		return in.planTerminal()
	}
	start := seconds(in.now)
	if pod.Status.StartTime != nil {
		start = pod.Status.StartTime.Time
	}
	stop, stopping := stopFor(pod, start, in.now)
	var plan podPlan
	var inits, mains []corev1.ContainerStatus
	if isJobLike(pod) {
		inits, mains = in.runContainers(start, stopping, &plan)
	} else {
		inits, mains = in.simulateContainers(start, &plan)
	}
	if stopping {
		plan.next = time.Time{} // the stop schedule replaces the running pod's wake-ups
		if in.stopContainers(stop, inits, mains, &plan) {
			phase, reason, message := terminalPhase(pod, mains), "", ""
			if stop.deadlineExceeded {
				phase, reason, message = corev1.PodFailed, reasonDeadlineExceeded, messageDeadlineExceeded
			}
			plan.status = in.assemble(start, inits, mains, phase)
			plan.status.Reason, plan.status.Message = reason, message
			plan.finalize = !stop.deadlineExceeded
		} else {
			plan.status = in.assemble(start, inits, mains, podPhase(pod, inits, mains))
		}
		return plan
	}
	plan.wakeAt(deadlineAt(pod, start))
	phase := podPhase(pod, inits, mains)
	if isTerminal(phase) {
		// A finished pod's native sidecars are stopped with it.
		for i := range pod.Spec.InitContainers {
			if c := &pod.Spec.InitContainers[i]; isRestartableInit(c) {
				if st := findStatus(inits, c.Name); st != nil {
					(stopSchedule{requested: in.now, deadline: in.now}).stopSimulated(c, st, in.now)
				}
			}
		}
		plan.next = time.Time{}
	}
	plan.status = in.assemble(start, inits, mains, phase)
	return plan
}

// planTerminal leaves a finished pod's status alone; a deleted one is removed at once (after any
// straggling process is killed).
func (in podInput) planTerminal() podPlan {
	plan := podPlan{status: *in.pod.Status.DeepCopy()}
	running := false
	for name, run := range in.runs {
		if run.isRunning() {
			running = true
			if !run.KillSent {
				plan.actions = append(plan.actions, action{Kind: actionKill, Container: name})
			}
		}
	}
	plan.finalize = in.pod.DeletionTimestamp != nil && !running
	return plan
}

// simulateContainers computes the statuses of a long-running pod: regular init containers
// complete at once (unless their image is denied), then sidecars and containers come up.
func (in podInput) simulateContainers(start time.Time, plan *podPlan) (inits, mains []corev1.ContainerStatus) {
	sim := simulation{pod: in.pod, start: start, now: in.now, host: in.host, backoff: in.backoff}
	pod := in.pod
	var order []*corev1.Container
	for i := range pod.Spec.InitContainers {
		if isRestartableInit(&pod.Spec.InitContainers[i]) {
			order = append(order, &pod.Spec.InitContainers[i])
		}
	}
	for i := range pod.Spec.Containers {
		order = append(order, &pod.Spec.Containers[i])
	}
	starts := plannedStarts(start, order)
	when := map[string]planned{}
	for i, c := range order {
		when[c.Name] = starts[i]
	}
	blocked := false
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		prev := findStatus(pod.Status.InitContainerStatuses, c.Name)
		var st corev1.ContainerStatus
		var next time.Time
		switch {
		case blocked:
			st = notYetStarted(c, prev)
		case isRestartableInit(c):
			st, next = sim.simulate(c, when[c.Name], prev)
		default:
			st, next = sim.completedInit(c, prev)
			blocked = st.State.Terminated == nil
		}
		plan.wakeAt(next)
		inits = append(inits, st)
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		prev := findStatus(pod.Status.ContainerStatuses, c.Name)
		if blocked {
			mains = append(mains, notYetStarted(c, prev))
			continue
		}
		st, next := sim.simulate(c, when[c.Name], prev)
		plan.wakeAt(next)
		mains = append(mains, st)
	}
	return inits, mains
}

// runContainers computes the statuses of a job-like pod: regular init containers run one after
// another, then all containers run at once; native sidecars are simulated.
func (in podInput) runContainers(start time.Time, stopping bool, plan *podPlan) (inits, mains []corev1.ContainerStatus) {
	pod := in.pod
	proc := processes{pod: pod, now: in.now, backoff: in.backoff}
	sim := simulation{pod: pod, start: start, now: in.now, host: in.host, backoff: in.backoff}
	initsDone := true
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		prev := findStatus(pod.Status.InitContainerStatuses, c.Name)
		if isRestartableInit(c) {
			if !initsDone {
				inits = append(inits, notYetStarted(c, prev))
				continue
			}
			st, next := sim.simulate(c, planned{createdAt: start, visibleAt: start}, prev)
			plan.wakeAt(next)
			inits = append(inits, st)
			continue
		}
		st := in.runContainer(proc, sim, c, prev, initsDone, stopping, plan)
		inits = append(inits, st)
		initsDone = initsDone && st.State.Terminated != nil && st.State.Terminated.ExitCode == 0
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		prev := findStatus(pod.Status.ContainerStatuses, c.Name)
		mains = append(mains, in.runContainer(proc, sim, c, prev, initsDone, stopping, plan))
	}
	return inits, mains
}

// runContainer is the status of one really-run container whose turn has come (initsDone) or not.
// An image matching the deny pattern never pulls, so its command never runs: the container waits
// in ErrImagePull / ImagePullBackOff as a simulated one does, and the pod stays Pending.
func (in podInput) runContainer(proc processes, sim simulation, c *corev1.Container, prev *corev1.ContainerStatus,
	initsDone, stopping bool, plan *podPlan,
) corev1.ContainerStatus {
	if initsDone && in.host.imageDenied(c.Image) {
		st, next := sim.pullFailing(sim.base(c, prev), c)
		plan.wakeAt(next)
		return st
	}
	st, next, act := proc.status(c, prev, in.runs[c.Name], initsDone && !stopping)
	plan.wakeAt(next)
	plan.do(act)
	return st
}

// stopContainers advances the stop of every running container and reports whether all have
// stopped. Simulated containers stop at their SIGTERM time; processes are signalled and stop
// when they exit.
func (in podInput) stopContainers(stop stopSchedule, inits, mains []corev1.ContainerStatus, plan *podPlan) bool {
	pod := in.pod
	allStopped := true
	advance := func(c *corev1.Container, st *corev1.ContainerStatus, simulated bool) {
		var stopped bool
		var next time.Time
		if simulated {
			stopped, next = stop.stopSimulated(c, st, in.now)
		} else {
			var due *action
			stopped, due, next = stop.stopProcess(c, in.runs[c.Name], in.now)
			plan.do(due)
		}
		plan.wakeAt(next)
		allStopped = allStopped && stopped
	}
	jobLike := isJobLike(pod)
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if st := findStatus(inits, c.Name); st != nil {
			advance(c, st, !jobLike || isRestartableInit(c))
		}
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if st := findStatus(mains, c.Name); st != nil {
			advance(c, st, !jobLike)
		}
	}
	return allStopped
}

// notYetStarted is the status of a container waiting for init containers to finish.
func notYetStarted(c *corev1.Container, prev *corev1.ContainerStatus) corev1.ContainerStatus {
	st := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: ptr(false), State: waiting(reasonPodInitializing, "")}
	if prev != nil {
		st.RestartCount = prev.RestartCount
		st.LastTerminationState = prev.LastTerminationState
	}
	return st
}

// assemble builds the pod status, keeping every field the kubelet does not own.
func (in podInput) assemble(start time.Time, inits, mains []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodStatus {
	pod := in.pod
	st := *pod.Status.DeepCopy()
	st.Phase = phase
	st.StartTime = &metav1.Time{Time: start}
	st.HostIP = in.hostIP
	st.HostIPs = []corev1.HostIP{{IP: in.hostIP}}
	st.PodIP = in.podIP
	st.PodIPs = []corev1.PodIP{{IP: in.podIP}}
	st.InitContainerStatuses = inits
	st.ContainerStatuses = mains
	st.ObservedGeneration = pod.Generation
	st.Conditions = mergeConditions(pod.Status.Conditions, kubeletConditions(pod, phase, inits, mains), pod.Generation, in.now)
	return st
}
