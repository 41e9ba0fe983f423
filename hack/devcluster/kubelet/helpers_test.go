package kubelet

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// t0 is the tests' epoch, on a whole second as stored timestamps are.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(seconds float64) time.Time {
	return t0.Add(time.Duration(seconds * float64(time.Second)))
}

var testBackoff = backoff{Initial: 10 * time.Second, Max: 300 * time.Second}

func noHost() hostFacts {
	return hostFacts{
		imageDenied: func(string) bool { return false },
		pathExists:  func(string) bool { return true },
	}
}

// podOf builds a bound pod with the given containers.
func podOf(containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-1", Generation: 1},
		Spec: corev1.PodSpec{
			NodeName:      "devcluster-node-0",
			RestartPolicy: corev1.RestartPolicyAlways,
			Containers:    containers,
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{
				Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0),
			}},
		},
	}
}

func container(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "nginx:1.27"}
}

// apply writes a plan's status into the pod, as the API server would store it.
func apply(pod *corev1.Pod, plan podPlan) *corev1.Pod {
	out := pod.DeepCopy()
	out.Status = plan.status
	return out
}

// plan runs planPod for a simulated pod at the given time.
func plan(pod *corev1.Pod, now time.Time) podPlan {
	return planPod(podInput{pod: pod, now: now, hostIP: "127.0.1.1", podIP: "10.244.0.2", host: noHost(), backoff: testBackoff})
}

func conditionOf(st corev1.PodStatus, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func mustCondition(t *testing.T, st corev1.PodStatus, typ corev1.PodConditionType, want corev1.ConditionStatus) *corev1.PodCondition {
	t.Helper()
	c := conditionOf(st, typ)
	if c == nil {
		t.Fatalf("condition %s missing in %+v", typ, st.Conditions)
	}
	if c.Status != want {
		t.Fatalf("condition %s = %s (%s: %s), want %s", typ, c.Status, c.Reason, c.Message, want)
	}
	return c
}

func int64p(v int64) *int64 { return &v }
