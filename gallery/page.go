package gallery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/state"
)

// Page is everything the gallery page shows.
type Page struct {
	// Title heads the page (the working directory's name).
	Title string
	// Subtitle says when or how the page was made.
	Subtitle string
	// Cards are the images, sorted by address.
	Cards []Card
	// Live makes the page subscribe to /events for updates.
	Live bool
	// Secret, on a live page whose server takes actions, is the session's
	// secret that every pick and approval carries (see SecretHeader); the
	// page shows pick and approve buttons only then.
	Secret string
	// Warnings are shown above the cards (for example: the configuration
	// did not load, so only lockfile entries are shown).
	Warnings []string
}

// view is one card as the template sees it: URLs already checked.
type view struct {
	Card
	Thumb, Full template.URL
	Ratio       template.CSS // "aspect-ratio:16 / 9"
}

// cssRatio turns "16:9" into "16 / 9" for CSS, falling back to square.
func cssRatio(r string) string {
	a, b, ok := strings.Cut(r, ":")
	if !ok || !digits(a) || !digits(b) {
		return "1 / 1"
	}
	return a + " / " + b
}

func digits(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// safeURL accepts the URLs the gallery makes itself: data:image/jpeg
// thumbnails, the live server's absolute paths, and relative paths. Anything
// else (javascript:, other schemes) is dropped.
func safeURL(u string) template.URL {
	switch {
	case u == "":
		return ""
	case strings.HasPrefix(u, "data:"+media.JPEG+";base64,"), strings.HasPrefix(u, "/"):
		return template.URL(u)
	}
	if p, err := url.Parse(u); err == nil && p.Scheme == "" && p.Host == "" {
		return template.URL(u)
	}
	return ""
}

// Render writes p as one self-contained HTML page.
func Render(w io.Writer, p *Page) error {
	views := make([]view, len(p.Cards))
	for i, c := range p.Cards {
		views[i] = view{Card: c, Thumb: safeURL(c.Thumb), Full: safeURL(c.Full), Ratio: template.CSS("aspect-ratio:" + cssRatio(c.AspectRatio))}
	}
	counts := map[State]int{}
	for _, c := range p.Cards {
		counts[c.State]++
	}
	data := struct {
		*Page
		Views  []view
		Counts map[State]int
	}{p, views, counts}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		return fmt.Errorf("render gallery: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// relURL is the URL of the file at path (slash-separated, relative to the
// working directory) from a page in pageDir (relative to the working
// directory too).
func relURL(pageDir, path string) string {
	rel, err := filepath.Rel(filepath.FromSlash(pageDir), filepath.FromSlash(path))
	if err != nil {
		rel = path
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// Embed fills each card's Thumb with a data: URI thumbnail of its file
// under dir and its Full with the file's path relative to a page written in
// pageDir (relative to dir). A file that cannot be read or decoded, or is
// over lim, keeps no thumbnail, and its card says why. Embed returns the
// number of thumbnails made.
func Embed(dir, pageDir string, cards []Card, lim Limits) int {
	n := 0
	for i := range cards {
		c := &cards[i]
		if c.File == nil {
			continue
		}
		data, err := readImageFile(filepath.Join(dir, filepath.FromSlash(c.File.Path)), lim)
		var tl *TooLargeError
		switch {
		case errors.As(err, &tl):
			c.Reason = joinReason(c.Reason, c.File.Path+" "+err.Error())
			continue
		case err != nil:
			c.Reason = joinReason(c.Reason, "cannot read "+c.File.Path)
			continue
		}
		th, err := Thumbnail(data, ThumbSize, lim)
		if err != nil {
			c.Reason = joinReason(c.Reason, c.File.Path+" "+err.Error())
			continue
		}
		c.Thumb = "data:" + media.JPEG + ";base64," + encodeBase64(th)
		c.Full = relURL(pageDir, c.File.Path)
		n++
	}
	return n
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// WriteStatic renders p to the file out (absolute), atomically.
//
// A file opened from disk has no response headers, and a <meta>
// Content-Security-Policy cannot set frame-ancestors (browsers ignore it
// there), so the static page cannot forbid framing. It needs it less than
// the live one: it has no actions (no secret, no pick or approve) to
// trick a click on.
func WriteStatic(out string, p *Page) error {
	var buf bytes.Buffer
	if err := Render(&buf, p); err != nil {
		return err
	}
	if err := state.WriteFileAtomic(out, buf.Bytes()); err != nil {
		return fmt.Errorf("write gallery %s: %w", out, err)
	}
	return nil
}

// cardJSON is a card as the page's script receives it.
func cardJSON(c Card) ([]byte, error) {
	v := c
	v.Thumb, v.Full = string(safeURL(c.Thumb)), string(safeURL(c.Full))
	return json.Marshal(v)
}
