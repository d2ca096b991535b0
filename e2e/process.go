package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Process is a program the harness started: in a process group of its own, so
// that stopping it stops whatever it started too; its stdout and stderr appended
// to a log file. It can be killed and started again with the same command line.
type Process struct {
	// Name names it in messages and its log file (<dir>/<name>.log).
	Name string
	// Log is the log file's path.
	Log string

	path string
	args []string
	env  []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run has been waited for
	err  error         // the current run's exit error, once done
	runs int
}

// StartProcess starts path with args and the harness's environment plus env,
// logging to logDir/<name>.log.
func StartProcess(name, logDir string, env []string, path string, args ...string) (*Process, error) {
	p := &Process{Name: name, Log: filepath.Join(logDir, name+".log"), path: path, args: args, env: env}
	return p, p.Start()
}

// Start starts the program again after it ended (Kill, Stop, or on its own).
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("%s: already running (pid %d)", p.Name, p.cmd.Process.Pid)
		}
	}
	logf, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: log file: %w", p.Name, err)
	}
	p.runs++
	fmt.Fprintf(logf, "==== %s run %d: %s %q\n", time.Now().UTC().Format(time.RFC3339Nano), p.runs, p.path, p.args)
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Setpgid: a process group of its own, killed as a whole. Pdeathsig: the kernel
	// kills it when the harness dies without cleaning up (a SIGKILLed test binary).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("%s: start %s: %w", p.Name, p.path, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err = cmd, done, nil
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// Running reports whether the current run has not ended.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done is closed when the current run ends; Err then says how.
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Err is how the current run ended (nil while it runs or after a clean exit).
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Pid is the current run's process id (and process group id).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Kill sends SIGKILL to the process group and waits for the process to end.
func (p *Process) Kill() error { return p.Stop(0) }

// Stop sends SIGTERM to the process group, waits up to grace for it to end, then
// sends SIGKILL; it returns once the process has been waited for. A process that
// has ended already is not an error.
func (p *Process) Stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pgid := cmd.Process.Pid
	if grace > 0 {
		if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("%s: SIGTERM: %w", p.Name, err)
		}
		select {
		case <-done:
		case <-time.After(grace):
		}
	}
	// The group may hold children after the leader has ended: kill it in any case.
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%s: SIGKILL: %w", p.Name, err)
	}
	<-done
	return nil
}

// Tail is the last n bytes of the log file, for a failure message.
func (p *Process) Tail(n int64) string {
	f, err := os.Open(p.Log)
	if err != nil {
		return fmt.Sprintf("(%s: %v)", p.Log, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(%s: %v)", p.Log, err)
	}
	off := max(st.Size()-n, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return fmt.Sprintf("(%s: %v)", p.Log, err)
	}
	return string(buf)
}
