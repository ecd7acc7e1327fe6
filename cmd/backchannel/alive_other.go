//go:build !unix

package main

import "os"

// processAlive reports whether process pid may still run.
func processAlive(pid int) bool {
	_, err := os.FindProcess(pid)
	return err == nil
}
