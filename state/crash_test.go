package state

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
)

// crashHelperEnv makes the test binary act as a series of applies, through
// the real Store, until it is killed.
const crashHelperEnv = "PIXFORM_STATE_CRASH_HELPER"

// crashWorkload is what the child does in iteration k, as two applies.
// Apply A deletes b[k-2] (at moved/k-2.png), creates a[k] at gen/k.png and
// c[k] at cgen/k.png, and replaces a[k-1] in place (at iteration 0, it
// creates s[0] and s[1] at swap/x.png and swap/y.png). Apply B moves
// a[k-1] to address b[k-1] at moved/k-1.png and c[k-1] to d[k-1] at
// cmoved/k-1.png (one lockfile write for both), and swaps s[0] and s[1]
// (a cycle: one is staged). The paths it writes are those crashWrites
// lists.
type crashWorkload struct {
	s       Store
	ctx     context.Context
	dir     string
	entries map[string]Entry // the model: what the child has recorded
	gen     int
}

// crashWritten lists the paths that iteration k writes: after a kill in
// iteration k, only these may hold a file that no entry records (the next
// apply writes them again).
func crashWritten(k int) []string {
	return append(crashWrites(k, "A"), crashWrites(k, "B")...)
}

// crashWrites lists the paths that apply A (renders) or B (moves) of
// iteration k writes, as the executor hands them to Begin.
func crashWrites(k int, apply string) []string {
	if apply == "B" { // the moves
		w := []string{"swap/x.png", "swap/y.png"}
		if k > 0 {
			w = append(w, fmt.Sprintf("moved/%d.png", k-1), fmt.Sprintf("cmoved/%d.png", k-1))
		}
		return w
	}
	w := []string{fmt.Sprintf("gen/%d.png", k), fmt.Sprintf("cgen/%d.png", k)}
	if k == 0 {
		return append(w, "swap/x.png", "swap/y.png")
	}
	return append(w, fmt.Sprintf("gen/%d.png", k-1))
}

