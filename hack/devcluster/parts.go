package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format, as upstream mains do
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream mains do
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric, as upstream mains do
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

// runAPIServer is upstream kube-apiserver's main with our arguments.
func runAPIServer(args []string) error {
	command := apiserver.NewAPIServerCommand()
	command.SetArgs(args)
	return exitCode(cli.Run(command))
}

// runControllerManager is upstream kube-controller-manager's main with our arguments.
func runControllerManager(args []string) error {
	command := controllermanager.NewControllerManagerCommand()
	command.SetArgs(args)
	return exitCode(cli.Run(command))
}

// runScheduler is upstream kube-scheduler's main with our arguments.
func runScheduler(args []string) error {
	command := scheduler.NewSchedulerCommand()
	command.SetArgs(args)
	return exitCode(cli.Run(command))
}

func exitCode(code int) error {
	if code != 0 {
		return fmt.Errorf("exit code %d", code)
	}
	return nil
}

// runEtcd runs a single-member embedded etcd until SIGTERM or an etcd error.
func runEtcd(args []string) error {
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "data directory")
	clientURL := fs.String("client-url", "", "client URL (http://127.0.0.1:PORT)")
	peerURL := fs.String("peer-url", "", "peer URL (http://127.0.0.1:PORT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client, err := url.Parse(*clientURL)
	if err != nil {
		return fmt.Errorf("--client-url: %w", err)
	}
	peer, err := url.Parse(*peerURL)
	if err != nil {
		return fmt.Errorf("--peer-url: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = "devcluster"
	cfg.Dir = *dataDir
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*client}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogOutputs = []string{"stderr"}
	// A throwaway cluster trades durability for speed: without fsync, etcd stays fast on the
	// slow shared disks of CI machines.
	cfg.UnsafeNoFsync = true
	server, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer server.Close()
	select {
	case <-server.Server.ReadyNotify():
	case <-time.After(time.Minute):
		return errors.New("etcd did not become ready within a minute")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	select {
	case <-ctx.Done():
		return nil
	case err := <-server.Err():
		return err
	}
}
