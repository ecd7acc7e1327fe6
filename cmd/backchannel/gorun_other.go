//go:build !linux

package main

// stopWithGoRun does nothing here: only Linux tells a process of its
// parent's death.
func stopWithGoRun() {}
