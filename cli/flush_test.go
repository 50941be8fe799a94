package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/objstore"
	"github.com/pixform/pixform/state"
)

// TestApplyStoreFlushFails: an apply with nothing to change, whose plan
// found the recorded images in a file:// store that this clone had not
// noted, waits for the flush that makes those objects durable before it
// reports success; when the flush fails (the store's disk reports an
// I/O error), the apply fails saying what happened, where, and what to
// do; the lockfile and the images are as they were, and the objects are
// not noted as stored, so that the next apply checks them again. An
// apply that renders an image fails the same way, after placing and
// recording it.
func TestApplyStoreFlushFails(t *testing.T) {
	dir, storeDir := t.TempDir(), t.TempDir()
	url := "file://" + storeDir
	cfg := "image \"a\" {\n  prompt = \"a lighthouse\"\n  seed   = 1\n}\nimage \"b\" {\n  prompt = \"a boat\"\n  seed   = 2\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(e *env, args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		e.ctx = context.Background()
		e.stdio = Stdio{Out: &out, Err: &errOut, Environ: []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}}
		code := e.main(append([]string{"-chdir=" + dir}, args...))
		return code, out.String() + errOut.String()
	}
	for _, args := range [][]string{{"apply", "-auto-approve", "-provider=draft"}, {"push", "-store=" + url}} {
		if code, out := run(&env{}, args...); code != ExitOK {
			t.Fatalf("pixform %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
	// A clone that has not noted the store's objects: its plan checks
	// them, and the flush that makes them durable runs as the apply goes.
	noteDir := filepath.Join(dir, state.WorkDirName, "store")
	if err := os.RemoveAll(noteDir); err != nil {
		t.Fatal(err)
	}
	before := files(t, dir)
	flushes := 0
	failing := &env{flushStore: func(ctx context.Context) error {
		flushes++
		return &objstore.Error{Kind: objstore.Other, URL: url, Err: &os.PathError{Op: "syncfs", Path: storeDir, Err: syscall.EIO}}
	}}
	apply := []string{"apply", "-auto-approve", "-provider=draft", "-store=" + url}
	code, out := run(failing, apply...)
	if code != ExitError {
		t.Errorf("apply with the store's flush failing: exit %d, want %d\n%s", code, ExitError, out)
	}
	if flushes == 0 {
		t.Fatalf("the store was never flushed: the test shows nothing\n%s", out)
	}
	for _, want := range []string{
		"not counted as stored",               // what happened
		"syncfs " + storeDir,                  // where
		"input/output error",                  // what the disk said
		"hint: ",                              // what to do
		"check the disk that holds the store", //
		"run the command again",               //
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the apply's output lacks %q:\n%s", want, out)
		}
	}
	if after := files(t, dir); !equalFiles(before, after) {
		t.Errorf("files changed by an apply with nothing to change:\nbefore %v\nafter  %v", before, after)
	}
	if _, err := os.Stat(noteDir); err == nil {
		if des, _ := os.ReadDir(noteDir); len(des) > 0 {
			for _, de := range des {
				if b, _ := os.ReadFile(filepath.Join(noteDir, de.Name())); len(b) > 0 {
					t.Errorf("objects noted as stored though their flush failed: %s holds %q", de.Name(), b)
				}
			}
		}
	}
	// An apply with an image to render: it is rendered, placed and
	// recorded, and the apply fails as above once the images are in
	// place, the lockfile recording each with its hash.
	cfgC := cfg + "image \"c\" {\n  prompt = \"a harbour\"\n  seed   = 3\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(cfgC), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = run(failing, apply...)
	if code != ExitError {
		t.Errorf("apply of a new image with the store's flush failing: exit %d, want %d\n%s", code, ExitError, out)
	}
	for _, want := range []string{"not counted as stored", "syncfs " + storeDir, "check the disk that holds the store"} {
		if !strings.Contains(out, want) {
			t.Errorf("the apply's output lacks %q:\n%s", want, out)
		}
	}
	lock, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(lock.Images) != 3 {
		t.Errorf("the lockfile records %d images, want 3", len(lock.Images))
	}
	for addr, e := range lock.Images {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if sum := sha256.Sum256(b); err != nil || hex.EncodeToString(sum[:]) != e.SHA256 {
			t.Errorf("%s: %s is not the recorded image (%v)", addr, e.Path, err)
		}
	}
	// The disk well again, the next apply checks them, and notes them.
	if code, out := run(&env{}, apply...); code != ExitOK {
		t.Errorf("apply after the flush failure: exit %d\n%s", code, out)
	}
	des, _ := os.ReadDir(noteDir)
	if len(des) != 1 {
		t.Fatalf("%d notes of the store after a good apply, want 1", len(des))
	}
	// Its first line ties it to this checkout; the objects follow.
	if b, _ := os.ReadFile(filepath.Join(noteDir, des[0].Name())); !strings.HasPrefix(string(b), "pixform uploaded ") || strings.Count(string(b), "\n") != 1+3 {
		t.Errorf("the note after a good apply holds %q, want the three objects", b)
	}
}

// files maps each file under dir, but .pixform/, to its bytes.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == state.WorkDirName {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			m[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func equalFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestPlanCancelledWhileCheckingLocalStore: a plan cancelled (a second
// interrupt) while it asks a local store about its objects, a push while
// it pushes and a pull while it pulls, end saying which store they stopped
// at, and what to do.
func TestPlanCancelledWhileCheckingLocalStore(t *testing.T) {
	dir, storeDir := t.TempDir(), t.TempDir()
	url := "file://" + storeDir
	cfg := "image \"a\" {\n  prompt = \"a lighthouse\"\n  seed   = 1\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		e := &env{ctx: ctx, stdio: Stdio{Out: &out, Err: &errOut, Environ: []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}}}
		code := e.main(append([]string{"-chdir=" + dir, "-no-color"}, args...))
		return code, out.String() + errOut.String()
	}
	for _, args := range [][]string{{"apply", "-auto-approve", "-provider=draft"}, {"push", "-store=" + url}} {
		if code, out := run(context.Background(), args...); code != ExitOK {
			t.Fatalf("pixform %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
	// A clone that has not noted the store's objects asks about them.
	if err := os.RemoveAll(filepath.Join(dir, state.WorkDirName, "store")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(cmd, doing string) {
		t.Helper()
		code, out := run(ctx, cmd, "-store="+url)
		if code != ExitError {
			t.Errorf("cancelled %s: exit %d, want %d\n%s", cmd, code, ExitError, out)
		}
		for _, want := range []string{doing + url, "interrupted", "run the command again"} {
			if !strings.Contains(out, want) {
				t.Errorf("cancelled %s's output lacks %q:\n%s", cmd, want, out)
			}
		}
	}
	check("plan", "stopped asking the store ")
	// A push to a store that holds none of the images yet stops at the
	// store's lock, the store's first request.
	url = "file://" + t.TempDir()
	check("push", "store ")
	url = "file://" + storeDir
	// A clone without the image pulls it.
	if err := os.RemoveAll(filepath.Join(dir, "images")); err != nil {
		t.Fatal(err)
	}
	check("pull", "stopped pulling from the store ")
}

// TestApplyRefusesUnsendableTokenFirst: a token that cannot be sent in a
// header is refused before the run begins, not as one failed request an
// image, and nothing is written.
func TestApplyRefusesUnsendableTokenFirst(t *testing.T) {
	dir := t.TempDir()
	cfg := "image \"a\" {\n  prompt = \"a lighthouse\"\n  seed   = 1\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	e := &env{ctx: context.Background(), stdio: Stdio{Out: &out, Err: &errOut, Environ: []string{
		"HOME=" + dir, "IMAGINE_API_URL=http://127.0.0.1:9/x", "IMAGINE_API_TOKEN=tok-secret\nmore",
	}}}
	code := e.main([]string{"-chdir=" + dir, "-no-color", "apply", "-auto-approve"})
	all := out.String() + errOut.String()
	if code != ExitError {
		t.Errorf("exit %d, want %d\n%s", code, ExitError, all)
	}
	for _, want := range []string{"IMAGINE_API_TOKEN cannot be sent in the Authorization header: it contains a line break", "nothing was changed"} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q:\n%s", want, all)
		}
	}
	for _, not := range []string{"tok-secret", "request sent", "failed"} {
		if strings.Contains(all, not) {
			t.Errorf("output holds %q:\n%s", not, all)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, state.LockFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lockfile: %v, want none", err)
	}
}

