package cli

import (
	"errors"
	"fmt"
	"os"
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
	out := fs.String("o", "gallery.html", "write the page to `FILE`")
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
	target := e.abs(*out)
	pageDir, err := filepath.Rel(e.dir, filepath.Dir(target))
	if err != nil {
		return e.fail(fmt.Errorf("gallery -o=%s: %w", *out, err))
	}
	cards := gallery.FromConfig(e.dir, cfg, lock)
	var lim gallery.Limits
	if cfg != nil {
		lim = gallery.LimitsOf(cfg.Provider)
	}
	gallery.Embed(e.dir, pageDir, cards, lim)
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		return e.fail(views.WithHint(errors.New("gallery -o="+*out+" is a directory"), "name a file: -o=gallery.html"))
	}
	page := &gallery.Page{
		Title:    filepath.Base(e.dir),
		Subtitle: "written " + time.Now().Format("2006-01-02 15:04"),
		Cards:    cards,
		Warnings: warnings,
	}
	if err := gallery.WriteStatic(target, page); err != nil {
		return e.fail(err)
	}
	fmt.Fprintf(e.stdio.Out, "Wrote %s: %s. Open it in a browser.\n", *out, views.Plural(len(cards), "image"))
	return ExitOK
}
