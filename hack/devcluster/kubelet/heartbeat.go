package kubelet

// Node registration and heartbeats: each node's Lease is renewed every LeaseRenewInterval and its
// conditions' heartbeat every NodeStatusInterval, as a real kubelet does since node leases exist.
// A node or Lease deleted by someone is recreated at the next beat, so the cluster heals.

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// registerNodes creates or refreshes every node and its Lease; it fails only if the API server
// cannot be reached at all.
func (k *kubelet) registerNodes(ctx context.Context) error {
	for _, id := range k.nodes {
		node, err := k.ensureNode(ctx, id)
		if err != nil {
			return fmt.Errorf("registering node %s: %w", id.Name, err)
		}
		// A pod CIDR already set on an existing node (by an earlier run) wins, as it cannot change.
		if node.Spec.PodCIDR != "" {
			id.PodCIDR = node.Spec.PodCIDR
		}
		if err := k.addresses.addNode(id.Name, id.PodCIDR); err != nil {
			return err
		}
		if err := k.renewLease(ctx, node); err != nil {
			return fmt.Errorf("creating the lease of node %s: %w", id.Name, err)
		}
	}
	return nil
}

// ensureNode creates the node, or refreshes its status if it exists.
func (k *kubelet) ensureNode(ctx context.Context, id *nodeIdentity) (*corev1.Node, error) {
	nodes := k.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		// Admission taints a new node not-ready; the refresh below lifts that at once.
		node, err = nodes.Create(ctx, newNode(*id, k.now()), metav1.CreateOptions{})
	}
	if err != nil {
		return nil, err
	}
	node.Status = nodeStatus(node.Status, *id, k.now())
	node, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	if taints, lifted := liftConditionTaints(node.Spec.Taints); lifted {
		node.Spec.Taints = taints
		return nodes.Update(ctx, node, metav1.UpdateOptions{})
	}
	return node, nil
}

func (k *kubelet) renewLease(ctx context.Context, node *corev1.Node) error {
	leases := k.client.CoordinationV1().Leases(nodeLeaseNamespace)
	lease, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, newLease(node, k.now()), metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	renewLease(lease, k.now())
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// heartbeat renews leases and node statuses until ctx ends; failures are logged and retried at
// the next beat.
func (k *kubelet) heartbeat(ctx context.Context) {
	leaseTicker := time.NewTicker(k.opts.LeaseRenewInterval)
	defer leaseTicker.Stop()
	statusTicker := time.NewTicker(k.opts.NodeStatusInterval)
	defer statusTicker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-leaseTicker.C:
			for _, id := range k.nodes {
				node, err := k.client.CoreV1().Nodes().Get(ctx, id.Name, metav1.GetOptions{})
				if apierrors.IsNotFound(err) {
					node, err = k.ensureNode(ctx, id)
				}
				if err == nil {
					err = k.renewLease(ctx, node)
				}
				if err != nil && ctx.Err() == nil {
					k.logf("heartbeat of node %s: %v", id.Name, err)
				}
			}
		case <-statusTicker.C:
			for _, id := range k.nodes {
				if _, err := k.ensureNode(ctx, id); err != nil && ctx.Err() == nil {
					k.logf("status of node %s: %v", id.Name, err)
				}
			}
		}
	}
}