// TestPlanWritesOverAFileLeftToDelete: a file an interrupted apply noted
// for removal (its entry gone, its bytes the noted ones) is pixform's, not
// someone's: an image declared at its path replaces it, and is not
// refused while the same apply deletes the file.
func TestPlanWritesOverAFileLeftToDelete(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		e := &env{ctx: context.Background(), stdio: Stdio{Out: &out, Err: &errOut, Environ: []string{"HOME=" + dir}}}
		code := e.main(append([]string{"-chdir=" + dir, "-no-color"}, args...))
		return code, out.String() + errOut.String()
	}
	write := func(cfg string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("image \"old\" {\n  prompt = \"a lighthouse\"\n  seed   = 1\n  path   = \"p.png\"\n}\n")
	if code, out := run("apply", "-auto-approve", "-provider=draft"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	// A kill between the entry's removal and the file's: the note is
	// made, the entry gone, the file left.
	lock, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	old := lock.Images[addrs.MustParse("image.old")]
	if err := state.IntendRemovals(dir, []state.Removal{{Path: old.Path, SHA256: old.SHA256}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, state.LockFileName), []byte("{\n  \"version\": 1,\n  \"images\": {}\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("image \"new\" {\n  prompt = \"a harbour\"\n  seed   = 2\n  path   = \"p.png\"\n}\n")
	code, out := run("plan", "-provider=draft")
	if code != ExitOK || strings.Contains(out, "would overwrite") || !strings.Contains(out, "interrupted apply left at p.png") {
		t.Errorf("plan: exit %d, want a create that replaces what the interrupted apply left\n%s", code, out)
	}
	if code, out := run("apply", "-auto-approve", "-provider=draft"); code != ExitOK || strings.Contains(out, "refuse") {
		t.Errorf("apply: exit %d\n%s", code, out)
	}
	if lock, err := state.ReadLock(filepath.Join(dir, state.LockFileName)); err != nil || len(lock.Images) != 1 {
		t.Errorf("lockfile after apply: %v, %v; want image.new only", lock, err)
	}
}
