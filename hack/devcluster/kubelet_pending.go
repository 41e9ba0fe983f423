package main

import (
	"context"
	"os/signal"
	"syscall"
)

// TEMPORARY until the fake kubelet package lands: the kubelet part only waits for SIGTERM, so
// the control plane can be exercised without nodes. Replaced by the real wiring.
func runKubelet(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	return nil
}
