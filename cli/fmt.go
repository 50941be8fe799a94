package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
)

func (e *env) fmt(args []string) int {
	fs := newFlagSet("fmt", "fmt [-check] [-diff] [FILE…]")
	check := fs.Bool("check", false, "only check: exit 3 and list the files that need formatting")
	diff := fs.Bool("diff", false, "print the changes as a unified diff")
	list := fs.Bool("list", true, "list the files whose formatting changes")
	noColor := fs.Bool("no-color", false, "disable colour")
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	e.noColor = e.noColor || *noColor
	files := fs.Args()
	if len(files) == 0 {
		for _, pat := range []string{"*.pix.hcl", "*.pixvars.hcl"} {
			m, err := filepath.Glob(filepath.Join(e.dir, pat))
			if err != nil {
				return e.fail(err)
			}
			for _, f := range m {
				files = append(files, filepath.Base(f))
			}
		}
		sort.Strings(files)
	}
	var diags hcl.Diagnostics
	parsed := map[string]*hcl.File{}
	changed, refused := 0, 0
	for _, name := range files {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(e.dir, name)
		}
		// A link that leads outside is refused before it is read: a link
		// to /proc/self/environ printed the environment, the token with
		// it, in its syntax errors and its diff.
		target, err := e.fmtTarget(name, path)
		if err != nil {
			// The other files are still formatted.
			e.fail(err)
			refused++
			continue
		}
		src, err := config.ReadSource(path)
		if err != nil {
			return e.fail(fmt.Errorf("fmt: %w", err))
		}
		out, d := config.Format(src, name)
		if d.HasErrors() {
			diags = append(diags, d...)
			parsed[name] = &hcl.File{Bytes: src}
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		changed++
		if *list {
			fmt.Fprintln(e.stdio.Out, name)
		}
		if *diff {
			fmt.Fprint(e.stdio.Out, unifiedDiff(name, src, out))
		}
		if !*check {
			if err := state.WriteFileAtomic(target, out); err != nil {
				return e.fail(fmt.Errorf("fmt: %w", err))
			}
		}
	}
	if len(diags) > 0 {
		views.WriteDiagnostics(e.stdio.Err, diags, parsed, e.color(false, e.stdio.ErrTerminal))
		fmt.Fprintln(e.stdio.Err, "pixform: files with syntax errors were left unchanged.")
		return ExitError
	}
	if refused > 0 {
		return ExitError
	}
	if *check && changed > 0 {
		return ExitFmt
	}
	return ExitOK
}

// fmtTarget is the file that fmt rewrites for the file name at path: path
// itself, or for a symbolic link the file it leads to, which must be in
// the working directory (after resolving every link, as each path
// pixform writes is checked). The link is never replaced by a file: it
// stays, and the file it names, which the configuration is read from, is
// the one formatted. A link that leads outside the working directory is
// refused, since fmt writes nothing outside it.
func (e *env) fmtTarget(name, path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", fmt.Errorf("fmt: %w", err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return path, nil
	}
	link, _ := os.Readlink(path)
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("fmt: %s is a symbolic link to %s, which cannot be followed: %w", name, link, err)
	}
	root, err := filepath.EvalSymlinks(e.dir)
	if err != nil {
		return "", fmt.Errorf("fmt: %w", err)
	}
	if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", views.WithHint(fmt.Errorf("fmt: %s is a symbolic link to %s, outside the working directory; fmt reads and writes only inside it, as validate reads, so %s was left unchanged", name, link, name),
			fmt.Sprintf("to format the file it leads to, name that file: pixform fmt %s", target))
	}
	return target, nil
}
