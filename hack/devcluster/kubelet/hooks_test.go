package kubelet

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestHookDuration(t *testing.T) {
	exec := func(command ...string) *corev1.LifecycleHandler {
		return &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: command}}
	}
	cases := []struct {
		name    string
		handler *corev1.LifecycleHandler
		want    time.Duration
	}{
		{"nil", nil, 0},
		{"sleep action", &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 7}}, 7 * time.Second},
		{"sleep N", exec("sleep", "5"), 5 * time.Second},
		{"absolute sleep", exec("/bin/sleep", "5"), 5 * time.Second},
		{"sleep with suffix", exec("sleep", "2m"), 2 * time.Minute},
		{"fractional", exec("sleep", "0.5"), 500 * time.Millisecond},
		{"summed operands", exec("sleep", "1", "2s"), 3 * time.Second},
		{"sh -c", exec("sh", "-c", "sleep 10"), 10 * time.Second},
		{"bash -c with semicolon", exec("/bin/bash", "-c", " sleep 4; "), 4 * time.Second},
		{"script doing more", exec("sh", "-c", "nginx -s quit && sleep 3"), 0},
		{"not sleep", exec("nginx", "-s", "quit"), 0},
		{"bad operand", exec("sleep", "soon"), 0},
		{"infinity is not a number we wait for", exec("sleep", "inf"), 0},
		{"nan", exec("sleep", "nan"), 0},
		{"negative", exec("sleep", "-3"), 0},
		{"http hook", &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/quit"}}, 0},
		{"empty exec", exec(), 0},
	}
	for _, c := range cases {
		if got := hookDuration(c.handler); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}
