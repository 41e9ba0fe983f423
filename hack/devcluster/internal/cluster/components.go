package cluster

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Options are the user's choices for one cluster.
type Options struct {
	Nodes          int
	NodeNamePrefix string
	// DenyImages is a regular expression; pods whose image matches fail to pull. Empty: none.
	DenyImages string
}

// ServiceClusterIPRange is the virtual IP range of Services; its first address is the
// `kubernetes` Service and therefore a SAN of the serving certificate.
const ServiceClusterIPRange = "10.96.0.0/16"

// KubernetesServiceIP is the first address of ServiceClusterIPRange.
const KubernetesServiceIP = "10.96.0.1"

// ServiceAccountIssuer is the issuer of service-account tokens, the in-cluster name of the API.
const ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// Controllers are the kube-controller-manager loops the devcluster runs: the ones the issue names
// plus the ones they rely on in a real cluster (node lifecycle to lift the not-ready taint that
// admission puts on every new node, root CA publishing for service-account volumes, ClusterRole
// aggregation for admin/edit/view, Service CIDR bookkeeping, pod GC for pods on deleted nodes,
// Job TTL cleanup, and the HPA so replica-count fights can be reproduced). Taint-based eviction
// stays off: a paused kubelet should not have its pods evicted under a test.
var Controllers = []string{
	"replicaset-controller",
	"deployment-controller",
	"job-controller",
	"ttl-after-finished-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"endpoints-controller",
	"endpointslice-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller",
	"clusterrole-aggregation-controller",
	"service-cidr-controller",
	"pod-garbage-collector-controller",
	"node-lifecycle-controller",
	"horizontal-pod-autoscaler-controller",
}

// Command is one part's subcommand and arguments, as passed to the devcluster binary itself.
type Command struct {
	Part string
	Args []string
}

func hostPort(port int) string {
	return Loopback + ":" + strconv.Itoa(port)
}

// APIServerURL is the https address clients use.
func APIServerURL(p Ports) string { return "https://" + hostPort(p.APIServer) }

// EtcdClientURL is the plain-http address kube-apiserver stores through.
func EtcdClientURL(p Ports) string { return "http://" + hostPort(p.EtcdClient) }

// EtcdPeerURL is etcd's peer address; a single member still needs one.
func EtcdPeerURL(p Ports) string { return "http://" + hostPort(p.EtcdPeer) }

// HealthURL is what the supervisor polls to decide a part is up; empty when the part has no
// endpoint of its own (the kubelet's health shows as Ready nodes, which the driver checks).
func HealthURL(part string, p Ports) string {
	switch part {
	case PartEtcd:
		return EtcdClientURL(p) + "/health"
	case PartAPIServer:
		return APIServerURL(p) + "/readyz"
	case PartControllerManager:
		return "https://" + hostPort(p.ControllerManager) + "/healthz"
	case PartScheduler:
		return "https://" + hostPort(p.Scheduler) + "/healthz"
	}
	return ""
}

// Commands returns every part's command line in StartOrder.
func Commands(l Layout, p Ports, o Options) []Command {
	return []Command{
		{PartEtcd, etcdArgs(l, p)},
		{PartAPIServer, apiServerArgs(l, p)},
		{PartControllerManager, controllerManagerArgs(l, p)},
		{PartScheduler, schedulerArgs(l, p)},
		{PartKubelet, kubeletArgs(l, o)},
	}
}

func etcdArgs(l Layout, p Ports) []string {
	return []string{
		"--data-dir=" + l.EtcdDataDir(),
		"--client-url=" + EtcdClientURL(p),
		"--peer-url=" + EtcdPeerURL(p),
	}
}

func apiServerArgs(l Layout, p Ports) []string {
	return []string{
		"--etcd-servers=" + EtcdClientURL(p),
		"--bind-address=" + Loopback,
		"--advertise-address=" + Loopback,
		"--secure-port=" + strconv.Itoa(p.APIServer),
		"--cert-dir=" + l.PKIDir(),
		"--tls-cert-file=" + l.ServingCert(),
		"--tls-private-key-file=" + l.ServingKey(),
		"--client-ca-file=" + l.CACert(),
		"--token-auth-file=" + l.TokenFile(),
		// Front-proxy settings published in kube-system/extension-apiserver-authentication; the
		// controller manager and scheduler read them for delegated authentication and log
		// errors forever when they are missing. No front proxy holds a certificate for the name.
		"--requestheader-client-ca-file=" + l.CACert(),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=" + ServiceAccountIssuer,
		"--service-account-key-file=" + l.ServiceAccountPub(),
		"--service-account-signing-key-file=" + l.ServiceAccountKey(),
		"--service-cluster-ip-range=" + ServiceClusterIPRange,
		// Endpoints may not hold loopback addresses, and nothing inside the cluster dials the
		// API through the `kubernetes` Service, so do not publish its endpoints at all.
		"--endpoint-reconciler-type=none",
		// `kubectl logs` reaches the fake kubelet's log server at the node's InternalIP; the API
		// server authenticates with this certificate and, as upstream without
		// --kubelet-certificate-authority, does not verify the kubelet's own.
		"--kubelet-client-certificate=" + l.KubeletClientCert(),
		"--kubelet-client-key=" + l.KubeletClientKey(),
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--allow-privileged=true",
		"--profiling=false",
	}
}

// componentArgs are the flags kube-controller-manager and kube-scheduler share: their own
// identity, delegated authn/authz through the API server, loopback serving, no leader election.
func componentArgs(l Layout, part string, port int) []string {
	kubeconfig := l.ComponentKubeconfig(part)
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=" + Loopback,
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + l.ComponentCertDir(part),
		"--leader-elect=false",
		"--profiling=false",
	}
}

func controllerManagerArgs(l Layout, p Ports) []string {
	return append(componentArgs(l, PartControllerManager, p.ControllerManager),
		"--controllers="+strings.Join(Controllers, ","),
		// Each controller acts as its own service account, bound by the bootstrap RBAC roles,
		// exactly as kubeadm clusters run it; the manager's own identity may do little.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+l.ServiceAccountKey(),
		"--root-ca-file="+l.CACert(),
	)
}

func schedulerArgs(l Layout, p Ports) []string {
	return componentArgs(l, PartScheduler, p.Scheduler)
}

func kubeletArgs(l Layout, o Options) []string {
	return []string{
		"--kubeconfig=" + l.ComponentKubeconfig(PartKubelet),
		"--nodes=" + strconv.Itoa(o.Nodes),
		"--node-name-prefix=" + o.NodeNamePrefix,
		"--state-dir=" + l.KubeletStateDir(),
		"--deny-images=" + o.DenyImages,
	}
}

// Validate rejects options no cluster can be built from.
func (o Options) Validate() error {
	if o.Nodes < 1 {
		return fmt.Errorf("--nodes must be at least 1, got %d", o.Nodes)
	}
	if o.NodeNamePrefix == "" {
		return fmt.Errorf("--node-name-prefix must not be empty")
	}
	if _, err := regexp.Compile(o.DenyImages); err != nil {
		return fmt.Errorf("--deny-images is not a valid regular expression: %w", err)
	}
	return nil
}
