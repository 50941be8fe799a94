package state

import (
	"io/fs"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// winID is the Sys of a FileInfo that lstatID returns on Windows: what
// an lstat there (GetFileAttributesEx) lacks and a handle gives.
type winID struct {
	Volume uint32 // volume serial number
	Index  uint64 // file index, unique on its volume while the file exists
	CTime  int64  // change time, ns since 1601; 0 when unknown
}

// idInfo is an os.Lstat FileInfo with the file's identity as its Sys.
type idInfo struct {
	fs.FileInfo
	id winID
}

func (fi *idInfo) Sys() any { return &fi.id }

// lstatID is os.Lstat of name with the file's volume, file index and
// change time, which Windows gives only through a handle: name is opened
// without following a link there (FILE_FLAG_OPEN_REPARSE_POINT), for its
// attributes only, sharing every access (deletion included), so that no
// other process is hindered. Where no handle can be had, the FileInfo is
// the lstat's, and idOf finds no identity in it (no note matches). It
// costs an open: it is used for the few files notes name, never for each
// output.
func lstatID(name string) (fs.FileInfo, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return fi, nil
	}
	h, err := windows.CreateFile(p, windows.FILE_READ_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return fi, nil
	}
	defer windows.CloseHandle(h)
	var bi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &bi); err != nil {
		return fi, nil
	}
	id := winID{Volume: bi.VolumeSerialNumber, Index: uint64(bi.FileIndexHigh)<<32 | uint64(bi.FileIndexLow)}
	var basic fileBasicInfo
	if err := windows.GetFileInformationByHandleEx(h, windows.FileBasicInfo, (*byte)(unsafe.Pointer(&basic)), uint32(unsafe.Sizeof(basic))); err == nil && basic.ChangeTime > 0 {
		id.CTime = basic.ChangeTime * int64(100*time.Nanosecond)
	}
	return &idInfo{FileInfo: fi, id: id}, nil
}

// fileBasicInfo is FILE_BASIC_INFO; times in 100 ns since 1601.
type fileBasicInfo struct {
	CreationTime, LastAccessTime, LastWriteTime, ChangeTime int64
	FileAttributes                                          uint32
	_                                                       uint32
}

// idOf returns the volume and file index of fi, a FileInfo of lstatID's;
// ok is false for any other (an os.Lstat's has none), and then no note
// can ever match (SECURITY.md, Windows).
func idOf(fi fs.FileInfo) (fileID, bool) {
	w, ok := fi.Sys().(*winID)
	if !ok || w.Index == 0 {
		return fileID{}, false
	}
	return fileID{Dev: uint64(w.Volume), Ino: w.Index}, true
}

// inodeCTime returns fi's file index and change time when fi is
// lstatID's and Windows gave a change time; ok is false for an os.Lstat
// FileInfo, which has neither: a stat cache keys such a file on its size
// and modification time only.
func inodeCTime(fi fs.FileInfo) (ino uint64, ctime int64, ok bool) {
	w, ok := fi.Sys().(*winID)
	if !ok || w.CTime == 0 {
		return 0, 0, false
	}
	return w.Index, w.CTime, true
}
