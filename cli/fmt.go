package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/config"
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
		path := e.abs(name)
		// A link that leads outside is refused before it is read: a link
		// to /proc/self/environ printed the environment, the token with
		// it, in its syntax errors and its diff.
		sf, err := e.fmtOpen(name, path)
		if err != nil {
			// The other files are still formatted.
			e.fail(err)
			refused++
			continue
		}
		src := sf.Bytes
		out, d := config.Format(src, name)
		if d.HasErrors() {
			diags = append(diags, d...)
			parsed[name] = &hcl.File{Bytes: src}
			sf.Close()
			continue
		}
		if bytes.Equal(src, out) {
			sf.Close()
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
			// Over the file read, in the directory that holds it.
			if err := sf.Replace(out); err != nil {
				sf.Close()
				return e.fail(fmt.Errorf("fmt: %w", err))
			}
		}
		sf.Close()
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

// fmtOpen opens the file name at path for fmt to read and rewrite, as
// validate reads it (config.OpenSource): every symbolic link on its way
// followed, so that a link stays a link and the file it names, which the
// configuration is read from, is the one formatted, and the bytes read are
// those of the file checked, rewritten in the directory that holds it. A
// link on the way, the file's or a directory's, that leads out of the
// working directory refuses the file, since fmt reads and writes nothing
// outside it through a link; a file the command line names outside the
// directory is the user's own.
func (e *env) fmtOpen(name, path string) (*config.SourceFile, error) {
	if _, err := os.Lstat(path); err != nil {
		return nil, fmt.Errorf("fmt: %w", err)
	}
	sf, err := config.OpenSource(e.dir, name)
	var lo *config.LinkOutside
	if errors.As(err, &lo) {
		err = fmt.Errorf("fmt: %s, outside the working directory; fmt reads and writes only inside it, as validate reads, so %s was left unchanged", lo.What(), name)
		file := lo.Suggested()
		if file == "" {
			return nil, err // no name, or under /proc, /dev or /sys
		}
		return nil, views.WithHint(err, fmt.Sprintf("to format the file it leads to, name that file: pixform fmt %s", file))
	}
	if err != nil {
		return nil, fmt.Errorf("fmt: %w", err)
	}
	return sf, nil
}
