package kubelet

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func testIdentity() nodeIdentity {
	return nodeIdentity{Name: "devcluster-node-1", Index: 1, Address: "127.0.1.2", PodCIDR: "10.244.4.0/22", Port: 40123, BootID: "boot"}
}

func TestNewNodeLooksLikeAHealthyWorker(t *testing.T) {
	node := newNode(testIdentity(), t0)
	if node.Spec.PodCIDR != "10.244.4.0/22" || len(node.Spec.PodCIDRs) != 1 {
		t.Fatalf("pod CIDR: %+v", node.Spec)
	}
	if node.Labels["kubernetes.io/hostname"] != node.Name || node.Labels["topology.kubernetes.io/zone"] != "devcluster-b" || node.Labels["kubernetes.io/os"] != "linux" {
		t.Fatalf("labels: %v", node.Labels)
	}
	if pods := node.Status.Allocatable[corev1.ResourcePods]; pods.Cmp(resource.MustParse("100")) < 0 {
		t.Fatalf("allocatable pods %s is not generous", pods.String())
	}
	if node.Status.Addresses[0].Type != corev1.NodeInternalIP || node.Status.Addresses[0].Address != "127.0.1.2" {
		t.Fatalf("addresses: %+v", node.Status.Addresses)
	}
	if node.Status.DaemonEndpoints.KubeletEndpoint.Port != 40123 {
		t.Fatalf("kubelet endpoint: %+v", node.Status.DaemonEndpoints)
	}
	if node.Status.NodeInfo.KubeletVersion == "" || node.Status.NodeInfo.BootID != "boot" {
		t.Fatalf("node info: %+v", node.Status.NodeInfo)
	}
	ready := false
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = c.Status == corev1.ConditionTrue && c.LastHeartbeatTime.Time.Equal(t0)
		} else if c.Status != corev1.ConditionFalse {
			t.Fatalf("pressure condition %s is %s", c.Type, c.Status)
		}
	}
	if !ready {
		t.Fatalf("node not Ready: %+v", node.Status.Conditions)
	}
}

func TestHeartbeatRefreshesWithoutFakingTransitions(t *testing.T) {
	node := newNode(testIdentity(), t0)
	later := t0.Add(time.Minute)
	st := nodeStatus(node.Status, testIdentity(), later)
	for _, c := range st.Conditions {
		if !c.LastHeartbeatTime.Time.Equal(later) || !c.LastTransitionTime.Time.Equal(t0) {
			t.Fatalf("%s: heartbeat %s transition %s", c.Type, c.LastHeartbeatTime, c.LastTransitionTime)
		}
	}
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == corev1.NodeReady {
			node.Status.Conditions[i].Status = corev1.ConditionUnknown // lifecycle controller after a kubelet outage
		}
	}
	st = nodeStatus(node.Status, testIdentity(), later)
	for _, c := range st.Conditions {
		if c.Type == corev1.NodeReady && (c.Status != corev1.ConditionTrue || !c.LastTransitionTime.Time.Equal(later)) {
			t.Fatalf("Ready coming back must transition now: %+v", c)
		}
	}
	if len(st.Conditions) != 4 {
		t.Fatalf("conditions duplicated: %+v", st.Conditions)
	}
}

func TestLease(t *testing.T) {
	node := newNode(testIdentity(), t0)
	node.UID = "node-uid"
	lease := newLease(node, t0)
	if lease.Namespace != "kube-node-lease" || lease.Name != node.Name || *lease.Spec.HolderIdentity != node.Name ||
		*lease.Spec.LeaseDurationSeconds != 40 || lease.OwnerReferences[0].UID != "node-uid" {
		t.Fatalf("lease: %+v", lease)
	}
	renewLease(lease, t0.Add(10*time.Second))
	if !lease.Spec.RenewTime.Time.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("renew time %s", lease.Spec.RenewTime)
	}
}

func TestNodeNames(t *testing.T) {
	if nodeName("devcluster-node-", 2) != "devcluster-node-2" {
		t.Fatal("name")
	}
	for name, want := range map[string]int{"devcluster-node-2": 2, "devcluster-node-3": -1, "other-0": -1, "devcluster-node-02": -1} {
		if got := nodeIndex("devcluster-node-", name, 3); got != want {
			t.Errorf("nodeIndex(%s) = %d, want %d", name, got, want)
		}
	}
}

func TestConditionTaintsAreLifted(t *testing.T) {
	taints := []corev1.Taint{
		{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "canary", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute},
	}
	kept, lifted := liftConditionTaints(taints)
	if !lifted || len(kept) != 1 || kept[0].Key != "dedicated" {
		t.Fatalf("kept %+v lifted %v", kept, lifted)
	}
	if _, lifted := liftConditionTaints(kept); lifted {
		t.Fatalf("nothing to lift the second time")
	}
}
