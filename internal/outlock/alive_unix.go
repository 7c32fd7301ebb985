//go:build unix

package outlock

import (
	"errors"
	"math"
	"syscall"
)

// alive reports whether process pid exists on this host. Signal 0 checks
// without sending anything; EPERM means it exists under another user.
// kill(2) takes a 32-bit pid, and 0 and negative ones name process groups,
// so a pid outside [1, 2^31-1] names no process.
func alive(pid int) bool {
	if pid <= 0 || pid > math.MaxInt32 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
