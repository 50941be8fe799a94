package objstore

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill an emulator when the test process
// dies, so that a killed test run leaves none behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
