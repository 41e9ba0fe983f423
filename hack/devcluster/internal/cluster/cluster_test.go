package cluster

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestAllocatePortsPicksDistinctFreePorts(t *testing.T) {
	p, err := AllocatePorts(0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, port := range []int{p.APIServer, p.EtcdClient, p.EtcdPeer, p.ControllerManager, p.Scheduler} {
		if port <= 0 || seen[port] {
			t.Fatalf("bad or repeated port %d in %+v", port, p)
		}
		seen[port] = true
	}
}

func TestAllocatePortsNamesTakenRequestedPort(t *testing.T) {
	l, err := net.Listen("tcp", Loopback+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	_, err = AllocatePorts(taken)
	var inUse *PortInUseError
	if !errors.As(err, &inUse) || inUse.Port != taken {
		t.Fatalf("want PortInUseError for %d, got %v", taken, err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(taken)) {
		t.Fatalf("message does not name the port: %v", err)
	}
}

func TestCommandsFollowStartOrderAndUseThePorts(t *testing.T) {
	l := Layout{Dir: "/c"}
	p := Ports{EtcdClient: 1001, EtcdPeer: 1002, APIServer: 1003, ControllerManager: 1004, Scheduler: 1005}
	commands := Commands(l, p, Options{Nodes: 2, NodeNamePrefix: "n-", DenyImages: "bad"})
	for i, c := range commands {
		if c.Part != StartOrder[i] {
			t.Fatalf("command %d is %s, want %s", i, c.Part, StartOrder[i])
		}
	}
	joined := func(part string) string {
		for _, c := range commands {
			if c.Part == part {
				return strings.Join(c.Args, " ")
			}
		}
		t.Fatalf("no %s", part)
		return ""
	}
	for part, want := range map[string][]string{
		PartEtcd:              {"--client-url=http://127.0.0.1:1001", "--peer-url=http://127.0.0.1:1002", "--data-dir=/c/etcd"},
		PartAPIServer:         {"--secure-port=1003", "--etcd-servers=http://127.0.0.1:1001", "--authorization-mode=Node,RBAC", "--token-auth-file=/c/pki/tokens.csv"},
		PartControllerManager: {"--secure-port=1004", "--leader-elect=false", "replicaset-controller", "garbage-collector-controller"},
		PartScheduler:         {"--secure-port=1005", "--leader-elect=false", "--kubeconfig=/c/kubeconfigs/scheduler.kubeconfig"},
		PartKubelet:           {"--nodes=2", "--node-name-prefix=n-", "--deny-images=bad", "--state-dir=/c/kubelet"},
	} {
		args := joined(part)
		for _, w := range want {
			if !strings.Contains(args, w) {
				t.Errorf("%s args lack %q: %s", part, w, args)
			}
		}
	}
	if HealthURL(PartAPIServer, p) != "https://127.0.0.1:1003/readyz" || HealthURL(PartKubelet, p) != "" {
		t.Errorf("unexpected health URLs")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, bad := range []Options{
		{Nodes: 0, NodeNamePrefix: "n"},
		{Nodes: 1, NodeNamePrefix: ""},
		{Nodes: 1, NodeNamePrefix: "n", DenyImages: "("},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := (Options{Nodes: 3, NodeNamePrefix: "n", DenyImages: "^bad/"}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestTokenFileRoundTrip(t *testing.T) {
	tokens, err := NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	text := RenderTokenFile(tokens)
	if !strings.Contains(text, `,devcluster-admin,devcluster-admin,system:masters`) {
		t.Fatalf("admin line missing: %s", text)
	}
	back, err := ParseTokenFile(text)
	if err != nil {
		t.Fatal(err)
	}
	for part, token := range tokens {
		if back[part] != token {
			t.Errorf("%s: %q != %q", part, back[part], token)
		}
	}
}

func TestParseTokenFileRejectsIncompleteFiles(t *testing.T) {
	for _, text := range []string{"", "abc,devcluster-admin,u,system:masters\n", "\"unterminated\n", ",nouser\n"} {
		if _, err := ParseTokenFile(text); err == nil {
			t.Errorf("accepted %q", text)
		}
	}
}

func TestRenderKubeconfigIsValidYAML(t *testing.T) {
	text := RenderKubeconfig("https://127.0.0.1:6443", []byte("PEM"), "system:kube-scheduler", "tok")
	var doc struct {
		CurrentContext string `json:"current-context"`
		Clusters       []struct {
			Cluster map[string]string `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			Name string            `json:"name"`
			User map[string]string `json:"user"`
		} `json:"users"`
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.CurrentContext != "devcluster" || doc.Clusters[0].Cluster["server"] != "https://127.0.0.1:6443" ||
		doc.Clusters[0].Cluster["certificate-authority-data"] != "UEVN" || doc.Users[0].User["token"] != "tok" ||
		doc.Users[0].Name != "system-kube-scheduler" {
		t.Fatalf("unexpected kubeconfig: %+v", doc)
	}
}

func TestStateRoundTrip(t *testing.T) {
	path := t.TempDir() + "/state.json"
	want := State{SupervisorPid: 7, Phase: PhaseReady, Nodes: 3, Ports: Ports{APIServer: 5},
		Children: []Child{{Part: PartEtcd, Pid: 8, Log: "x"}}}
	if err := WriteState(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.SupervisorPid != 7 || got.Phase != PhaseReady || got.Ports.APIServer != 5 || got.Children[0].Pid != 8 {
		t.Fatalf("round trip lost data: %+v", got)
	}
}
