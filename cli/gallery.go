package cli

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/gallery"
	"github.com/pixform/pixform/views"
)

// gallery implements `pixform gallery [-o FILE]`: a static contact sheet
// that works opened from disk (thumbnails embedded, full images by
// relative path).
func (e *env) gallery(args []string) int {
	fs := newFlagSet("gallery", "gallery [options]")
	out := fs.String("o", "gallery.html", "write the page to `FILE` (- for standard output)")
	var vars, varFiles listFlag
	fs.Var(&vars, "var", "set a variable: `NAME=VALUE` (repeatable)")
	fs.Var(&varFiles, "var-file", "load variable values from `FILE` (repeatable)")
	e.noColorFlag(fs)
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	if fs.NArg() > 0 {
		return e.fail(fmt.Errorf("gallery takes no arguments, got %q", fs.Args()))
	}
	lock, _, err := e.readTrustedLock()
	if err != nil {
		return e.fail(err)
	}
	var warnings []string
	cfg, diags := config.Load(e.dir, config.LoadOptions{Vars: vars, VarFiles: varFiles, Environ: e.stdio.Environ})
	if cfg == nil || diags.HasErrors() {
		cfg = nil
		msg := "the configuration does not load (run pixform validate to see why), so the gallery shows what " +
			"the lockfile records, without comparing it with the declarations"
		fmt.Fprintf(e.stdio.Err, "pixform: warning: %s.\n", msg)
		warnings = append(warnings, "Warning: "+msg+".")
	}
	toStdout := *out == "-"
	target := e.abs(*out)
	if toStdout {
		// The page's links are relative to the project directory.
		target = filepath.Join(e.dir, "gallery.html")
	}
	pageDir, err := filepath.Rel(e.dir, filepath.Dir(target))
	if err != nil {
		return e.fail(fmt.Errorf("gallery -o=%s: %w", *out, err))
	}
	if !toStdout {
		if err := outTarget(e.dir, target, *out, "gallery -o="+*out, "-o=- to write the page to standard output", galleryOut); err != nil {
			return e.fail(err)
		}
	}
	cards := gallery.FromConfig(e.dir, cfg, lock)
	var lim gallery.Limits
	if cfg != nil {
		lim = gallery.LimitsOf(cfg.Provider)
	}
	gallery.Embed(e.dir, pageDir, cards, lim)
	page := &gallery.Page{
		Title:    filepath.Base(e.dir),
		Subtitle: "written " + time.Now().Format("2006-01-02 15:04"),
		Cards:    cards,
		Warnings: warnings,
	}
	if toStdout {
		if err := gallery.Render(e.stdio.Out, page); err != nil {
			return e.fail(fmt.Errorf("write gallery to standard output: %w", err))
		}
		return ExitOK
	}
	if err := gallery.WriteStatic(target, page); err != nil {
		return e.fail(err)
	}
	fmt.Fprintf(e.stdio.Out, "Wrote %s: %s. Open it in a browser.\n", *out, views.Plural(len(cards), "image"))
	return ExitOK
}
