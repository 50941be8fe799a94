package s3test

import (
	"errors"
	"os/exec"
)

// signalStop cannot pause a process on Windows, which has no SIGSTOP: the
// tests that pause the server cannot run there.
func signalStop(cmd *exec.Cmd, stop bool) error {
	return errors.New("s3test: pausing the server needs SIGSTOP, which Windows does not have")
}
