package state

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// crashHelperEnv makes the test binary act as an apply that records images
// until it is killed.
const crashHelperEnv = "PIXFORM_STATE_CRASH_HELPER"

// TestCrashHelper is the child of TestKillDuringRecording; it does nothing
// in a normal run.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashHelperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	r := NewRecorder(filepath.Join(dir, LockFileName), NewLock())
	// step reports progress; the parent kills after a chosen number of
	// steps, so the kill lands right after a chosen step.
	step := func(what string, i int) { fmt.Fprintln(os.Stdout, what, i) }
	for i := 0; ; i++ {
		// Create 50 images, then replace them again and again. Each image
		// reaches disk atomically before the lockfile records it; a
		// replace first drops the old entry, so that no moment has the
		// lockfile naming a hash the file no longer has.
		addr := fmt.Sprintf("image.img[%d]", i%50)
		if i >= 50 {
			if err := r.Delete(addr); err != nil {
				t.Fatal(err)
			}
		}
		step("deleted", i)
		e := entryN(i % 50)
		content := fmt.Sprintf("image %d generation %d", i%50, i)
		if err := WriteFileAtomic(filepath.Join(dir, e.Path), []byte(content)); err != nil {
			t.Fatal(err)
		}
		step("written", i)
		sum := sha256.Sum256([]byte(content))
		e.SHA256, e.Bytes = hex.EncodeToString(sum[:]), int64(len(content))
		if err := r.Set(addr, e); err != nil {
			t.Fatal(err)
		}
		step("recorded", i)
	}
}

// TestKillDuringRecording kills (SIGKILL) a process in the middle of
// recording images, at several points, and checks the guarantee: the
// lockfile parses and every entry's file exists with the recorded hash.
func TestKillDuringRecording(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	kills := map[string]int{
		"after first delete":     1,
		"after first write":      2,
		"during creates":         61,
		"after a replace delete": 3*60 + 1,
		"after a replace write":  3*60 + 2,
		"after a replace record": 3*60 + 3,
	}
	for name, after := range kills {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
			cmd.Env = append(os.Environ(), crashHelperEnv+"="+dir)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			for n := 0; n < after && sc.Scan(); n++ {
			}
			cmd.Process.Kill()
			cmd.Wait()

			l, err := ReadLock(filepath.Join(dir, LockFileName))
			if err != nil {
				t.Fatalf("lockfile after kill -9: %v", err)
			}
			if after > 3 && len(l.Images) == 0 {
				t.Fatal("nothing recorded before the kill")
			}
			facts, err := Refresh(dir, l, true)
			if err != nil {
				t.Fatal(err)
			}
			for a, e := range l.Images {
				if f := facts[e.Path]; !f.Exists || f.SHA256 != e.SHA256 {
					t.Errorf("%s: file %s is %+v, lockfile says %s", a, e.Path, f, e.SHA256)
				}
			}
		})
	}
}
