package safepath

import (
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestLeavesSameAsLstat: Stats.Leaves answers every path as Leaf and
// os.Lstat do (files, directories, symbolic links, a FIFO, a socket, the
// set-id and sticky bits, missing paths, a name under a file, a directory
// reached through a symbolic link, paths alone in their directory and in
// runs), and Stats.Lstat then gives the FileInfo fields that compact
// keeps of os.Lstat's, from the first lstat.
func TestLeavesSameAsLstat(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"a", "a/b", "c", "locked"} {
		must(os.Mkdir(filepath.Join(root, d), 0o755))
	}
	var ps []string
	for _, f := range []string{"a/1.png", "a/2.png", "a/3.png", "a/b/4.png", "c/5.png", "top.png", "a/b/6.png", "a/b/7.png", "locked/8.png"} {
		must(os.WriteFile(filepath.Join(root, f), []byte(f), 0o644))
		ps = append(ps, f)
	}
	must(os.Chmod(filepath.Join(root, "a/2.png"), 0o644|os.ModeSetuid|os.ModeSetgid|os.ModeSticky))
	must(os.Symlink("1.png", filepath.Join(root, "a/link.png")))
	must(os.Symlink("a", filepath.Join(root, "dirlink")))
	must(mkfifo(t, filepath.Join(root, "a/fifo"), 0o600))
	if runtime.GOOS != "windows" {
		sock := filepath.Join(root, "a/sock")
		if l, err := net.Listen("unix", sock); err == nil {
			defer l.Close()
		}
	}
	ps = append(ps, "a/link.png", "a/fifo", "a/sock", "a/b", "a/missing.png", "missing/x.png", "missing/y.png",
		"a/1.png/under.png", "a/1.png/under2.png", "dirlink/1.png", "dirlink/3.png", "dirlink",
		"a/./1.png", "a//1.png", "a/../top.png", "/abs.png", "a/1.png", "a/1.png")
	if os.Geteuid() != 0 {
		// Not searchable: its names cannot be looked at (root may).
		must(os.Chmod(filepath.Join(root, "locked"), 0o600))
		defer os.Chmod(filepath.Join(root, "locked"), 0o755)
		ps = append(ps, "locked/9.png")
	}
	// In every order a batch may see them: whole, reversed, one at a time,
	// directories alternating.
	var alternating []string
	for i := range (len(ps) + 1) / 2 {
		alternating = append(alternating, ps[i])
		if j := len(ps) - 1 - i; j > i {
			alternating = append(alternating, ps[j])
		}
	}
	orders := [][]string{ps, reversed(ps), alternating}
	for _, order := range orders {
		s := NewStats(root)
		exists := make([]bool, len(order))
		errs := make([]error, len(order))
		s.Leaves("ignored", order, exists, errs)
		for i, p := range order {
			wantOK, wantErr := Leaf(root, p)
			if exists[i] != wantOK || (errs[i] == nil) != (wantErr == nil) || errs[i] != nil && errs[i].Error() != wantErr.Error() {
				t.Errorf("%s: Leaves = %v, %v; Leaf = %v, %v", p, exists[i], errs[i], wantOK, wantErr)
			}
			fi, err := s.Lstat("", p)
			ofi, oerr := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
			if (err == nil) != (oerr == nil) || err != nil && err.Error() != oerr.Error() {
				t.Errorf("%s: Lstat error %v, os.Lstat %v", p, err, oerr)
				continue
			}
			if err != nil {
				continue
			}
			want := compact(ofi)
			if got := fi.(*statInfo); *got != *want {
				t.Errorf("%s: Lstat = %+v, os.Lstat gives %+v", p, *got, *want)
			}
		}
	}
	// Leaves through a nil Stats is Leaf under the root it is given.
	exists := make([]bool, len(ps))
	errs := make([]error, len(ps))
	(*Stats)(nil).Leaves(root, ps, exists, errs)
	for i, p := range ps {
		if wantOK, wantErr := Leaf(root, p); exists[i] != wantOK || (errs[i] == nil) != (wantErr == nil) {
			t.Errorf("nil Stats: %s: %v, %v; Leaf = %v, %v", p, exists[i], errs[i], wantOK, wantErr)
		}
	}
}

