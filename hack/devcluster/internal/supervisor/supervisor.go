// Package supervisor runs the devcluster's parts as child processes of one supervisor and keeps
// the cluster honest: it starts the parts in order and waits for each to be healthy, reports
// ready only when all are, and if any part dies it stops the rest and exits non-zero, so a
// broken cluster never looks healthy. Each part runs in a process of its own because the
// Kubernetes commands share global flag sets, metric registries and signal handlers that clash
// inside one process.
package supervisor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/rollouts/rollouts/hack/devcluster/internal/cluster"
)

// Spec is everything one run of the supervisor needs.
type Spec struct {
	// Self is the devcluster binary, re-executed with a part's name as subcommand.
	Self     string
	Layout   cluster.Layout
	Ports    cluster.Ports
	Options  cluster.Options
	Versions cluster.Versions
	// CAPEM verifies the API server's serving certificate during health checks.
	CAPEM []byte
	// StartTimeout bounds how long one part may take to become healthy.
	StartTimeout time.Duration
	// StopGrace is how long a part may take to exit after SIGTERM before it is killed.
	StopGrace time.Duration
	// Log receives the supervisor's own progress lines.
	Log io.Writer
}

// PartError is a failure attributable to one part; its log says more.
type PartError struct {
	Part string
	Err  error
}

func (e *PartError) Error() string { return fmt.Sprintf("%s: %v", e.Part, e.Err) }
func (e *PartError) Unwrap() error { return e.Err }

type child struct {
	part string
	cmd  *exec.Cmd
	// done is closed once the process has exited and err holds how.
	done chan struct{}
	err  error
}

type supervisor struct {
	spec     Spec
	state    cluster.State
	children []*child
	// exited receives each child as it exits, stopping or not.
	exited chan *child
}

// Run starts the cluster, waits until ctx is cancelled (a signal) or a part dies, then stops
// every part in reverse order. It returns nil only for a clean, requested shutdown.
func Run(ctx context.Context, spec Spec) error {
	s := &supervisor{
		spec:   spec,
		exited: make(chan *child, len(cluster.StartOrder)),
		state: cluster.State{
			SupervisorPid: os.Getpid(),
			StartedAt:     time.Now().UTC(),
			Phase:         cluster.PhaseStarting,
			Server:        cluster.APIServerURL(spec.Ports),
			Nodes:         spec.Options.Nodes,
			Ports:         spec.Ports,
			Children:      []cluster.Child{},
			Versions:      spec.Versions,
		},
	}
	_ = os.Remove(spec.Layout.ReadyFile())
	if err := s.save(); err != nil {
		return err
	}
	err := s.startAll(ctx)
	if err == nil {
		s.state.Phase = cluster.PhaseReady
		if err = s.save(); err == nil {
			err = os.WriteFile(spec.Layout.ReadyFile(), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
		}
	}
	if err == nil {
		s.logf("ready: %s (%d nodes requested)", s.state.Server, spec.Options.Nodes)
		err = s.waitForTrouble(ctx)
	}
	_ = os.Remove(spec.Layout.ReadyFile())
	s.state.Phase = cluster.PhaseStopping
	_ = s.save()
	s.stopAll()
	s.state.Phase = cluster.PhaseStopped
	if err != nil {
		s.state.Phase = cluster.PhaseFailed
		s.state.Error = err.Error()
		var partErr *PartError
		if errors.As(err, &partErr) {
			s.state.FailedPart = partErr.Part
		}
		s.logf("failed: %v", err)
	} else {
		s.logf("stopped")
	}
	if saveErr := s.save(); saveErr != nil && err == nil {
		err = saveErr
	}
	return err
}

func (s *supervisor) logf(format string, args ...any) {
	fmt.Fprintf(s.spec.Log, "%s devcluster: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func (s *supervisor) save() error {
	return cluster.WriteState(s.spec.Layout.StateFile(), s.state)
}

func (s *supervisor) startAll(ctx context.Context) error {
	for _, command := range cluster.Commands(s.spec.Layout, s.spec.Ports, s.spec.Options) {
		started := time.Now()
		c, err := s.start(command)
		if err != nil {
			return &PartError{command.Part, err}
		}
		if err := s.awaitHealthy(ctx, c); err != nil {
			return err
		}
		s.logf("%s is up (pid %d, %.1fs)", c.part, c.cmd.Process.Pid, time.Since(started).Seconds())
	}
	return nil
}

func (s *supervisor) start(command cluster.Command) (*child, error) {
	// A fresh cluster gets fresh logs, so a log tail never shows an earlier run's lines.
	logFile, err := os.OpenFile(s.spec.Layout.LogFile(command.Part), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor
	cmd := exec.Command(s.spec.Self, append([]string{command.Part}, command.Args...)...)
	cmd.Dir = s.spec.Layout.Dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a Ctrl-C in the terminal reaches only the supervisor, which then
		// stops the parts in order; leftovers of a part can be killed as a group.
		Setpgid: true,
		// If the supervisor is killed outright, the kernel kills the parts too.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{part: command.Part, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
		s.exited <- c
	}()
	s.children = append(s.children, c)
	s.state.Children = append(s.state.Children, cluster.Child{
		Part: command.Part, Pid: cmd.Process.Pid, Log: s.spec.Layout.LogFile(command.Part),
	})
	s.logf("started %s (pid %d), log %s", command.Part, cmd.Process.Pid, s.spec.Layout.LogFile(command.Part))
	return c, s.save()
}

// awaitHealthy polls the part's health URL until it answers 200, the part exits, the timeout
// passes or the supervisor is asked to stop.
func (s *supervisor) awaitHealthy(ctx context.Context, c *child) error {
	url := cluster.HealthURL(c.part, s.spec.Ports)
	client := s.healthClient(c.part)
	deadline := time.After(s.spec.StartTimeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case exited := <-s.exited:
			return &PartError{exited.part, fmt.Errorf("exited during start-up: %v", exitReason(exited.err))}
		case <-ctx.Done():
			return nil // a requested stop during start-up is a clean shutdown
		case <-deadline:
			return &PartError{c.part, fmt.Errorf("not healthy after %s (%s)", s.spec.StartTimeout, url)}
		case <-tick.C:
			if url == "" || healthy(client, url) {
				return nil
			}
		}
	}
}

func (s *supervisor) healthClient(part string) *http.Client {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if part == cluster.PartAPIServer {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.spec.CAPEM)
		tlsConfig.RootCAs = pool
	} else {
		// The controller manager and scheduler serve self-signed certificates on loopback;
		// only their liveness is in question here, not their identity.
		tlsConfig.InsecureSkipVerify = true //nolint:gosec
	}
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
}

func healthy(client *http.Client, url string) bool {
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitForTrouble blocks until a stop is requested (nil) or a part exits (an error).
func (s *supervisor) waitForTrouble(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case c := <-s.exited:
		return &PartError{c.part, fmt.Errorf("exited unexpectedly: %v", exitReason(c.err))}
	}
}

// stopAll stops the parts in reverse start order: SIGTERM, then SIGKILL after StopGrace, then
// SIGKILL to the part's process group for anything it left behind.
func (s *supervisor) stopAll() {
	for i := len(s.children) - 1; i >= 0; i-- {
		c := s.children[i]
		pid := c.cmd.Process.Pid
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(s.spec.StopGrace):
				s.logf("%s did not exit %s after SIGTERM; killing it", c.part, s.spec.StopGrace)
				_ = c.cmd.Process.Kill()
				<-c.done
			}
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		s.logf("stopped %s (pid %d): %s", c.part, pid, exitReason(c.err))
	}
}

func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
