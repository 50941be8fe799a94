//go:build linux

package state

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// inChild runs the test named name again in a child process, whose
// limits the test may lower without touching the other tests, and
// reports whether this is that child (true: go on with the test's body,
// in the directory the returned string names).
func inChild(t *testing.T, name string) (string, bool) {
	t.Helper()
	const env = "PIXFORM_TEST_CHILD_DIR"
	if dir := os.Getenv(env); dir != "" {
		return dir, true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), env+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("%v\n%s", err, out)
	}
	return "", false
}

// withLimit runs f with the resource limit which lowered to cur.
func withLimit(t *testing.T, which int, cur uint64, f func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(which, &old); err != nil {
		t.Skip(err)
	}
	if err := syscall.Setrlimit(which, &syscall.Rlimit{Cur: cur, Max: old.Max}); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(which, &old)
	f()
}

// A compaction that cannot write its new pack (the disk full, a file
// size limit: compaction needs room for the live cache while the old
// packs still take theirs) gives up and keeps the packs it read: it
// never removes a render it failed to copy.
func TestCompactWriteErrorKeepsEveryRender(t *testing.T) {
	dir, child := inChild(t, "TestCompactWriteErrorKeepsEveryRender")
	if !child {
		return
	}
	ds := digests(compactRecords + 10)
	big := strings.Repeat("x", 4096)
	keepAllT(t, dir, ds, func(d string) string { return "old " + d + big })
	keepAllT(t, dir, ds, func(d string) string { return "new " + d + big })
	withLimit(t, syscall.RLIMIT_FSIZE, 1<<20, func() {
		keepAllT(t, dir, ds[:1], func(d string) string { return "again " + d }) // compacts, and fails
	})
	c := OpenCache(dir)
	for _, d := range ds[1:] {
		wantServed(t, c, d, "imagine", "new "+d+big)
	}
}

// A compaction that cannot open a pack it read (out of descriptors)
// gives up too, and keeps every pack.
func TestCompactOpenErrorKeepsEveryRender(t *testing.T) {
	dir, child := inChild(t, "TestCompactOpenErrorKeepsEveryRender")
	if !child {
		return
	}
	all := digests(1200)
	uniq, hot := all[:80], all[80:]
	for i, d := range uniq {
		keepAllT(t, dir, []string{d}, func(x string) string { return fmt.Sprintf("run %d %s", i, x) })
	}
	three := append(append(append([]string{}, hot...), hot...), hot...)
	withLimit(t, syscall.RLIMIT_NOFILE, 48, func() {
		keepAllT(t, dir, three, func(d string) string { return "hot " + d }) // compacts, and fails
	})
	c := OpenCache(dir)
	for i, d := range uniq {
		wantServed(t, c, d, "imagine", fmt.Sprintf("run %d %s", i, d))
	}
	for _, d := range hot {
		wantServed(t, c, d, "imagine", "hot "+d)
	}
}
