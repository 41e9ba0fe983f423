package kubelet

import (
	"fmt"
	"net"
	"testing"
)

func TestNodeRangesAreDisjointAndAddressesOnLoopback(t *testing.T) {
	var networks []*net.IPNet
	for i := 0; i < maxNodes; i++ {
		_, n, err := net.ParseCIDR(nodePodCIDR(i))
		if err != nil {
			t.Fatal(err)
		}
		for j, other := range networks {
			if other.Contains(n.IP) || n.Contains(other.IP) {
				t.Fatalf("node %d's range %s overlaps node %d's %s", i, n, j, other)
			}
		}
		networks = append(networks, n)
	}
	if a, _ := nodeAddress("127.0.1.1", 2); a != "127.0.1.3" {
		t.Fatalf("node 2 address = %s", a)
	}
	if _, err := nodeAddress("10.0.0.1", 0); err == nil {
		t.Fatalf("a non-loopback base must be rejected")
	}
	if _, err := nodeAddress("127.255.255.250", 10); err == nil {
		t.Fatalf("addresses past 127/8 must be rejected")
	}
}

func TestPoolHandsOutUniqueAddressesRoundRobin(t *testing.T) {
	pool, err := newIPPool("10.244.4.0/22")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := 0; i < 1021; i++ {
		ip, err := pool.assign(fmt.Sprint("pod-", i))
		if err != nil {
			t.Fatalf("assignment %d: %v", i, err)
		}
		if seen[ip] || ip == "10.244.4.0" || ip == "10.244.4.1" || ip == "10.244.7.255" {
			t.Fatalf("address %s handed out twice or reserved", ip)
		}
		seen[ip] = true
	}
	if _, err := pool.assign("one-too-many"); err == nil {
		t.Fatalf("a full pool must say so")
	}
	again, _ := pool.assign("pod-7")
	if again != "10.244.4.9" {
		t.Fatalf("assign is stable per pod, got %s", again)
	}
	pool.release("pod-7")
	ip, err := pool.assign("newcomer")
	if err != nil || ip != "10.244.4.9" {
		t.Fatalf("the only free address is the released one: %s %v", ip, err)
	}
}

func TestReleasedAddressesAreNotReusedAtOnce(t *testing.T) {
	pool, _ := newIPPool("10.244.0.0/22")
	first, _ := pool.assign("a")
	pool.release("a")
	second, _ := pool.assign("b")
	if first == second {
		t.Fatalf("round-robin must not hand %s out again right away", first)
	}
}

func TestAdoptionKeepsExistingAddresses(t *testing.T) {
	addrs := newPodAddresses()
	if err := addrs.addNode("n0", "10.244.0.0/22"); err != nil {
		t.Fatal(err)
	}
	if ip, _ := addrs.ensure("n0", "old", "10.244.0.2"); ip != "10.244.0.2" {
		t.Fatalf("existing address not kept: %s", ip)
	}
	ip, _ := addrs.ensure("n0", "new", "")
	if ip == "10.244.0.2" {
		t.Fatalf("an adopted address was handed out again")
	}
	if ip, _ := addrs.ensure("n0", "intruder", "10.244.0.2"); ip == "10.244.0.2" {
		t.Fatalf("two pods got the same address")
	}
	if ip, _ := addrs.ensure("n0", "foreign", "192.168.0.1"); ip == "192.168.0.1" {
		t.Fatalf("an address outside the node's range must be replaced")
	}
	if _, err := addrs.ensure("nope", "x", ""); err == nil {
		t.Fatalf("unknown nodes are an error")
	}
	addrs.release("old")
	addrs.release("never-seen") // no-op
}
