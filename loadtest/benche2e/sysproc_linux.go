package benche2e

import "syscall"

// sysProcAttr makes a service die with the harness, even when the harness
// is killed, so an interrupted benchmark leaves nothing running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
