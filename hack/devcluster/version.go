package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/rollouts/rollouts/hack/devcluster/internal/cluster"
)

// Module paths whose versions the binary reports.
const (
	kubernetesModule = "k8s.io/kubernetes"
	etcdModule       = "go.etcd.io/etcd/server/v3"
)

// buildVersions reads the pinned versions from the module information Go embeds in the binary,
// so the report can never drift from what was really compiled in.
func buildVersions() cluster.Versions {
	v := cluster.Versions{Kubernetes: "unknown", Etcd: "unknown", Go: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = info.GoVersion
	for _, dep := range info.Deps {
		switch dep.Path {
		case kubernetesModule:
			v.Kubernetes = dep.Version
		case etcdModule:
			v.Etcd = dep.Version
		}
	}
	return v
}

func runVersion(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments")
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(buildVersions())
}
