package kubelet

// Pod and node addresses. Every node owns a /22 of 10.244.0.0/16 (node i: 10.244.4i.0/22, 1021
// usable pod addresses), so pod IPs are unique across the cluster without coordination and a
// pod's IP tells which node it runs on, as with the usual host-local IPAM. Addresses are handed
// out round-robin rather than lowest-free, so a deleted pod's IP is not reused at once: a stale
// Endpoints entry then cannot point at a new pod. The pool is rebuilt from pod statuses when the
// kubelet restarts (adopt), so restarts never hand out an address that is still in use.
//
// Nodes themselves get consecutive loopback addresses (127.0.1.1, 127.0.1.2, ...): the API
// server must be able to reach a node's address for `kubectl logs`, and the whole of 127/8 is
// routed to the loopback interface on Linux without any host configuration.

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
)

// nodePodCIDR is the pod range of the node with the given index.
func nodePodCIDR(index int) string {
	return fmt.Sprintf("10.244.%d.0/22", index*4)
}

// nodeAddress is the InternalIP of the node with the given index.
func nodeAddress(base string, index int) (string, error) {
	ip := net.ParseIP(base).To4()
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("node address base %q must be an IPv4 loopback address", base)
	}
	n := binary.BigEndian.Uint32(ip) + uint32(index)
	out := make(net.IP, 4)
	binary.BigEndian.PutUint32(out, n)
	if !out.IsLoopback() {
		return "", fmt.Errorf("node %d's address %s is outside 127.0.0.0/8 (base %s)", index, out, base)
	}
	return out.String(), nil
}

// ipPool hands out the pod addresses of one node.
type ipPool struct {
	network *net.IPNet
	byUID   map[string]string // pod UID -> IP
	inUse   map[string]string // IP -> pod UID
	last    uint32            // offset of the last address handed out
}

func newIPPool(cidr string) (*ipPool, error) {
	_, network, err := net.ParseCIDR(cidr)
	if err != nil || network.IP.To4() == nil {
		return nil, fmt.Errorf("pod CIDR %q is not an IPv4 network", cidr)
	}
	ones, bits := network.Mask.Size()
	if bits-ones < 2 {
		return nil, fmt.Errorf("pod CIDR %q is too small", cidr)
	}
	return &ipPool{network: network, byUID: map[string]string{}, inUse: map[string]string{}}, nil
}

// size is the number of offsets in the network; offsets 0 (network) and size-1 (broadcast) and
// 1 (by convention the node's bridge/gateway) are never handed out.
func (p *ipPool) size() uint32 {
	ones, bits := p.network.Mask.Size()
	return 1 << uint(bits-ones)
}

func (p *ipPool) addressAt(offset uint32) string {
	out := make(net.IP, 4)
	binary.BigEndian.PutUint32(out, binary.BigEndian.Uint32(p.network.IP.To4())+offset)
	return out.String()
}

// adopt records an address a pod already has (from its status), so it is not handed out again.
// It reports false when the address is outside this pool or held by another pod.
func (p *ipPool) adopt(uid, ip string) bool {
	parsed := net.ParseIP(ip)
	if parsed == nil || !p.network.Contains(parsed) {
		return false
	}
	if holder, ok := p.inUse[ip]; ok && holder != uid {
		return false
	}
	if old, ok := p.byUID[uid]; ok && old != ip {
		delete(p.inUse, old)
	}
	p.byUID[uid] = ip
	p.inUse[ip] = uid
	return true
}

// assign returns the pod's address, allocating the next free one after the last handed out.
func (p *ipPool) assign(uid string) (string, error) {
	if ip, ok := p.byUID[uid]; ok {
		return ip, nil
	}
	size := p.size()
	for step := uint32(1); step < size; step++ {
		offset := (p.last + step) % size
		if offset < 2 || offset == size-1 {
			continue
		}
		ip := p.addressAt(offset)
		if _, taken := p.inUse[ip]; taken {
			continue
		}
		p.last = offset
		p.byUID[uid] = ip
		p.inUse[ip] = uid
		return ip, nil
	}
	return "", fmt.Errorf("no free pod address left in %s (%d pods hold one)", p.network, len(p.byUID))
}

// release frees the pod's address, if it has one.
func (p *ipPool) release(uid string) {
	if ip, ok := p.byUID[uid]; ok {
		delete(p.byUID, uid)
		delete(p.inUse, ip)
	}
}

// podAddresses is the set of pools of all nodes, safe for concurrent pod syncs.
type podAddresses struct {
	mu     sync.Mutex
	pools  map[string]*ipPool // node name -> pool
	owners map[string]string  // pod UID -> node name
}

func newPodAddresses() *podAddresses {
	return &podAddresses{pools: map[string]*ipPool{}, owners: map[string]string{}}
}

func (a *podAddresses) addNode(node, cidr string) error {
	pool, err := newIPPool(cidr)
	if err != nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pools[node] = pool
	return nil
}

// ensure returns the pod's address on node: the one in its status if still valid, else a new one.
func (a *podAddresses) ensure(node, uid, current string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pool, ok := a.pools[node]
	if !ok {
		return "", fmt.Errorf("node %s is not one of this kubelet's nodes", node)
	}
	if current != "" && pool.adopt(uid, current) {
		a.owners[uid] = node
		return current, nil
	}
	ip, err := pool.assign(uid)
	if err == nil {
		a.owners[uid] = node
	}
	return ip, err
}

func (a *podAddresses) release(uid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if node, ok := a.owners[uid]; ok {
		a.pools[node].release(uid)
		delete(a.owners, uid)
	}
}
