//go:build !linux

package s3test

import "os/exec"

// setDeathSignal does nothing where the kernel cannot kill a child with
// its parent; Stop and the test's cleanup end the server.
func setDeathSignal(cmd *exec.Cmd) {}
