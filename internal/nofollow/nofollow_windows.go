package nofollow

import (
	"io/fs"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// OpenFile is os.OpenFile of name with flag and perm, except that a
// symbolic link at name's last component is never followed: the open
// fails with an *os.PathError wrapping syscall.ELOOP, as O_NOFOLLOW fails
// on Unix, whatever flag asks (a link with O_CREATE is not created
// through). On Windows a junction (mount point), or any other reparse
// point that names another file, is refused the same way.
//
// Components before the last are followed: the callers check them
// (internal/safepath) or open beneath a directory they hold.
//
// On Windows it opens name with FILE_FLAG_OPEN_REPARSE_POINT, so that the
// handle is the reparse point itself when there is one, never its
// target, and then asks the handle what it is. A name surrogate (a
// symbolic link, a junction) is refused with ELOOP. Any other reparse
// point (a deduplicated file, a cloud placeholder) stands for the file
// itself: it is opened again, following it, and kept only if that open
// reached the same file (volume and file index) as the first.
//
// O_TRUNC is applied only once the file is known not to be a link, since
// CreateFile would truncate whatever the handle names.
func OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag&^os.O_TRUNC|syscall.FILE_FLAG_OPEN_REPARSE_POINT, perm)
	if err != nil {
		return nil, err
	}
	var tag attributeTagInfo
	if err := windows.GetFileInformationByHandleEx(windows.Handle(f.Fd()), windows.FileAttributeTagInfo, (*byte)(unsafe.Pointer(&tag)), uint32(unsafe.Sizeof(tag))); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	if tag.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		if tag.ReparseTag&nameSurrogate != 0 {
			f.Close()
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
		}
		g, err := os.OpenFile(name, flag&^(os.O_TRUNC|os.O_CREATE|os.O_EXCL), perm)
		if err != nil {
			f.Close()
			return nil, err
		}
		same, err := sameFile(f, g)
		f.Close()
		if err != nil || !same {
			g.Close()
			if err == nil {
				err = syscall.ELOOP
			}
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		f = g
	}
	if flag&os.O_TRUNC != 0 {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// attributeTagInfo is FILE_ATTRIBUTE_TAG_INFO.
type attributeTagInfo struct {
	FileAttributes uint32
	ReparseTag     uint32
}

// nameSurrogate is the bit of a reparse tag that says the reparse point
// names another file or directory (IsReparseTagNameSurrogate): symbolic
// links and mount points (junctions) have it.
const nameSurrogate = 0x20000000

// sameFile reports whether f and g are handles of one file.
func sameFile(f, g *os.File) (bool, error) {
	var a, b windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &a); err != nil {
		return false, err
	}
	if err := windows.GetFileInformationByHandle(windows.Handle(g.Fd()), &b); err != nil {
		return false, err
	}
	return a.VolumeSerialNumber == b.VolumeSerialNumber && a.FileIndexHigh == b.FileIndexHigh && a.FileIndexLow == b.FileIndexLow, nil
}
