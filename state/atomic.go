package state

import (
	"errors"
	"fmt"
	"github.com/pixform/pixform/internal/fsflush"
	"github.com/pixform/pixform/internal/unnamed"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tempPrefix marks pixform's temporary files, so that a crash leftover is
// recognisable (and never mistaken for an output).
const tempPrefix = ".pixform-tmp-"

// CreateTemp creates a temporary file in the directory of target (creating
// the directory if needed), so that CommitTemp can rename it into place
// atomically.
func CreateTemp(target string) (*os.File, error) {
	f, err := createTempBeside(target)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory is missing: the uncommon case, so the common one
		// costs no stat of the directory.
		dir := filepath.Dir(target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create directory %s: %w", dir, err)
		}
		f, err = createTempBeside(target)
	}
	if err != nil {
		return nil, fmt.Errorf("create temporary file for %s: %w", target, err)
	}
	return f, nil
}

// createTempBeside creates CreateTemp's temporary file for target in an
// existing directory.
// It names the file as os.CreateTemp would (a random number after the
// pattern) but opens it with openExcl.
func createTempBeside(target string) (*os.File, error) {
	dir := filepath.Dir(target)
	var f *os.File
	_, err := tryTempNames(filepath.Base(target), func(name string) (err error) {
		f, err = openExcl(filepath.Join(dir, name))
		return err
	})
	return f, err
}

// tryTempNames calls try with temporary names for a file named base
// (tempPrefix, base, "-" and a random number) until try's error is not
// fs.ErrExist (the name is taken), or 10,000 were taken, and returns the
// last name and try's error for it.
func tryTempNames(base string, try func(name string) error) (string, error) {
	prefix := tempPrefix + base + "-"
	for n := 0; ; n++ {
		name := prefix + strconv.FormatUint(uint64(rand.Uint32()), 10)
		err := try(name)
		if errors.Is(err, fs.ErrExist) && n < 10000 {
			continue
		}
		return name, err
	}
}

// CommitTemp makes f, made by CreateTemp, the file at target: it syncs and
// closes f, renames it over target and syncs the directory. On error the
// temporary file is removed and target is untouched. The file keeps the
// permissions of the regular file it replaces (a 0600 lockfile or
// configuration file stays 0600); a new file is 0644.
func CommitTemp(f *os.File, target string) error {
	return commitTempPerm(f, target, true, true, keptPerm(target))
}

// keptPerm is the permission bits of the regular file at target, which a
// file renamed over it keeps, or 0644 where there is none: one lstat, made
// only for the files CommitTemp writes (the lockfile, notes, a formatted
// configuration file), never for an output.
func keptPerm(target string) os.FileMode {
	if fi, err := os.Lstat(target); err == nil && fi.Mode().IsRegular() {
		return fi.Mode().Perm()
	}
	return 0o644
}

// SyncPlaceTemp syncs f and renames it over target, leaving the
// directory's sync to the caller (SyncDirs, once for many files): after a
// power loss target holds the whole new file or what it held before,
// though possibly the latter even after SyncPlaceTemp returned.
func SyncPlaceTemp(f *os.File, target string) error {
	return commitTemp(f, target, true, false)
}

// flushCovers says whether one syncfs of the file system holding dir makes
// what was written under dir durable: where there is syncfs and that file
// system is a local one (fsflush.CoversPath). On NFS, CIFS or FUSE each
// file and directory is synced instead, as where there is no syncfs.
func flushCovers(dir string) bool { return batchSync && fsflush.CoversPath(dir) }

