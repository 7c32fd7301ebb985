package weights

import (
	"os"
	"syscall"
	"unsafe"
)

// madvHugepage is Linux's MADV_HUGEPAGE.
const madvHugepage = 14

// allocHuge returns n bytes of anonymous memory, asking for huge pages.
func allocHuge(n int) ([]byte, func() error, error) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil, err
	}
	_ = syscall.Madvise(b, madvHugepage) // a hint: without it the copy still works
	return b, func() error { return syscall.Munmap(b) }, nil
}

// dropPages tells the kernel the process no longer needs the whole pages
// of a read-only file mapping inside b: they leave its resident set, and
// a later read would fault them back in from the file, unchanged.
func dropPages(b []byte) {
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (page - start%page) % page
	if uintptr(len(b)) <= lo+page {
		return
	}
	n := (uintptr(len(b)) - lo) / page * page
	_ = syscall.Madvise(b[lo:lo+n], syscall.MADV_DONTNEED)
}
