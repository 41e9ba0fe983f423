package kubelet

// The Node and Lease objects of the fake nodes, as pure functions of the node's identity and the
// clock. A node looks like a real, healthy worker: generous allocatable capacity, the usual
// well-known labels (hostname, os, arch, a zone per node so topology spreading has something to
// spread over), a pod CIDR, an InternalIP on loopback where its log server listens, and the four
// kubelet conditions with fresh heartbeats. heartbeat.go writes them.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeLeaseNamespace holds the nodes' heartbeat Leases.
const nodeLeaseNamespace = "kube-node-lease"

// leaseDurationSeconds is how long a Lease is valid without renewal, as upstream.
const leaseDurationSeconds = 40

// zones the nodes are spread over, round-robin.
var zones = []string{"devcluster-a", "devcluster-b", "devcluster-c"}

// nodeIdentity is what distinguishes one fake node.
type nodeIdentity struct {
	Name    string
	Index   int
	Address string // InternalIP, on loopback
	PodCIDR string
	Port    int32 // the log server's port, published as the kubelet endpoint
	BootID  string
}

func nodeCapacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("32"),
		corev1.ResourceMemory:           resource.MustParse("128Gi"),
		corev1.ResourcePods:             resource.MustParse("500"),
		corev1.ResourceEphemeralStorage: resource.MustParse("500Gi"),
	}
}

// newNode is the object registered for a node that does not exist yet.
func newNode(id nodeIdentity, now time.Time) *corev1.Node {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: id.Name,
			Labels: map[string]string{
				"kubernetes.io/hostname":           id.Name,
				"kubernetes.io/os":                 runtime.GOOS,
				"kubernetes.io/arch":               runtime.GOARCH,
				"beta.kubernetes.io/os":            runtime.GOOS,
				"beta.kubernetes.io/arch":          runtime.GOARCH,
				"node.kubernetes.io/instance-type": "devcluster",
				"topology.kubernetes.io/region":    "devcluster",
				"topology.kubernetes.io/zone":      zones[id.Index%len(zones)],
			},
			Annotations: map[string]string{
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
				"node.alpha.kubernetes.io/ttl":                           "0",
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: id.PodCIDR, PodCIDRs: []string{id.PodCIDR}},
	}
	node.Status = nodeStatus(node.Status, id, now)
	return node
}

// nodeStatus refreshes the kubelet-owned part of a node's status: capacity, addresses, endpoint,
// node info and the conditions' heartbeats. A condition's transition time moves only when its
// status changes (e.g. Ready going from Unknown back to True after a kubelet restart).
func nodeStatus(current corev1.NodeStatus, id nodeIdentity, now time.Time) corev1.NodeStatus {
	st := *current.DeepCopy()
	st.Capacity = nodeCapacity()
	st.Allocatable = nodeCapacity()
	st.Phase = ""
	st.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: id.Address}}
	st.DaemonEndpoints = corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: id.Port}}
	st.NodeInfo = nodeInfo(id)
	heartbeat := metav1.NewTime(seconds(now))
	wanted := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
	}
	for _, w := range wanted {
		w.LastHeartbeatTime = heartbeat
		w.LastTransitionTime = heartbeat
		replaced := false
		for i := range st.Conditions {
			if st.Conditions[i].Type == w.Type {
				if st.Conditions[i].Status == w.Status {
					w.LastTransitionTime = st.Conditions[i].LastTransitionTime
				}
				st.Conditions[i] = w
				replaced = true
			}
		}
		if !replaced {
			st.Conditions = append(st.Conditions, w)
		}
	}
	return st
}

func nodeInfo(id nodeIdentity) corev1.NodeSystemInfo {
	machine := sha256.Sum256([]byte("devcluster/" + id.Name))
	machineID := hex.EncodeToString(machine[:16])
	return corev1.NodeSystemInfo{
		MachineID:               machineID,
		SystemUUID:              fmt.Sprintf("%s-%s-%s-%s-%s", machineID[:8], machineID[8:12], machineID[12:16], machineID[16:20], machineID[20:32]),
		BootID:                  id.BootID,
		KernelVersion:           "devcluster",
		OSImage:                 "devcluster fake kubelet (containers run as local processes)",
		ContainerRuntimeVersion: "devcluster://" + kubernetesVersion(),
		KubeletVersion:          kubernetesVersion(),
		OperatingSystem:         runtime.GOOS,
		Architecture:            runtime.GOARCH,
	}
}

// kubernetesVersion is the version of the k8s.io/kubernetes module this binary was built with,
// which is the version of the control plane beside it.
func kubernetesVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/kubernetes" {
				return dep.Version
			}
		}
	}
	return "v0.0.0-unknown"
}

// newLease is a node's heartbeat Lease, owned by its Node so it goes when the node does.
func newLease(node *corev1.Node, now time.Time) *coordinationv1.Lease {
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name:      node.Name,
			Namespace: nodeLeaseNamespace,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID,
			}},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr(node.Name),
			LeaseDurationSeconds: ptr(int32(leaseDurationSeconds)),
		},
	}
	renewLease(lease, now)
	return lease
}

// renewLease moves the Lease's renew time to now.
func renewLease(lease *coordinationv1.Lease, now time.Time) {
	lease.Spec.RenewTime = &metav1.MicroTime{Time: now}
}

// conditionTaints are the taints the TaintNodesByCondition admission plugin puts on a new node
// (and the node lifecycle controller on an unhealthy one) until the node is seen Ready. The
// devcluster runs no node lifecycle controller, so the kubelet lifts them from its healthy nodes.
var conditionTaints = []string{"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}

// liftConditionTaints returns the taints without conditionTaints, and whether any was removed.
func liftConditionTaints(taints []corev1.Taint) ([]corev1.Taint, bool) {
	kept := make([]corev1.Taint, 0, len(taints))
	for _, t := range taints {
		if !slices.Contains(conditionTaints, t.Key) {
			kept = append(kept, t)
		}
	}
	return kept, len(kept) != len(taints)
}

// nodeName is the name of node i.
func nodeName(prefix string, index int) string {
	return prefix + fmt.Sprint(index)
}

// nodeIndex is the index of a node name with the prefix, or -1 when it is not one of ours.
func nodeIndex(prefix, name string, nodes int) int {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return -1
	}
	for i := 0; i < nodes; i++ {
		if rest == fmt.Sprint(i) {
			return i
		}
	}
	return -1
}
