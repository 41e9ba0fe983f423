// Command devcluster runs a real Kubernetes control plane on loopback for tests and demos.
//
// It is a multi-call binary. `devcluster up --dir DIR` is the supervisor: it prepares DIR
// (certificates, tokens, kubeconfigs) and re-executes itself once per part, with the part's name
// as subcommand (etcd, apiserver, controller-manager, scheduler, kubelet). `devcluster version`
// prints the pinned Kubernetes and etcd versions. See docs/devcluster.md.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/rollouts/rollouts/hack/devcluster/internal/cluster"
)

// parts maps each subcommand to its runner; the runner receives the arguments after the name.
var parts = map[string]func(args []string) error{
	"up":                          runUp,
	"version":                     runVersion,
	cluster.PartEtcd:              runEtcd,
	cluster.PartAPIServer:         runAPIServer,
	cluster.PartControllerManager: runControllerManager,
	cluster.PartScheduler:         runScheduler,
	cluster.PartKubelet:           runKubelet,
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	run, ok := parts[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "devcluster: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if os.Args[1] != "up" && os.Args[1] != "version" {
		exitWithParent()
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "devcluster %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	names := make([]string, 0, len(parts))
	for name := range parts {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: devcluster {%s} [flags]\n", strings.Join(names, "|"))
}
