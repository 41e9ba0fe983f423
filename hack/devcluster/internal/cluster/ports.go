package cluster

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// Loopback is the only address any part listens on.
const Loopback = "127.0.0.1"

// Ports are the TCP ports of every listening part, all on Loopback.
type Ports struct {
	EtcdClient        int `json:"etcdClient"`
	EtcdPeer          int `json:"etcdPeer"`
	APIServer         int `json:"apiserver"`
	ControllerManager int `json:"controllerManager"`
	Scheduler         int `json:"scheduler"`
}

// PortInUseError says which explicitly requested port cannot be used, so the user can pick another.
type PortInUseError struct {
	Port int
	What string
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %d on %s requested for the %s is already in use; "+
		"pick another port or pass 0 to choose a free one", e.Port, Loopback, e.What)
}

// AllocatePorts picks the ports. A requested port of 0 means "any free port"; a non-zero
// requested port must be free or a PortInUseError names it. All listeners stay open until every
// port is chosen so two parts never get the same free port; the ports are released on return,
// which leaves a short window in which another program could take one (the part would then fail
// to start and the supervisor reports its log).
func AllocatePorts(requestedAPIServer int) (Ports, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	take := func(port int, what string) (int, error) {
		l, err := net.Listen("tcp", net.JoinHostPort(Loopback, strconv.Itoa(port)))
		if err != nil {
			if port != 0 && errors.Is(err, syscall.EADDRINUSE) {
				return 0, &PortInUseError{Port: port, What: what}
			}
			return 0, fmt.Errorf("cannot listen on %s port %d for the %s: %w", Loopback, port, what, err)
		}
		listeners = append(listeners, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	var p Ports
	var err error
	if p.APIServer, err = take(requestedAPIServer, "API server"); err != nil {
		return Ports{}, err
	}
	if p.EtcdClient, err = take(0, "etcd client"); err != nil {
		return Ports{}, err
	}
	if p.EtcdPeer, err = take(0, "etcd peer"); err != nil {
		return Ports{}, err
	}
	if p.ControllerManager, err = take(0, "controller manager"); err != nil {
		return Ports{}, err
	}
	if p.Scheduler, err = take(0, "scheduler"); err != nil {
		return Ports{}, err
	}
	return p, nil
}
