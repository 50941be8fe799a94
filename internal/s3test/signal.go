//go:build unix

package s3test

import (
	"os/exec"
	"syscall"
)

// signalStop pauses (SIGSTOP) or resumes (SIGCONT) the server.
func signalStop(cmd *exec.Cmd, stop bool) error {
	if stop {
		return cmd.Process.Signal(syscall.SIGSTOP)
	}
	return cmd.Process.Signal(syscall.SIGCONT)
}