// TestLeavesFirstLstatStands: what a Stats looked at before Leaves, and
// what Leaves looked at, is not looked at again within the run.
func TestLeavesFirstLstatStands(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, f := range []string{"d/a", "d/b", "d/c"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, f)
	}
	s := NewStats(root)
	if ok, err := s.Leaf("", "d/a"); !ok || err != nil {
		t.Fatalf("d/a: %v, %v", ok, err)
	}
	if err := os.Remove(filepath.Join(root, "d/a")); err != nil {
		t.Fatal(err)
	}
	exists := make([]bool, len(ps))
	errs := make([]error, len(ps))
	s.Leaves("", ps, exists, errs)
	if !exists[0] || !exists[1] || !exists[2] {
		t.Errorf("Leaves = %v, want every file (d/a from the first lstat)", exists)
	}
	if err := os.Remove(filepath.Join(root, "d/b")); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Leaf("", "d/b"); !ok {
		t.Error("d/b was looked at again after Leaves")
	}
}

func reversed(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[len(ps)-1-i] = p
	}
	return out
}

// TestWarm: Warm looks at the paths it is given as Leaves would, ahead:
// what it found stands for Leaves and Leaf; it leaves alone a path
// fs.ValidPath refuses, and does nothing once Leaves has been called.
func TestWarm(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"d/a", "d/b", "top", "late"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := NewStats(root)
	s.Warm([]string{"d/a", "d/b", "d/missing", "top", "../escape", "/abs", "", ".", "d//a", "d/a"})
	for _, p := range []string{"../escape", "/abs", "", ".", "d//a"} {
		if _, ok := s.m[p]; ok {
			t.Errorf("Warm looked at %q", p)
		}
	}
	if len(s.m) != 4 {
		t.Errorf("Warm kept %d lstats, want 4 (d/a, d/b, d/missing, top)", len(s.m))
	}
	for _, f := range []string{"d/a", "top"} {
		if err := os.Remove(filepath.Join(root, f)); err != nil {
			t.Fatal(err)
		}
	}
	ps := []string{"d/a", "d/b", "d/missing", "top"}
	exists := make([]bool, len(ps))
	errs := make([]error, len(ps))
	s.Leaves("", ps, exists, errs)
	if want := []bool{true, true, false, true}; !slices.Equal(exists, want) {
		t.Errorf("Leaves after Warm = %v, want %v (what Warm found)", exists, want)
	}
	for i, p := range ps {
		if errs[i] != nil {
			t.Errorf("%s: %v", p, errs[i])
		}
	}
	// Once Leaves has been called, Warm looks at nothing.
	s.Warm([]string{"late"})
	if _, ok := s.m["late"]; ok {
		t.Error("Warm looked at a path after Leaves")
	}
	var nilStats *Stats
	nilStats.Warm(ps) // does nothing
}