// SyncDirs makes the names of files placed in the directories dirs (under
// root) durable: one syncfs of root's file system where that covers it
// (flushCovers), else an fsync of each directory.
func SyncDirs(root string, dirs []string) error {
	if flushCovers(root) {
		return syncTree(root)
	}
	for _, d := range dirs {
		if err := SyncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// PlaceTemp renames f into place for a Recorder to record next, and
// leaves durability to that Recorder: before the lockfile write that
// records a path, the Recorder makes the file's bytes and name durable, in
// one flush for the whole batch (syncfs of a local file system on Linux;
// elsewhere PlaceTemp fsyncs the file and the Recorder each directory). A
// crash before that write leaves the file unrecorded, never recorded and
// lost.
func PlaceTemp(f *os.File, target string) error {
	return commitTemp(f, target, !flushCovers(filepath.Dir(target)), false)
}

// RenameTemp renames f into place with no sync at all: for rebuildable
// files (the content cache), whose readers verify what they read.
func RenameTemp(f *os.File, target string) error {
	return commitTemp(f, target, false, false)
}

func commitTemp(f *os.File, target string, syncFile, syncDir bool) error {
	return commitTempPerm(f, target, syncFile, syncDir, 0o644)
}

// commitTempPerm is commitTemp giving the file the permissions perm.
func commitTempPerm(f *os.File, target string, syncFile, syncDir bool, perm os.FileMode) error {
	name := f.Name()
	if isUnnamed, final := unnamedTemp(name); isUnnamed {
		if perm != 0o644 {
			if err := f.Chmod(perm); err != nil {
				f.Close()
				return fmt.Errorf("chmod %s: %w", target, err)
			}
			final = true
		}
		if err := commitUnnamed(f, target, syncFile, !final); err != nil {
			return err
		}
		if !syncDir {
			return nil
		}
		return SyncDir(filepath.Dir(target))
	}
	if syncFile {
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(name)
			return fmt.Errorf("sync %s: %w", target, err)
		}
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(name)
		return fmt.Errorf("chmod %s: %w", target, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("close %s: %w", target, err)
	}
	if err := rename(name, target); err != nil {
		os.Remove(name)
		return fmt.Errorf("rename into %s: %w", target, err)
	}
	if !syncDir {
		return nil
	}
	return SyncDir(filepath.Dir(target))
}

// commitUnnamed is commitTemp of an unnamed file (openUnnamedTemp): it
// links f at target where nothing is there, one system call where a
// named file takes a rename (and left a name behind on a crash); a file
// already at target is replaced by a link under a temporary name and a
// rename. Where the file cannot be named (no /proc), its bytes are
// copied into a named temporary file, which is renamed. f is closed.
func commitUnnamed(f *os.File, target string, syncFile, chmod bool) error {
	return commitUnnamedIn(f, nil, target, "", syncFile, chmod)
}

// commitUnnamedIn is commitUnnamed naming f base in d, where d is not
// nil: the directory f was made in, held open, whatever its path (target's
// directory) now leads to.
func commitUnnamedIn(f *os.File, d *unnamed.Dir, target, base string, syncFile, chmod bool) error {
	return commitUnnamedGuard(f, d, target, base, syncFile, chmod, placeGuard{})
}

// commitUnnamedGuard is commitUnnamedIn, but where something is at target
// already and g is set, g says whether it may go: an error from it
// refuses the placement (f closed, nothing written there).
// It costs nothing where nothing is at target: the link that names f
// fails when something is.
func commitUnnamedGuard(f *os.File, d *unnamed.Dir, target, base string, syncFile, chmod bool, g placeGuard) error {
	if syncFile {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync %s: %w", target, err)
		}
	}
	if chmod {
		if err := f.Chmod(0o644); err != nil {
			f.Close()
			return fmt.Errorf("chmod %s: %w", target, err)
		}
	}
	var err error
	if d != nil {
		err = d.Link(f, base)
	} else {
		err = unnamed.Link(f, target, true)
	}
	if errors.Is(err, fs.ErrExist) && g.set() {
		if oerr := g.check(); oerr != nil {
			f.Close()
			return oerr
		}
	}
	if errors.Is(err, fs.ErrExist) {
		if d != nil {
			err = replaceIn(f, d, base)
		} else {
			var name string
			if name, err = linkTemp(f, target); err == nil {
				if err = rename(name, target); err != nil {
					os.Remove(name)
				}
			}
		}
	} else if err != nil && !errors.Is(err, errDirChanged) {
		// Not named where it stands (no /proc, a sandbox that refuses
		// the link): the bytes are still in f, so copy them into a
		// named file rather than lose a paid render.
		defer f.Close()
		if g.set() {
			if _, serr := os.Lstat(target); serr == nil {
				if oerr := g.check(); oerr != nil {
					return oerr
				}
			}
		}
		return copyIntoPlace(f, target, syncFile)
	}
	if errors.Is(err, errDirChanged) {
		f.Close()
		return fmt.Errorf("place %s: %w; nothing was written there: see what replaced %s, then run the command again", target, errDirChanged, filepath.Dir(target))
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("rename into %s: %w", target, err)
	}
	// Named already: a failed close loses nothing written (the writes
	// returned), and the file is in place, so it is not an error.
	f.Close()
	return nil
}

// replaceIn names f base in d over the file there: a link under a
// temporary name in d, renamed over base.
func replaceIn(f *os.File, d *unnamed.Dir, base string) error {
	name, err := tryTempNames(base, func(name string) error { return d.Link(f, name) })
	if err != nil {
		return err
	}
	if err := d.Rename(name, base); err != nil {
		d.Remove(name)
		return err
	}
	return nil
}

// copyIntoPlace copies the bytes of the unnamed file f into a named
// temporary file beside target and renames that over target.
func copyIntoPlace(f *os.File, target string, syncFile bool) error {
	t, err := CreateTemp(target)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		AbortTemp(t)
		return fmt.Errorf("write %s: %w", target, err)
	}
	if _, err := io.Copy(t, f); err != nil {
		AbortTemp(t)
		return fmt.Errorf("write %s: %w", target, err)
	}
	return commitTemp(t, target, syncFile, false)
}

