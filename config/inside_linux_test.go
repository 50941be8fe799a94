package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mkChain makes a chain of real directories under dir, each named by up
// to 255 bytes, whose relative name is n bytes long, made through
// descriptors since its full path is longer than a path may be, and
// returns that name and a descriptor of its last directory.
func mkChain(t *testing.T, dir string, n int) (string, int) {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for left := n; left > 0; {
		l := min(left, 200)
		if left-l == 1 {
			l--
		}
		comp := strings.Repeat("d", l)
		parts = append(parts, comp)
		left -= l
		if left > 0 {
			left-- // the separator
		}
		if err := unix.Mkdirat(fd, comp, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, comp, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		fd = next
	}
	t.Cleanup(func() { unix.Close(fd) })
	return strings.Join(parts, "/"), fd
}

// TestLoadVarFileThroughLongLink: a -var-file reached through a link to a
// directory so deep that its resolved path is longer than a path may be
// (the name given still opens) is checked and read as one: a link there
// that leads outside is refused, never read by its unresolved name
// through every link again (the environment, token included, was
// printed).
func TestLoadVarFileThroughLongLink(t *testing.T) {
	const main = "variable \"theme\" {\n  default = \"none\"\n}\nimage \"a\" {\n  prompt = \"a fox, ${var.theme}\"\n}\n"
	outside := filepath.Join(t.TempDir(), "v.hcl")
	if err := os.WriteFile(outside, []byte("theme = \"outside\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		target string // of prod.hcl at the chain's end
		want   []string
	}{
		{"link outside at the end", outside, []string{"Variable file links outside the working directory", "a symbolic link to " + outside}},
		{"file at the end", "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{"main.pix.hcl": main})
			// The link's target resolved is a path of 4093 bytes, which
			// lstat takes; with "/prod.hcl" after it, it is too long.
			root, err := filepath.EvalSymlinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			chain, fd := mkChain(t, dir, 4093-len(root)-1)
			if tt.target != "" {
				if err := unix.Symlinkat(tt.target, fd, "prod.hcl"); err != nil {
					t.Fatal(err)
				}
			} else {
				f, err := unix.Openat(fd, "prod.hcl", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				unix.Write(f, []byte("theme = \"deep\"\n"))
				unix.Close(f)
			}
			if err := os.Symlink(chain, filepath.Join(dir, "env")); err != nil {
				t.Fatal(err)
			}
			cfg, diags := Load(dir, LoadOptions{VarFiles: []string{"env/prod.hcl"}})
			got := render(diags)
			if strings.Contains(got, "outside\"") || len(cfg.Images) == 1 && strings.Contains(cfg.Images[0].Prompt, "outside") {
				t.Fatalf("the file outside was read:%s", got)
			}
			if tt.want == nil {
				if diags.HasErrors() || len(cfg.Images) != 1 || cfg.Images[0].Prompt != "a fox, deep" {
					t.Errorf("the deep file was not read:%s", got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnostics lack %q:%s", w, got)
				}
			}
		})
	}
}

// TestOpenWithoutOpenat2: where the kernel has no openat2 (or refuses
// it), the walk one component at a time checks and reads the same.
func TestOpenWithoutOpenat2(t *testing.T) {
	useOpenat2 = false
	defer func() { useOpenat2 = true }()
	t.Run("long link", TestLoadVarFileThroughLongLink)
	t.Run("through link", TestLoadVarFileThroughLink)
	t.Run("too large", TestLoadFileTooLarge)
}

// TestSourceFileReplace: fmt's write goes over the file read, in the
// directory that holds it, keeping its permissions, through a link inside
// to it too; a file put at its name since it was read is kept, and the
// write refused.
func TestSourceFileReplace(t *testing.T) {
	dir := writeDir(t, map[string]string{"parts/a.hcl": "x=1\n", "b.pix.hcl": "y=1\n"})
	if err := os.Chmod(filepath.Join(dir, "parts/a.hcl"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("parts/a.hcl", filepath.Join(dir, "a.pix.hcl")); err != nil {
		t.Fatal(err)
	}
	sf, err := OpenSource(dir, "a.pix.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if string(sf.Bytes) != "x=1\n" {
		t.Fatalf("read %q", sf.Bytes)
	}
	if err := sf.Replace([]byte("x = 1\n")); err != nil {
		t.Fatal(err)
	}
	sf.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, "parts/a.hcl")); string(b) != "x = 1\n" {
		t.Errorf("parts/a.hcl is %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "a.pix.hcl")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "parts/a.hcl")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the permissions were not kept: %v %v", fi.Mode(), err)
	}

	sf, err = OpenSource(dir, "b.pix.hcl")
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	// Another file is put at the name after it was read.
	if err := os.WriteFile(filepath.Join(dir, "b.new"), []byte("theirs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "b.new"), filepath.Join(dir, "b.pix.hcl")); err != nil {
		t.Fatal(err)
	}
	if err := sf.Replace([]byte("y = 1\n")); err == nil || !strings.Contains(err.Error(), "b.pix.hcl was not written: it changed since it was read") {
		t.Errorf("Replace over a file put there since: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b.pix.hcl")); string(b) != "theirs\n" {
		t.Errorf("the file put there was not kept: %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".pixform-tmp-*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}
