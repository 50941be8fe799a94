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

	// Takes and Review are the static page's review of the file, in a
	// project that picks or approves: each take, and where the image
	// stands ("picked take 3; awaits an approval"). Approved says that
	// Review is an approval.
	Takes    []takeView
	Review   string
	Approved bool
}

// takeView is one take of a candidates image on the static page.
type takeView struct {
	Caption string // "take 3 · seed 42 · picked"
	Thumb   template.URL
	At      bool // the take at the path
}

// usesReview reports whether any card's file has takes or an approval:
// only then does the static page say what each image awaits.
func usesReview(cards []Card) bool {
	for _, c := range cards {
		if c.File != nil && (len(c.File.Takes) > 0 || c.File.Approved != nil) {
			return true
		}
	}
	return false
}

// review fills in v's takes and review state from its file.
func (v *view) review() {
	e := v.File
	if e == nil {
		return
	}
	at := e.AtPath()
	for i, t := range e.Takes {
		tv := takeView{Caption: fmt.Sprintf("take %d · seed %d", i+1, t.Seed), At: i+1 == at}
		if e.Picked == i+1 {
			tv.Caption += " · picked"
		}
		if i < len(v.TakeThumbs) {
			tv.Thumb = safeURL(v.TakeThumbs[i])
		}
		v.Takes = append(v.Takes, tv)
	}
	switch {
	case e.Approved != nil && e.Approved.SHA256 == e.SHA256:
		v.Review, v.Approved = "approved by "+e.Approved.By, true
		if d, _, ok := strings.Cut(e.Approved.At, "T"); ok {
			v.Review += " on " + d
		}
	case e.AwaitsPick():
		v.Review = "awaits a pick: take 1 is at its path"
	case e.Picked > 0:
		v.Review = fmt.Sprintf("picked take %d; awaits an approval", e.Picked)
	default:
		v.Review = "awaits an approval"
	}
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
	reviews := !p.Live && usesReview(p.Cards)
	for i, c := range p.Cards {
		views[i] = view{Card: c, Thumb: safeURL(c.Thumb), Full: safeURL(c.Full), Ratio: template.CSS("aspect-ratio:" + cssRatio(c.AspectRatio))}
		if reviews {
			views[i].review()
		}
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
	var cache *state.Cache
	for i := range cards {
		c := &cards[i]
		if c.File == nil || len(c.File.Takes) == 0 {
			continue
		}
		if cache == nil {
			cache = state.OpenCache(dir)
		}
		c.TakeThumbs = takeThumbs(cache, c, lim)
	}
	return n
}

// takeThumbs returns the data: URI thumbnails of c's takes: the file's for
// the take at the path, the content cache's (verified by its hash) for
// the others, "" for one that neither holds. Only a candidates image
// pays for them: one read and one thumbnail a take.
func takeThumbs(cache *state.Cache, c *Card, lim Limits) []string {
	e := c.File
	out := make([]string, len(e.Takes))
	for i, t := range e.Takes {
		if t.SHA256 == e.SHA256 && c.Thumb != "" {
			out[i] = c.Thumb
			continue
		}
		rc, err := cache.Open(e.Inputs.Take(t.Seed).Digest(), e.Provider)
		if err != nil {
			continue
		}
		max := lim.withDefaults().MaxBytes
		raw, err := io.ReadAll(io.LimitReader(rc, max+1))
		rc.Close()
		if err != nil || int64(len(raw)) > max {
			continue
		}
		if th, named, err := thumbnailOf(raw, t.SHA256, lim); named && err == nil {
			out[i] = "data:" + media.JPEG + ";base64," + encodeBase64(th)
		}
	}
	return out
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
