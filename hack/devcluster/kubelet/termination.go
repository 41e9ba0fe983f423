package kubelet

// The termination message of a finished container, chosen as upstream chooses it: the last 4096
// bytes of the file at terminationMessagePath; with terminationMessagePolicy
// FallbackToLogsOnError, if that file is empty and the container failed, the tail of its log
// (at most 80 lines and 2048 bytes).

import (
	"bytes"

	corev1 "k8s.io/api/core/v1"
)

const (
	maxFallbackLogLines = 80
	maxFallbackLogBytes = 2048
)

// terminationMessage picks the message from the file's content and the container's log.
func terminationMessage(file, log []byte, policy corev1.TerminationMessagePolicy, exitCode int32) string {
	file = lastBytes(file, maxTerminationMessageBytes)
	if len(file) > 0 || policy != corev1.TerminationMessageFallbackToLogsOnError || exitCode == 0 {
		return string(file)
	}
	return string(logTail(log, maxFallbackLogLines, maxFallbackLogBytes))
}

// logTail is the last maxLines lines of the log, cut to its last maxBytes bytes.
func logTail(log []byte, maxLines, maxBytes int) []byte {
	if maxLines <= 0 {
		return nil
	}
	end := len(bytes.TrimSuffix(log, []byte("\n")))
	start := 0
	for lines := 1; ; lines++ {
		i := bytes.LastIndexByte(log[:end], '\n')
		if i < 0 {
			break
		}
		if lines == maxLines {
			start = i + 1
			break
		}
		end = i
	}
	return lastBytes(log[start:], maxBytes)
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
