package kubelet

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsDefaultsAndValidation(t *testing.T) {
	o, err := Options{Kubeconfig: "k", StateDir: "/s"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Nodes != 3 || o.NodeNamePrefix != "devcluster-node-" || o.CrashLoopBackOffInitial != 10*time.Second || o.Workers < 1 {
		t.Fatalf("defaults: %+v", o)
	}
	if o.imageDenier()("anything") {
		t.Fatalf("no pattern denies nothing")
	}
	bad := []struct {
		opts Options
		want string
	}{
		{Options{Kubeconfig: "k", StateDir: "/s", DenyImagePattern: "(unclosed"}, "not a valid Go regular expression"},
		{Options{Kubeconfig: "k", StateDir: "/s", Nodes: -1}, "nodes must be between"},
		{Options{Kubeconfig: "k", StateDir: "/s", Nodes: 65}, "nodes must be between"},
		{Options{Kubeconfig: "k"}, "state directory"},
		{Options{StateDir: "/s"}, "kubeconfig"},
		{Options{Kubeconfig: "k", StateDir: "/s", CrashLoopBackOffInitial: time.Minute, CrashLoopBackOffMax: time.Second}, "back-off"},
		{Options{Kubeconfig: "k", StateDir: "/s", CrashLoopBackOffInitial: -time.Second}, "back-off"},
		{Options{Kubeconfig: "k", StateDir: "/s", LogServerAddressBase: "10.1.1.1"}, "loopback"},
	}
	for _, b := range bad {
		if _, err := b.opts.withDefaults(); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: error %v, want %q", b.opts, err, b.want)
		}
	}
	o, _ = Options{Kubeconfig: "k", StateDir: "/s", DenyImagePattern: `^bad/`}.withDefaults()
	if deny := o.imageDenier(); !deny("bad/x:1") || deny("good/bad/x") {
		t.Fatalf("deny pattern not applied as a regexp")
	}
}
