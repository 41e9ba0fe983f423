package kubelet

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestTerminationMessage(t *testing.T) {
	long := strings.Repeat("x", 5000) + "END"
	log := []byte(strings.Repeat("line\n", 100) + "last words\n")
	cases := []struct {
		name   string
		file   string
		policy corev1.TerminationMessagePolicy
		exit   int32
		want   func(string) bool
	}{
		{"file wins", `{"ok":true}`, corev1.TerminationMessageReadFile, 0, func(s string) bool { return s == `{"ok":true}` }},
		{"last 4096 bytes", long, corev1.TerminationMessageReadFile, 0, func(s string) bool { return len(s) == 4096 && strings.HasSuffix(s, "END") }},
		{"empty file, ReadFile", "", corev1.TerminationMessageReadFile, 1, func(s string) bool { return s == "" }},
		{"fallback on failure", "", corev1.TerminationMessageFallbackToLogsOnError, 1, func(s string) bool {
			return strings.HasSuffix(s, "last words\n") && strings.Count(s, "\n") == 80
		}},
		{"no fallback on success", "", corev1.TerminationMessageFallbackToLogsOnError, 0, func(s string) bool { return s == "" }},
		{"file beats fallback", "msg", corev1.TerminationMessageFallbackToLogsOnError, 2, func(s string) bool { return s == "msg" }},
	}
	for _, c := range cases {
		if got := terminationMessage([]byte(c.file), log, c.policy, c.exit); !c.want(got) {
			t.Errorf("%s: got %q", c.name, got)
		}
	}
}

func TestLogTail(t *testing.T) {
	cases := []struct {
		log      string
		lines    int
		maxBytes int
		want     string
	}{
		{"a\nb\nc\n", 2, 100, "b\nc\n"},
		{"a\nb\nc", 2, 100, "b\nc"},
		{"a\n", 5, 100, "a\n"},
		{"a", 1, 100, "a"},
		{"\n\n", 1, 100, "\n"},
		{"abc\ndef\n", 0, 100, ""},
		{"abcdef\n", 1, 3, "ef\n"},
		{"", 3, 100, ""},
	}
	for _, c := range cases {
		if got := string(logTail([]byte(c.log), c.lines, c.maxBytes)); got != c.want {
			t.Errorf("logTail(%q, %d, %d) = %q, want %q", c.log, c.lines, c.maxBytes, got, c.want)
		}
	}
}