// LinkTemp gives the temporary file f, from CreateTemp or a Store's
// CreateTemp and not yet placed, the further name name (which must not
// exist: an error that is fs.ErrExist otherwise). f stays open, where it
// is. The file linked is f itself, through its descriptor, named or not:
// never the file now at f's name, which a directory moved and replaced by
// a symbolic link since f was made would find elsewhere. Only where a
// descriptor cannot be linked (not Linux) is a named f linked by its name.
// On Linux without /proc mounted no descriptor can be linked either, and
// LinkTemp fails (ENOENT, naming /proc's entry): a caller that can copy
// f's bytes instead (Cache.Keep) does.
func LinkTemp(f *os.File, name string) error {
	err := unnamed.Link(f, name, false)
	if isUnnamed, _ := unnamedTemp(f.Name()); !isUnnamed && errors.Is(err, errNoUnnamed) {
		return os.Link(f.Name(), name)
	}
	return err
}

// AbortTemp closes and removes a temporary file made by CreateTemp
// (this package's, not a Store's: a Store's file is given up by the
// Store's AbortTemp, which removes it from the directory it was made in).
// It removes the file by its path, resolved again as CreateTemp resolved
// it to make the file: only for a file made beside a path the caller
// checked (the lockfile, a note, the content cache, a pull's download),
// never for a Store's. An unnamed file vanishes when closed.
func AbortTemp(f *os.File) {
	f.Close()
	if isUnnamed, _ := unnamedTemp(f.Name()); isUnnamed {
		return
	}
	os.Remove(f.Name())
}

// WriteFileAtomic writes data to path through a temporary file, fsync and
// rename, so that path holds either its old or its new contents, never a mix.
func WriteFileAtomic(path string, data []byte) error {
	f, err := CreateTemp(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		AbortTemp(f)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return CommitTemp(f, path)
}

// IsTemp reports whether a base name is one of CreateTemp's temporary
// files.
func IsTemp(name string) bool { return strings.HasPrefix(name, tempPrefix) }

// Sentinels of the unnamed files CreateTemp makes, for errors.Is.
var (
	errNoUnnamed  = unnamed.ErrUnsupported
	errDirChanged = unnamed.ErrDirChanged
)

// openUnnamedTemp makes an unnamed file (O_TMPFILE) in the directory of
// target, with mode 0644 when final (the caller knows that the umask
// leaves it), else 0600: no name is made, and none is left if the process
// dies before commitTemp links it into place. It reports errNoUnnamed
// where the file system makes none.
func openUnnamedTemp(target string, final bool) (*os.File, error) {
	mode := uint32(0o600)
	if final {
		mode = 0o644
	}
	return unnamed.Create(filepath.Dir(target), mode, unnamedTempName(target, final))
}

// Names of unnamed temporary files (openUnnamedTemp), which no file on
// disk has: they appear in messages only, and tell commitTemp and
// AbortTemp that the file has no name to rename or remove, and whether it
// was made with its final mode (0644) or needs a chmod.
const (
	unnamedFinal   = "-unnamed"
	unnamedPrivate = "-unnamed-0600"
)

// unnamedTempName is the name of an unnamed temporary file beside target.
func unnamedTempName(target string, final bool) string {
	suffix := unnamedPrivate
	if final {
		suffix = unnamedFinal
	}
	if i := strings.LastIndexByte(target, filepath.Separator); i > 0 && i < len(target)-1 && target[:i] != "." && filepath.Clean(target[:i]) == target[:i] && target[i+1:] != "." && target[i+1:] != ".." {
		// A clean directory and a base name, as a Store's targets are:
		// Join would give the same, cleaning it all again.
		return target[:i+1] + tempPrefix + target[i+1:] + suffix
	}
	return filepath.Join(filepath.Dir(target), tempPrefix+filepath.Base(target)+suffix)
}

// unnamedTemp reports whether name is that of an unnamed temporary file
// (unnamedTempName), and whether that was made with its final mode.
func unnamedTemp(name string) (isUnnamed, final bool) {
	base := filepath.Base(name)
	if !IsTemp(base) {
		return false, false
	}
	switch {
	case strings.HasSuffix(base, unnamedPrivate):
		return true, false
	case strings.HasSuffix(base, unnamedFinal):
		return true, true
	}
	return false, false
}
