//go:build !linux

package netlab

import (
	"errors"
	"os/exec"
)

// Without Linux, New skips (or fails) before anything below is called.

func alive(int) bool { return true }

func kill(int) error { return errors.New("netlab: needs Linux") }

func dieWithParent(*exec.Cmd) {}
