package kubelet

// The first moments of a really-run container, inside its own mount namespace. The runtime
// starts the devcluster binary itself (/proc/self/exe) with CLONE_NEWNS and mount propagation
// made private (syscall.SysProcAttr does both), and this package's init function takes over
// before main: it bind-mounts the container's private /tmp, volumes and termination-message file
// over their paths, changes to the working directory and execs the command. Doing this in Go
// rather than a shell script needs no mount(8) on the host and reports each failure precisely.
//
// Mount sources are opened (O_PATH) before the first mount and mounted through /proc/self/fd,
// because mounting the private /tmp first would hide sources that live under the host's /tmp.
// Start failures are written to file descriptor 3, which is closed on a successful exec: the
// runtime reads it to tell "could not start" (StartError) from "ran and failed".

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// containerInitEnv carries the path of the container's start spec to the re-executed binary.
const containerInitEnv = "DEVCLUSTER_KUBELET_CONTAINER_INIT"

// startErrorFD is the descriptor start failures are reported on.
const startErrorFD = 3

// startSpec is what the re-executed binary needs to become the container's process.
type startSpec struct {
	Argv       []string    `json:"argv"`
	Env        []string    `json:"env"`
	WorkingDir string      `json:"workingDir"`
	Mounts     []bindMount `json:"mounts"`
}

// bindMount puts Source (a directory or a file) at Target inside the container's namespace.
type bindMount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	File     bool   `json:"file,omitempty"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

func init() {
	if specPath := os.Getenv(containerInitEnv); specPath != "" {
		err := becomeContainer(specPath)
		report := os.NewFile(startErrorFD, "start-errors")
		fmt.Fprint(report, err.Error())
		os.Exit(exitCodeStartError)
	}
}

// becomeContainer sets up the namespace and execs the command; it returns only on failure.
func becomeContainer(specPath string) error {
	syscall.CloseOnExec(startErrorFD)
	data, err := os.ReadFile(specPath)
	if err != nil {
		return fmt.Errorf("reading the start spec: %w", err)
	}
	var spec startSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("reading the start spec: %w", err)
	}
	if err := mountAll(spec.Mounts); err != nil {
		return err
	}
	workingDir := spec.WorkingDir
	if workingDir == "" {
		workingDir = "/"
	}
	if err := os.MkdirAll(workingDir, 0o755); err != nil {
		return fmt.Errorf("creating working directory %s: %w", workingDir, err)
	}
	if err := os.Chdir(workingDir); err != nil {
		return fmt.Errorf("changing to working directory %s: %w", workingDir, err)
	}
	path, err := lookPath(spec.Argv[0], envValueOf(spec.Env, "PATH"))
	if err != nil {
		return err
	}
	err = syscall.Exec(path, spec.Argv, spec.Env)
	return fmt.Errorf("exec: %q: %w", spec.Argv[0], err)
}

func mountAll(mounts []bindMount) error {
	sources := make([]int, len(mounts))
	for i, m := range mounts {
		fd, err := unix.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening mount source %s: %w", m.Source, err)
		}
		sources[i] = fd
	}
	for i, m := range mounts {
		if err := ensureMountPoint(m); err != nil {
			return err
		}
		source := fmt.Sprintf("/proc/self/fd/%d", sources[i])
		if err := unix.Mount(source, m.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind-mounting %s at %s: %w", m.Source, m.Target, err)
		}
		if m.ReadOnly {
			flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
			if err := unix.Mount("", m.Target, "", flags, ""); err != nil {
				return fmt.Errorf("making %s read-only: %w", m.Target, err)
			}
		}
		_ = unix.Close(sources[i])
	}
	return nil
}

// ensureMountPoint creates the target if missing. Outside an earlier mount this creates an
// empty placeholder on the host (e.g. /dev/termination-log), which is harmless and reused.
func ensureMountPoint(m bindMount) error {
	if !m.File {
		if err := os.MkdirAll(m.Target, 0o755); err != nil {
			return fmt.Errorf("creating mount point %s: %w", m.Target, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(m.Target), 0o755); err != nil {
		return fmt.Errorf("creating the directory of mount point %s: %w", m.Target, err)
	}
	f, err := os.OpenFile(m.Target, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return fmt.Errorf("creating mount point %s: %w", m.Target, err)
	}
	return f.Close()
}

// lookPath resolves the command as execve would after a shell's PATH search, using the
// container's PATH rather than the kubelet's.
func lookPath(file, pathEnv string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", fmt.Errorf("exec: %q: %w", file, err)
		}
		return file, nil
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		candidate := filepath.Join(dir, file)
		if executable(candidate) == nil {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}

func executable(path string) error {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case info.IsDir():
		return errors.New("is a directory")
	case info.Mode()&0o111 == 0:
		return fs.ErrPermission
	}
	return nil
}

func envValueOf(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if value, ok := strings.CutPrefix(env[i], name+"="); ok {
			return value
		}
	}
	return ""
}
