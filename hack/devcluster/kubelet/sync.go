package kubelet

// One sync of one pod: read it from the informer cache, plan, carry out the process actions,
// write the status if it changed, delete the object once it has stopped. Writes go through
// UpdateStatus with the cached resourceVersion, so a status someone else changed in between
// (a readiness gate set by a controller) is never overwritten: the API answers 409, the pod is
// read again and planned again.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

var everything = labels.Everything()

// statusMark remembers one status write: if the API server normalises a field we set (so the
// stored status never equals ours), the pod is not rewritten for as long as neither it nor our
// wish changes, instead of being rewritten on every event it itself causes.
type statusMark struct {
	resourceVersion string
	wish            [32]byte
}

// maxConflictRetries bounds how often one sync re-reads a pod after write conflicts.
const maxConflictRetries = 3

func (k *kubelet) sync(ctx context.Context, key string) (time.Time, error) {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return time.Time{}, nil
	}
	pod, err := k.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		k.forget(key, "")
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	node, ours := k.nodes[pod.Spec.NodeName]
	if !ours {
		return time.Time{}, nil
	}
	k.forget(key, pod.UID) // a pod re-created under the same name leaves the old one behind
	if k.isFinalized(pod.UID) {
		return time.Time{}, nil
	}
	for try := 0; ; try++ {
		next, conflict, err := k.syncPod(ctx, key, pod, node)
		if !conflict || try == maxConflictRetries {
			return next, err
		}
		pod, err = k.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return time.Time{}, nil
		}
		if err != nil {
			return time.Time{}, err
		}
	}
}

// syncPod plans and applies once; conflict reports a 409 on the status write.
func (k *kubelet) syncPod(ctx context.Context, key string, pod *corev1.Pod, node *nodeIdentity) (time.Time, bool, error) {
	podIP, err := k.podIP(pod, node)
	if err != nil {
		return time.Time{}, false, err
	}
	input := podInput{pod: pod, hostIP: node.Address, podIP: podIP, host: k.host, backoff: k.backoff}
	var plan podPlan
	// Starting a container changes what the runtime reports, so plan again after acting; the
	// written status then already shows the containers being created.
	for round := 0; round < 3; round++ {
		input.now = k.now()
		if isJobLike(pod) {
			input.runs = k.runtime.snapshot(pod.UID)
		}
		plan = planPod(input)
		if len(plan.actions) == 0 {
			break
		}
		for _, a := range plan.actions {
			k.act(ctx, key, pod, node, podIP, a)
		}
	}
	if isTerminal(plan.status.Phase) && !pod.Spec.HostNetwork {
		k.addresses.release(string(pod.UID))
	}
	if err := k.writeStatus(ctx, pod, plan.status); err != nil {
		if apierrors.IsConflict(err) {
			return time.Time{}, true, nil
		}
		if !plan.finalize {
			return time.Time{}, false, err
		}
		// Deletion must complete even if the last status cannot be written.
		k.logf("final status of %s: %v", key, err)
	}
	if plan.finalize {
		return time.Time{}, false, k.deletePod(ctx, pod)
	}
	return plan.next, false, nil
}

// podIP is the pod's address: the node's for hostNetwork pods, the one in the status of a
// finished pod, otherwise one from the node's range.
func (k *kubelet) podIP(pod *corev1.Pod, node *nodeIdentity) (string, error) {
	switch {
	case pod.Spec.HostNetwork:
		return node.Address, nil
	case isTerminal(pod.Status.Phase):
		return pod.Status.PodIP, nil
	}
	return k.addresses.ensure(node.Name, string(pod.UID), pod.Status.PodIP)
}

