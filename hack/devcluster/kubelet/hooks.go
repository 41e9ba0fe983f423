package kubelet

// Lifecycle hooks are not executed; only how long they take matters to what a client can
// observe, and in practice the hooks that take time are sleeps (`sleep N` to let load balancers
// drain before shutdown, or to delay readiness after start). This file reads that duration from
// the three spellings in use: the native `sleep` action, `exec: [sleep, N]` and
// `exec: [sh, -c, "sleep N"]`. Any other hook counts as instantaneous.

import (
	"path"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// hookDuration is how long the handler runs; 0 for a nil handler or one that does not sleep.
func hookDuration(handler *corev1.LifecycleHandler) time.Duration {
	if handler == nil {
		return 0
	}
	if handler.Sleep != nil {
		return time.Duration(handler.Sleep.Seconds) * time.Second
	}
	if handler.Exec == nil {
		return 0
	}
	return commandSleep(handler.Exec.Command)
}

// commandSleep recognises `sleep N` directly or through a shell's -c script.
func commandSleep(command []string) time.Duration {
	if len(command) == 0 {
		return 0
	}
	switch path.Base(command[0]) {
	case "sleep":
		return sleepArguments(command[1:])
	case "sh", "bash", "ash", "dash":
		if len(command) == 3 && command[1] == "-c" {
			return scriptSleep(command[2])
		}
	}
	return 0
}

// scriptSleep accepts a script that is exactly one sleep command (surrounding blanks and a
// trailing `;` tolerated); anything more complex is not interpreted.
func scriptSleep(script string) time.Duration {
	fields := strings.Fields(strings.TrimSuffix(strings.TrimSpace(script), ";"))
	if len(fields) < 2 || path.Base(fields[0]) != "sleep" {
		return 0
	}
	return sleepArguments(fields[1:])
}

// sleepArguments sums the operands as GNU sleep does: each a number with an optional s/m/h/d
// suffix. An unparsable operand makes the whole command fail instantly, as sleep would.
func sleepArguments(operands []string) time.Duration {
	var total time.Duration
	for _, operand := range operands {
		d, ok := sleepOperand(operand)
		if !ok {
			return 0
		}
		total += d
	}
	return total
}

// maxSleep bounds a parsed sleep far beyond any grace period, keeping Durations from overflowing.
const maxSleep = 365 * 24 * time.Hour

func sleepOperand(operand string) (time.Duration, bool) {
	unit := time.Second
	number := operand
	if n := len(operand); n > 1 {
		switch operand[n-1] {
		case 's':
			number = operand[:n-1]
		case 'm':
			unit, number = time.Minute, operand[:n-1]
		case 'h':
			unit, number = time.Hour, operand[:n-1]
		case 'd':
			unit, number = 24*time.Hour, operand[:n-1]
		}
	}
	value, err := strconv.ParseFloat(number, 64)
	// NaN fails every comparison, so this also rejects "nan" and "inf" and overflowing values.
	if err != nil || !(value >= 0 && value*float64(unit) < float64(maxSleep)) {
		return 0, false
	}
	return time.Duration(value * float64(unit)), true
}

// postStartDuration and preStopDuration read a container's hooks.
func postStartDuration(c *corev1.Container) time.Duration {
	if c.Lifecycle == nil {
		return 0
	}
	return hookDuration(c.Lifecycle.PostStart)
}

func preStopDuration(c *corev1.Container) time.Duration {
	if c.Lifecycle == nil {
		return 0
	}
	return hookDuration(c.Lifecycle.PreStop)
}
