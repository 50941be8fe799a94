//go:build !linux

package objstore

import "os/exec"

// setDeathSignal does nothing where the kernel cannot kill a child with
// its parent; the test's cleanup ends the emulator.
func setDeathSignal(cmd *exec.Cmd) {}