// TestPlainRel: a path plainRel accepts is one path.Clean leaves as it is
// and that does not escape; the others go the long way.
func TestPlainRel(t *testing.T) {
	for _, p := range []string{"a", "a/b.png", "a//b", "a/./b", "a/../b", "../a", "..", ".", "a/", "a/.", "a/..", ".a/b..", "a/...", "...", "a b/c"} {
		clean := path.Clean(p) == p && p != ".." && !strings.HasPrefix(p, "../")
		if got := plainRel(p); got && !clean {
			t.Errorf("plainRel(%q) = true; Clean gives %q", p, path.Clean(p))
		}
		if got, want := plainRel(p), !strings.Contains("/"+p+"/", "//") && !strings.Contains("/"+p+"/", "/./") && !strings.Contains("/"+p+"/", "/../"); got != want {
			t.Errorf("plainRel(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzPlainRel(f *testing.F) {
	for _, p := range []string{"a/b.png", "a//b", "../a", "a/..", "..a/b"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if p == "" || p[0] == '/' {
			return
		}
		if plainRel(p) && (path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../")) {
			t.Fatalf("plainRel(%q), but Clean gives %q", p, path.Clean(p))
		}
		if reasonSlow(p) != reason(p) {
			t.Fatalf("reason(%q) = %v, the long way %v", p, reason(p), reasonSlow(p))
		}
	})
}

// reasonSlow is reason without plainRel's shortcut.
func reasonSlow(p string) Reason {
	switch {
	case p == "" || p == ".":
		return Empty
	case strings.IndexByte(p, 0) >= 0:
		return NUL
	case strings.IndexByte(p, '\\') >= 0:
		return Backslash
	case p[0] == '/' || len(p) >= 2 && p[1] == ':':
		return Absolute
	case path.Clean(p) != p:
		return NotClean
	case p == ".." || strings.HasPrefix(p, "../"):
		return Escapes
	}
	if r := reason(p); r != NotClean && r != Escapes {
		return r
	}
	return 0
}

// BenchmarkLeavesAlternating: the lstats of 1,000 files in 10
// directories, the paths alternating between them, through a fresh Stats.
func BenchmarkLeavesAlternating(b *testing.B) {
	root := b.TempDir()
	var ps []string
	for d := range 10 {
		if err := os.MkdirAll(filepath.Join(root, "assets", fmt.Sprintf("set%d", d)), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		p := fmt.Sprintf("assets/set%d/img%d.png", i%10, i)
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(p)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	exists := make([]bool, len(ps))
	errs := make([]error, len(ps))
	for b.Loop() {
		NewStats(root).Leaves(root, ps, exists, errs)
	}
}

// TestWarmFollowsNoLink: the stat cache, which Warm looks ahead at, may
// name paths under a directory that is now a symbolic link (to a
// directory outside, or inside): Warm makes no lstat through it, at any
// depth, and keeps nothing for such a path, so that once the link is
// replaced by a real directory Leaves answers from that directory, not
// from where the link led.
func TestWarmFollowsNoLink(t *testing.T) {
	top := t.TempDir()
	root, outside := filepath.Join(top, "work"), filepath.Join(top, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "real/deep")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(outside, "x.png"), filepath.Join(root, "real/deep/x.png"), filepath.Join(root, "real/y.png")} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"linked":        outside,                          // to a directory outside
		"real/sub":      outside,                          // the same, one level down
		"inner":         filepath.Join(root, "real"),      // to a directory inside
		"real/deeplink": filepath.Join(root, "real/deep"), // inside, one level down
	}
	for at, to := range links {
		if err := os.Symlink(to, filepath.Join(root, at)); err != nil {
			t.Fatal(err)
		}
	}
	through := []string{"linked/x.png", "real/sub/x.png", "inner/deep/x.png", "inner/y.png", "real/deeplink/x.png"}
	s := NewStats(root)
	s.Warm(append(slices.Clone(through), "real/y.png", "linked"))
	for _, p := range through {
		if r, ok := s.m[p]; ok {
			t.Errorf("Warm kept an lstat of %s, made through a symbolic link: %v, %v", p, r.fi, r.err)
		}
	}
	for _, p := range []string{"real/y.png", "linked"} {
		if _, ok := s.m[p]; !ok {
			t.Errorf("Warm did not look at %s, which no link leads to", p)
		}
	}
	// The links replaced by real, empty directories: Leaves finds no
	// file there.
	for at := range links {
		if err := os.Remove(filepath.Join(root, at)); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(root, at), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exists := make([]bool, len(through))
	errs := make([]error, len(through))
	s.Leaves(root, through, exists, errs)
	for i, p := range through {
		if exists[i] || errs[i] != nil {
			t.Errorf("Leaves(%s) = %v, %v; want false, nil (what is there now, not what Warm saw through the link)", p, exists[i], errs[i])
		}
	}
}
