package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFmtThroughLongLink: fmt of a file reached through a link to a
// directory so deep that its resolved path is longer than a path may be
// (the name given still opens) reads and writes the file it checked: a
// link there that leads outside is refused, neither printed nor written
// (the environment, token included, was printed, since the unresolved
// name was read through every link again); a file there is formatted in
// place.
func TestFmtThroughLongLink(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "v.hcl")
	const secret = "x  =  \"SEKRIT\"\n"
	if err := os.WriteFile(outside, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		linked   bool
		code     int
		want     string // in stderr
		formated string // prod.hcl after
	}{
		{"link outside at the end", true, ExitError, "a symbolic link to " + outside, ""},
		{"file at the end", false, ExitOK, "", "x = \"deep\"\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte("image \"a\" {\n  prompt = \"a fox\"\n}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			root, err := filepath.EvalSymlinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for left := 4093 - len(root) - 1; left > 0; {
				l := min(left, 200)
				if left-l == 1 {
					l--
				}
				comp := strings.Repeat("d", l)
				parts = append(parts, comp)
				left -= l + 1
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
			defer unix.Close(fd)
			if tt.linked {
				if err := unix.Symlinkat(outside, fd, "prod.hcl"); err != nil {
					t.Fatal(err)
				}
			} else {
				f, err := unix.Openat(fd, "prod.hcl", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				unix.Write(f, []byte("x  =  \"deep\"\n"))
				unix.Close(f)
			}
			if err := os.Symlink(strings.Join(parts, "/"), filepath.Join(dir, "env")); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := Main(context.Background(), []string{"-chdir=" + dir, "fmt", "-diff", "env/prod.hcl"}, Stdio{
				In: strings.NewReader(""), Out: &out, Err: &errb,
			})
			if strings.Contains(out.String()+errb.String(), "SEKRIT") {
				t.Fatalf("the file outside was read:\n%s%s", out.String(), errb.String())
			}
			if b, _ := os.ReadFile(outside); string(b) != secret {
				t.Fatalf("the file outside was written: %q", b)
			}
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q?\n%s", code, tt.code, tt.want, errb.String())
			}
			if tt.formated != "" {
				f, err := unix.Openat(fd, "prod.hcl", unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 100)
				n, _ := unix.Read(f, buf)
				unix.Close(f)
				if string(buf[:n]) != tt.formated {
					t.Errorf("prod.hcl is %q, want %q", buf[:n], tt.formated)
				}
			}
		})
	}
}
