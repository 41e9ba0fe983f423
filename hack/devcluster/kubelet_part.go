package main

import (
	"context"
	"flag"
	"os/signal"
	"syscall"

	"github.com/rollouts/rollouts/hack/devcluster/kubelet"
)

// runKubelet runs the fake kubelet (package kubelet) for all nodes until SIGTERM.
func runKubelet(args []string) error {
	fs := flag.NewFlagSet("kubelet", flag.ContinueOnError)
	var opts kubelet.Options
	fs.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig of the kubelet's identity")
	fs.IntVar(&opts.Nodes, "nodes", kubelet.DefaultNodes, "number of fake nodes")
	fs.StringVar(&opts.NodeNamePrefix, "node-name-prefix", kubelet.DefaultNodeNamePrefix, "node name prefix")
	fs.StringVar(&opts.StateDir, "state-dir", "", "directory for container logs and scratch space")
	fs.StringVar(&opts.DenyImagePattern, "deny-images", "", "regular expression of images that fail to pull")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return kubelet.Run(ctx, opts)
}
