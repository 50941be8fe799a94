package gallery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/pixform/pixform/state"
)

// Actions are the gallery's writes: a pick among an image's takes and an
// approval. They are carried out by whoever owns the working directory's
// lockfile (pixform watch), the same way the CLI's pick and approve are;
// each returns the image's entry as now recorded.
//
// Each carries the sha256 of the bytes the page showed: for a pick, the
// take's; for an approval, the image's. The image may have been rendered
// again since the page last showed it, so the writer compares them with
// the lockfile, while it holds it, and refuses with ErrChanged when they
// differ: an action acts only on bytes the user saw.
type Actions interface {
	Pick(ctx context.Context, addr string, take int, sha256 string) (state.Entry, error)
	Approve(ctx context.Context, addr string, sha256 string) (state.Entry, error)
}

// ErrChanged is an action refused because the bytes it names are no
// longer the take or the image the lockfile records.
var ErrChanged = errors.New("the image changed since the page showed it; look again")

// SecretHeader carries the per-session secret on every action. The page
// holds the secret; a page of another origin cannot read it, and cannot
// send this header without a CORS preflight, which the gallery never
// grants.
const SecretHeader = "X-Pixform-Secret"

// maxActionBody caps an action's JSON body.
const maxActionBody = 4 << 10

// newSecret returns 32 random bytes as hex.
func newSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("gallery: no randomness for the session secret: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// SetActions enables the pick and approve buttons, carried out by a. Call
// it before Serve.
func (s *Server) SetActions(a Actions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions = a
}

func (s *Server) actionsOf() Actions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.actions
}

// actionError answers a refused or failed action: JSON with the message,
// which the page shows.
func actionError(w http.ResponseWriter, code int, msg string) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}

// checkAction refuses an action that does not come from the gallery's own
// page: it must carry the session's secret, as JSON, with an Origin of the
// address it came in on (checkHost has already vetted Host), and not be a
// cross-site fetch. It reports whether the request may go on.
func (s *Server) checkAction(w http.ResponseWriter, r *http.Request) bool {
	got := r.Header.Get(SecretHeader)
	if subtle.ConstantTimeCompare(secretSum(got), secretSum(s.secret)) != 1 || got == "" {
		actionError(w, http.StatusForbidden, "pixform gallery: this action does not carry the session's secret; reload the gallery page and try again")
		return false
	}
	if o := r.Header.Get("Origin"); o == "" || !strings.EqualFold(o, "http://"+r.Host) {
		actionError(w, http.StatusForbidden, "pixform gallery: this action comes from another origin")
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		actionError(w, http.StatusForbidden, "pixform gallery: this action comes from another site")
		return false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		actionError(w, http.StatusUnsupportedMediaType, "pixform gallery: an action is JSON")
		return false
	}
	return true
}

// secretSum makes secrets of any length comparable in constant time.
func secretSum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

type actionBody struct {
	Addr string `json:"addr"`
	Take int    `json:"take"`
	// SHA256 is the hash of the bytes the page showed: the take's for a
	// pick, the image's for an approval.
	SHA256 string `json:"sha256"`
}

// readAction decodes an action's body.
func readAction(w http.ResponseWriter, r *http.Request) (actionBody, bool) {
	var b actionBody
	dec := json.NewDecoder(io.LimitReader(r.Body, maxActionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Addr == "" {
		actionError(w, http.StatusBadRequest, "pixform gallery: an action names an image: {\"addr\": …}")
		return b, false
	}
	if !isSHA256(b.SHA256) {
		actionError(w, http.StatusBadRequest, "pixform gallery: an action names the bytes the page shows: {\"sha256\": 64 lower-case hex digits}; reload the gallery page and try again")
		return b, false
	}
	return b, true
}

// isSHA256 reports whether s is 64 lower-case hex digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// act carries out one action: checks, then f, then the card shows the
// entry as recorded.
func (s *Server) act(w http.ResponseWriter, r *http.Request, f func(a Actions, b actionBody) (state.Entry, error)) {
	a := s.actionsOf()
	if a == nil {
		http.NotFound(w, r)
		return
	}
	if !s.checkAction(w, r) {
		return
	}
	b, ok := readAction(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	_, known := s.cards[b.Addr]
	s.mu.Unlock()
	if !known {
		actionError(w, http.StatusNotFound, "pixform gallery: no image "+b.Addr+" is shown")
		return
	}
	e, err := f(a, b)
	if err != nil {
		code, msg := http.StatusConflict, err.Error()
		switch {
		case errors.Is(err, ErrBusy):
			code = http.StatusServiceUnavailable
		case errors.Is(err, ErrChanged):
			msg = "pixform gallery: " + b.Addr + ": " + ErrChanged.Error()
		}
		actionError(w, code, msg)
		return
	}
	s.Update(b.Addr, func(c *Card) {
		c.File = &e
		if len(e.Takes) > 0 {
			c.Seed = AtPathSeed(&e)
		}
	})
	securityHeaders(w)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		OK bool `json:"ok"`
	}{true})
}

// ErrBusy is an action refused because an apply is writing the lockfile:
// the page says to try again when it is done.
var ErrBusy = errors.New("an apply is running; try again when it finishes")

func (s *Server) pick(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, func(a Actions, b actionBody) (state.Entry, error) {
		if b.Take < 1 {
			return state.Entry{}, errors.New("pick: name a take by its number")
		}
		return a.Pick(r.Context(), b.Addr, b.Take, b.SHA256)
	})
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, func(a Actions, b actionBody) (state.Entry, error) {
		return a.Approve(r.Context(), b.Addr, b.SHA256)
	})
}

// takeThumb serves the thumbnail of a take of a card's image, read from
// the content cache (verified against its hash there) and then kept.
func (s *Server) takeThumb(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	s.mu.Lock()
	data, ok := s.thumbs[sha]
	lim := s.limits
	var e *state.Entry
	var seed int64
	for _, c := range s.cards {
		if c.File == nil {
			continue
		}
		for _, t := range c.File.Takes {
			if t.SHA256 == sha {
				e, seed = c.File, t.Seed
			}
		}
	}
	s.mu.Unlock()
	if e == nil {
		http.NotFound(w, r)
		return
	}
	if !ok {
		// A fresh listing: takes arrive in the cache while the gallery runs.
		rc, err := state.OpenCache(s.dir).Open(e.Inputs.Take(seed).Digest(), e.Provider)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(rc, lim.withDefaults().MaxBytes+1))
		rc.Close()
		if err != nil || int64(len(raw)) > lim.withDefaults().MaxBytes {
			http.NotFound(w, r)
			return
		}
		var named bool
		data, named, err = thumbnailOf(raw, sha, lim)
		if !named {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		s.mu.Lock()
		s.thumbs[sha] = data
		s.mu.Unlock()
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(data)
}
