package netlab

import (
	"errors"
	"os/exec"
	"syscall"
)

// alive reports whether process pid exists (it may be another user's).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// kill ends process pid with SIGKILL; one already gone is no error.
func kill(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// dieWithParent has the kernel kill cmd's process when the test process
// dies, so a killed run leaves no program running in its namespaces.
// ip netns exec execs the program in place, so the setting reaches it.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
