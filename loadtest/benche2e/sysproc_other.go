//go:build !linux

package benche2e

import "syscall"

// sysProcAttr: without Pdeathsig, services outlive a killed harness; the
// benchmark needs /proc, that is Linux, anyway.
func sysProcAttr() *syscall.SysProcAttr { return nil }
