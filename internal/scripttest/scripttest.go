package scripttest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/jpeg" // imgfmt decodes what pixform writes
	_ "image/png"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pixform/pixform/internal/s3test"
	"github.com/pixform/pixform/state"
)

// testToken is the bearer token the fake API accepts in scripts. Scripts
// check that it never appears in any output or file.
const testToken = "pxf-secret-TOKEN-8d1c0a"

// Cmds are the custom commands of the test scripts, for testscript.Params.Cmds.
func Cmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"lockcheck": cmdLockcheck,
		"imgfmt":    cmdImgfmt,
		"notoken":   cmdNotoken,
		"s3server":  s3test.Cmd(),
	}
	for _, more := range []map[string]func(ts *testscript.TestScript, neg bool, args []string){fakeCmds(), watchCmds(), applyCmds(), teamCmds(), trustCmds(), deriveCmds(), reviewCmds(), storeCmds()} {
		for k, v := range more {
			cmds[k] = v
		}
	}
	return cmds
}

// cmdLockcheck checks the guarantee every script relies on: the lockfile
// parses, and every entry's file exists with the recorded hash and size.
// "lockcheck N" also checks that it records N images.
func cmdLockcheck(ts *testscript.TestScript, neg bool, args []string) {
	dir := ts.Getenv("WORK")
	if len(args) > 0 && args[0] != "" && args[0][0] == '-' {
		ts.Fatalf("usage: lockcheck [N] [DIR]")
	}
	if len(args) > 1 {
		dir = ts.MkAbs(args[1])
	}
	lock, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("lockfile: %v", err)
	}
	var problems []string
	for addr, e := range lock.Images {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", addr, err))
			continue
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != e.SHA256 || int64(len(b)) != e.Bytes {
			problems = append(problems, fmt.Sprintf("%s: %s does not have the recorded hash or size", addr, e.Path))
		}
	}
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil {
			ts.Fatalf("lockcheck: bad count %q", args[0])
		}
		if len(lock.Images) != n {
			problems = append(problems, fmt.Sprintf("lockfile records %d images, want %d", len(lock.Images), n))
		}
	}
	if neg {
		if len(problems) == 0 {
			ts.Fatalf("lockcheck passed unexpectedly")
		}
		return
	}
	for _, p := range problems {
		ts.Logf("%s", p)
	}
	if len(problems) > 0 {
		ts.Fatalf("lockcheck: %d problems", len(problems))
	}
}

// cmdImgfmt checks a file's image format and, optionally, its dimensions:
// "imgfmt FILE png|jpeg [W H]". It decodes the whole image.
func cmdImgfmt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 && len(args) != 4 {
		ts.Fatalf("usage: imgfmt FILE png|jpeg [W H]")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	img, format, err := image.Decode(f)
	ok := err == nil && format == args[1]
	if ok && len(args) == 4 {
		w, _ := strconv.Atoi(args[2])
		h, _ := strconv.Atoi(args[3])
		ok = img.Bounds().Dx() == w && img.Bounds().Dy() == h
	}
	if ok == neg {
		ts.Fatalf("imgfmt %v: decoded %q, err %v", args, format, err)
	}
}

// cmdNotoken fails if the test token appears in any file under the work
// directory (the lockfile, plans, logs the script saved).
func cmdNotoken(ts *testscript.TestScript, neg bool, args []string) {
	root := ts.Getenv("WORK")
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<20 {
			return err // a named pipe a script made would block the read
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(testToken)) {
			ts.Fatalf("the API token appears in %s", p)
		}
		return nil
	})
	ts.Check(err)
}
