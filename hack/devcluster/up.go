package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rollouts/rollouts/hack/devcluster/internal/cluster"
	"github.com/rollouts/rollouts/hack/devcluster/internal/pki"
	"github.com/rollouts/rollouts/hack/devcluster/internal/supervisor"
)

// runUp is the supervisor: prepare DIR, then run every part until a signal or a failure.
func runUp(args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := fs.String("dir", "", "cluster directory (required): state, logs, kubeconfig, etcd data")
	nodes := fs.Int("nodes", 3, "number of fake nodes")
	apiserverPort := fs.Int("apiserver-port", 0, "API server port on 127.0.0.1; 0 picks a free one")
	nodePrefix := fs.String("node-name-prefix", "devcluster-node-", "node names are this prefix plus an index")
	denyImages := fs.String("deny-images", "", "regular expression; pods whose image matches fail with ErrImagePull")
	startTimeout := fs.Duration("start-timeout", 3*time.Minute, "how long each part may take to become healthy")
	stopGrace := fs.Duration("stop-grace", 20*time.Second, "how long each part may take to exit after SIGTERM")
	ownerPid := fs.Int("owner-pid", 0, "stop the cluster when this process is gone (e.g. a test run); 0: none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("--dir is required")
	}
	options := cluster.Options{Nodes: *nodes, NodeNamePrefix: *nodePrefix, DenyImages: *denyImages}
	if err := options.Validate(); err != nil {
		return err
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	layout := cluster.Layout{Dir: absDir}
	if err := refuseIfRunning(layout); err != nil {
		return err
	}
	ports, err := cluster.AllocatePorts(*apiserverPort)
	if err != nil {
		return err
	}
	if err := prepare(layout, ports); err != nil {
		return err
	}
	caPEM, err := os.ReadFile(layout.CACert())
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *ownerPid > 0 {
		ctx = stopWithOwner(ctx, *ownerPid)
	}
	return supervisor.Run(ctx, supervisor.Spec{
		Self:         self,
		Layout:       layout,
		Ports:        ports,
		Options:      options,
		Versions:     buildVersions(),
		CAPEM:        caPEM,
		StartTimeout: *startTimeout,
		StopGrace:    *stopGrace,
		Log:          os.Stdout,
	})
}

// stopWithOwner cancels the context once the owner process is gone, so a test run that is killed
// before its teardown does not leave its cluster behind.
func stopWithOwner(ctx context.Context, owner int) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
				if processGone(owner) {
					fmt.Printf("%s devcluster: owner process %d is gone; stopping\n", time.Now().Format("15:04:05.000"), owner)
					return
				}
			}
		}
	}()
	return ctx
}

// processGone is true once pid has exited, including as a zombie nobody reaps.
func processGone(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] == "Z" || fields[0] == "X"
}

// refuseIfRunning keeps a second supervisor from wiping the data of a live cluster.
func refuseIfRunning(layout cluster.Layout) error {
	state, err := cluster.ReadState(layout.StateFile())
	if err != nil {
		return nil // no state (or an unreadable one): nothing is known to run here
	}
	if state.SupervisorPid > 0 && supervisorAlive(state.SupervisorPid) {
		return fmt.Errorf("a devcluster is already running in %s (supervisor pid %d); stop it first",
			layout.Dir, state.SupervisorPid)
	}
	return nil
}

// supervisorAlive tells a live supervisor from a recycled pid by its command line.
func supervisorAlive(pid int) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	argv := strings.Split(string(cmdline), "\x00")
	return len(argv) > 1 && strings.Contains(filepath.Base(argv[0]), "devcluster") && argv[1] == "up"
}

// prepare lays out DIR for a fresh cluster: etcd and kubelet state from an earlier run are
// removed (a restarted fake kubelet could not adopt pods whose processes are gone), while the
// PKI and tokens are kept so kubeconfigs handed out earlier stay valid once the port matches.
func prepare(layout cluster.Layout, ports cluster.Ports) error {
	for _, stale := range []string{layout.EtcdDataDir(), layout.KubeletStateDir()} {
		if err := os.RemoveAll(stale); err != nil {
			return err
		}
	}
	for _, d := range []string{
		layout.Dir, layout.LogsDir(), layout.PKIDir(), layout.KubeletStateDir(),
		filepath.Dir(layout.ComponentKubeconfig(cluster.AdminPart)),
		layout.ComponentCertDir(cluster.PartControllerManager), layout.ComponentCertDir(cluster.PartScheduler),
	} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	err := pki.Ensure(pki.Paths{
		CACert: layout.CACert(), CAKey: layout.CAKey(),
		ServingCert: layout.ServingCert(), ServingKey: layout.ServingKey(),
		ServiceAccountKey: layout.ServiceAccountKey(), ServiceAccountPub: layout.ServiceAccountPub(),
		KubeletClientCert: layout.KubeletClientCert(), KubeletClientKey: layout.KubeletClientKey(),
	}, pki.Names{
		DNS: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPs: []net.IP{net.ParseIP(cluster.Loopback), net.ParseIP(cluster.KubernetesServiceIP)},
	}, time.Now())
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	tokens, err := cluster.LoadOrCreateTokens(layout.TokenFile())
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	caPEM, err := os.ReadFile(layout.CACert())
	if err != nil {
		return err
	}
	server := cluster.APIServerURL(ports)
	for _, id := range cluster.Identities {
		path := layout.ComponentKubeconfig(id.Part)
		if id.Part == cluster.AdminPart {
			path = layout.AdminKubeconfig()
		}
		text := cluster.RenderKubeconfig(server, caPEM, id.User, tokens[id.Part])
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return err
		}
	}
	return nil
}