// act carries out one process action.
func (k *kubelet) act(ctx context.Context, key string, pod *corev1.Pod, node *nodeIdentity, podIP string, a action) {
	if a.Kind != actionStart {
		k.runtime.signal(pod.UID, a.Container, a.Kind)
		return
	}
	c := findContainer(pod, a.Container)
	if c == nil {
		return
	}
	addr := podAddressing{podIP: podIP, hostIP: node.Address}
	src := apiSources{ctx: ctx, client: k.client, pod: pod}
	allocatable := nodeCapacity()
	env, err := containerEnv(pod, c, k.baseEnv(pod), addr, allocatable, src)
	if err != nil {
		k.runtime.recordConfigError(pod, key, c.Name, a.Attempt, err.Error())
		return
	}
	argv, err := expandCommand(c, env)
	if err != nil {
		k.runtime.recordStartError(pod, key, c.Name, a.Attempt, startErrorMessage(c.Name, err))
		return
	}
	volumes := podVolumes{pod: pod, dir: podDir(k.opts.StateDir, pod), addr: addr, allocatable: allocatable, src: src}
	mounts, err := volumes.mountsFor(c)
	if err != nil {
		k.runtime.recordConfigError(pod, key, c.Name, a.Attempt, err.Error())
		return
	}
	k.runtime.start(pod, key, c, a.Attempt, argv, env.List(), mounts)
}

// baseEnv is what an image and the runtime would provide: the host's PATH (commands resolve on
// the host), HOME, HOSTNAME, and the API server's address where in-cluster clients look for it.
func (k *kubelet) baseEnv(pod *corev1.Pod) []envVar {
	hostname := pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	env := []envVar{
		{"PATH", hostSearchPath()},
		{"HOME", "/root"},
		{"HOSTNAME", hostname},
	}
	if k.apiServer != nil {
		if host, port, err := net.SplitHostPort(k.apiServer.Host); err == nil {
			env = append(env,
				envVar{"KUBERNETES_SERVICE_HOST", host},
				envVar{"KUBERNETES_SERVICE_PORT", port},
				envVar{"KUBERNETES_SERVICE_PORT_HTTPS", port},
			)
		}
	}
	return env
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		if i := slices.IndexFunc(list, func(c corev1.Container) bool { return c.Name == name }); i >= 0 {
			return &list[i]
		}
	}
	return nil
}

// writeStatus sends the status if it differs from the pod's; see statusMark.
func (k *kubelet) writeStatus(ctx context.Context, pod *corev1.Pod, status corev1.PodStatus) error {
	if equality.Semantic.DeepEqual(pod.Status, status) {
		return nil
	}
	wish := statusHash(status)
	k.mu.Lock()
	mark, seen := k.written[pod.UID]
	k.mu.Unlock()
	if seen && mark.resourceVersion == pod.ResourceVersion && mark.wish == wish {
		return nil
	}
	updated := pod.DeepCopy()
	updated.Status = status
	result, err := k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.written[pod.UID] = statusMark{resourceVersion: result.ResourceVersion, wish: wish}
	k.mu.Unlock()
	return nil
}

func statusHash(status corev1.PodStatus) [32]byte {
	data, _ := json.Marshal(status)
	return sha256.Sum256(data)
}

// deletePod removes the stopped pod's object: grace period 0, only if it is still the same pod.
func (k *kubelet) deletePod(ctx context.Context, pod *corev1.Pod) error {
	err := k.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting stopped pod: %w", err)
	}
	k.mu.Lock()
	k.finalized[pod.UID] = true
	k.mu.Unlock()
	return nil
}

func (k *kubelet) isFinalized(uid types.UID) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.finalized[uid]
}

// forget cleans up after the pod last synced under key unless it is still the one with uid
// (uid "" means the key no longer exists); it then tracks uid under key.
func (k *kubelet) forget(key string, uid types.UID) {
	k.mu.Lock()
	old, ok := k.tracked[key]
	if uid != "" {
		k.tracked[key] = uid
	} else {
		delete(k.tracked, key)
	}
	gone := ok && old != uid
	if gone {
		delete(k.written, old)
		delete(k.finalized, old)
	}
	k.mu.Unlock()
	if gone {
		k.runtime.forget(old)
		k.addresses.release(string(old))
	}
}

// hostSearchPath is the kubelet's own PATH, so `sh`, `python3` and coreutils resolve as on the host.
func hostSearchPath() string {
	if path := os.Getenv("PATH"); path != "" {
		return path
	}
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}