// image writes a new temporary file for p and returns it with its entry.
func (w *crashWorkload) image(t *testing.T, p string) (*os.File, Entry) {
	w.gen++
	content := fmt.Sprintf("%s generation %d", p, w.gen)
	tmp, err := CreateTemp(filepath.Join(w.dir, filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.WriteString(content); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	e := entryN(w.gen)
	e.Path, e.SHA256, e.Bytes = p, hex.EncodeToString(sum[:]), int64(len(content))
	return tmp, e
}

func (w *crashWorkload) commit(t *testing.T, addr, p string, prior bool) {
	tmp, e := w.image(t, p)
	c := Commit{Addr: addrs.MustParse(addr), Entry: e, Temp: tmp}
	if old, ok := w.entries[addr]; ok && prior {
		c.Prior = &Prior{Addr: addrs.MustParse(addr), Entry: old}
	}
	if err := w.s.Commit(w.ctx, c); err != nil {
		t.Fatal(err)
	}
	w.entries[addr] = e
}

func (w *crashWorkload) iteration(t *testing.T, k int) {
	fmt.Println("begin", k)
	a := func(i int) string { return fmt.Sprintf("image.a[%d]", i) }
	b := func(i int) string { return fmt.Sprintf("image.b[%d]", i) }
	c := func(i int) string { return fmt.Sprintf("image.c[%d]", i) }
	d := func(i int) string { return fmt.Sprintf("image.d[%d]", i) }
	// Apply A.
	var rs []Removal
	if e, ok := w.entries[b(k-2)]; ok {
		rs = append(rs, Removal{Path: e.Path, SHA256: e.SHA256})
	}
	if err := w.s.Begin(w.ctx, crashWrites(k, "A"), rs); err != nil {
		t.Fatal(err)
	}
	if e, ok := w.entries[b(k-2)]; ok {
		if _, err := w.s.Delete(w.ctx, Deletion{Addr: addrs.MustParse(b(k - 2)), Entry: &e}); err != nil {
			t.Fatal(err)
		}
		delete(w.entries, b(k-2))
	}
	w.commit(t, a(k), fmt.Sprintf("gen/%d.png", k), false)
	w.commit(t, c(k), fmt.Sprintf("cgen/%d.png", k), false)
	if k == 0 {
		w.commit(t, "image.s[0]", "swap/x.png", false)
		w.commit(t, "image.s[1]", "swap/y.png", false)
	} else {
		w.commit(t, a(k-1), fmt.Sprintf("gen/%d.png", k-1), true)
	}
	if err := w.s.End(w.ctx); err != nil {
		t.Fatal(err)
	}
	// Apply B.
	var moves []Move
	if e, ok := w.entries[a(k-1)]; ok {
		moves = append(moves, Move{From: Prior{Addr: addrs.MustParse(a(k - 1)), Entry: e}, To: addrs.MustParse(b(k - 1)), Path: fmt.Sprintf("moved/%d.png", k-1)})
		rs = []Removal{{Path: e.Path, SHA256: e.SHA256}}
	} else {
		rs = nil
	}
	// A second move to a path no entry records: recorded in the same
	// lockfile write as the first.
	if e, ok := w.entries[c(k-1)]; ok {
		moves = append(moves, Move{From: Prior{Addr: addrs.MustParse(c(k - 1)), Entry: e}, To: addrs.MustParse(d(k - 1)), Path: fmt.Sprintf("cmoved/%d.png", k-1)})
		rs = append(rs, Removal{Path: e.Path, SHA256: e.SHA256})
	}
	s0, s1 := w.entries["image.s[0]"], w.entries["image.s[1]"]
	moves = append(moves,
		Move{From: Prior{Addr: addrs.MustParse("image.s[0]"), Entry: s0}, To: addrs.MustParse("image.s[0]"), Path: s1.Path},
		Move{From: Prior{Addr: addrs.MustParse("image.s[1]"), Entry: s1}, To: addrs.MustParse("image.s[1]"), Path: s0.Path})
	if err := w.s.Begin(w.ctx, crashWrites(k, "B"), rs); err != nil {
		t.Fatal(err)
	}
	w.s.Move(w.ctx, moves, func(i int, err error, skipped bool) {
		if err != nil || skipped {
			t.Fatalf("move %d: %v (skipped %v)", i, err, skipped)
		}
		m := moves[i]
		e := m.From.Entry
		e.Path = m.Path
		if m.From.Addr != m.To {
			delete(w.entries, m.From.Addr.String())
		}
		w.entries[m.To.String()] = e
	})
	if err := w.s.End(w.ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCrashHelper is the child of TestKillDuringCommits; it does nothing
// in a normal run.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashHelperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	w := &crashWorkload{s: OpenStore(dir, NewLock(), nil), ctx: context.Background(), dir: dir, entries: map[string]Entry{}}
	for k := 0; ; k++ {
		w.iteration(t, k)
	}
}

// TestKillDuringCommits kills (SIGKILL) a process that commits, replaces,
// deletes and moves images through the real Store, at random moments, and
// checks the guarantees: the lockfile parses, every entry's file exists
// with the recorded hash, and once the next run has opened the Store no
// file is left that no entry records, except at a path that the
// interrupted iteration writes (which the next apply writes again).
func TestKillDuringCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	for run := range 16 {
		after := 1 + rng.IntN(6)
		wait := time.Duration(rng.IntN(400_000)) * time.Microsecond
		t.Run(fmt.Sprintf("run %d: after begin %d, %v", run, after, wait), func(t *testing.T) {
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
			last := -1
			begun := func() bool {
				if !sc.Scan() {
					return false
				}
				if k, ok := strings.CutPrefix(sc.Text(), "begin "); ok {
					last, _ = strconv.Atoi(k)
				}
				return true
			}
			for last < after && begun() {
			}
			time.Sleep(wait)
			cmd.Process.Kill()
			for begun() { // what the child said before it died
			}
			cmd.Wait()
			if last < after {
				t.Fatalf("the child stopped at iteration %d by itself; its output ends %q", last, sc.Text())
			}
			checkAfterCrash(t, dir, last)
		})
	}
}

// checkAfterCrash checks dir after a kill in iteration k.
func checkAfterCrash(t *testing.T, dir string, k int) {
	t.Helper()
	l, err := ReadLock(filepath.Join(dir, LockFileName))
	if err != nil {
		t.Fatalf("lockfile after kill -9: %v", err)
	}
	if len(l.Images) == 0 {
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
	// The next run opens the Store on the plan's paths.
	paths := crashWritten(k)
	for _, e := range l.Images {
		paths = append(paths, e.Path)
	}
	s := OpenStore(dir, l, nil)
	s.RemoveStaleTemps(paths)
	if err := s.Begin(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{LockFileName: true}
	for _, p := range crashWritten(k) {
		allowed[p] = true
	}
	for _, e := range l.Images {
		allowed[e.Path] = true
	}
	var orphans []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == WorkDirName {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(dir, p)
		if !d.IsDir() && !allowed[filepath.ToSlash(rel)] {
			orphans = append(orphans, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(orphans)
	if len(orphans) > 0 {
		t.Errorf("after a kill in iteration %d and the next open, files that no entry records: %v (lockfile: %v)", k, orphans, l.Images)
	}
}
