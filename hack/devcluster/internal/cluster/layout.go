// Package cluster holds the decisions of the devcluster supervisor that need no Kubernetes code:
// where every file lives in the cluster directory, which ports the parts use, the command line of
// each part, the kubeconfigs and the state file. Keeping them free of I/O beyond small file
// writes lets `go test ./internal/...` check them in seconds instead of linking Kubernetes.
package cluster

import "path/filepath"

// Part names double as subcommands of the devcluster binary and as log file names.
const (
	PartEtcd              = "etcd"
	PartAPIServer         = "apiserver"
	PartControllerManager = "controller-manager"
	PartScheduler         = "scheduler"
	PartKubelet           = "kubelet"
)

// StartOrder is the order parts start in; they stop in reverse.
var StartOrder = []string{PartEtcd, PartAPIServer, PartControllerManager, PartScheduler, PartKubelet}

// Layout names every path inside the cluster directory, so no other code joins paths by hand.
type Layout struct {
	Dir string
}

func (l Layout) path(parts ...string) string {
	return filepath.Join(append([]string{l.Dir}, parts...)...)
}

// AdminKubeconfig is the kubeconfig handed to users and tests.
func (l Layout) AdminKubeconfig() string { return l.path("kubeconfig") }

// StateFile records pids, ports and phase for `status` and `down`.
func (l Layout) StateFile() string { return l.path("state.json") }

// ReadyFile exists only while every part is up and healthy.
func (l Layout) ReadyFile() string { return l.path("ready") }

// LogsDir holds one log per part plus the supervisor's own.
func (l Layout) LogsDir() string { return l.path("logs") }

// LogFile is the log of one part.
func (l Layout) LogFile(part string) string { return l.path("logs", part+".log") }

// EtcdDataDir is the embedded etcd's data directory.
func (l Layout) EtcdDataDir() string { return l.path("etcd") }

// PKIDir holds the CA, serving certificate, service-account keys and the token file.
func (l Layout) PKIDir() string { return l.path("pki") }

// CACert is the cluster CA certificate.
func (l Layout) CACert() string { return l.path("pki", "ca.crt") }

// CAKey is the cluster CA private key.
func (l Layout) CAKey() string { return l.path("pki", "ca.key") }

// ServingCert is the kube-apiserver serving certificate.
func (l Layout) ServingCert() string { return l.path("pki", "apiserver.crt") }

// ServingKey is the kube-apiserver serving key.
func (l Layout) ServingKey() string { return l.path("pki", "apiserver.key") }

// ServiceAccountKey signs service-account tokens.
func (l Layout) ServiceAccountKey() string { return l.path("pki", "sa.key") }

// ServiceAccountPub verifies service-account tokens.
func (l Layout) ServiceAccountPub() string { return l.path("pki", "sa.pub") }

// KubeletClientCert is the client certificate kube-apiserver presents to kubelets (logs, exec).
func (l Layout) KubeletClientCert() string { return l.path("pki", "apiserver-kubelet-client.crt") }

// KubeletClientKey is the key of KubeletClientCert.
func (l Layout) KubeletClientKey() string { return l.path("pki", "apiserver-kubelet-client.key") }

// TokenFile is kube-apiserver's --token-auth-file.
func (l Layout) TokenFile() string { return l.path("pki", "tokens.csv") }

// ComponentCertDir is where kube-controller-manager and kube-scheduler keep their self-signed
// serving certificates (they would otherwise write them relative to the working directory).
func (l Layout) ComponentCertDir(part string) string { return l.path("pki", part) }

// ComponentKubeconfig is the kubeconfig one control-plane part uses to reach the API server.
func (l Layout) ComponentKubeconfig(part string) string {
	return l.path("kubeconfigs", part+".kubeconfig")
}

// KubeletStateDir is the fake kubelet's own directory (process sandboxes, logs of Job pods).
func (l Layout) KubeletStateDir() string { return l.path("kubelet") }
