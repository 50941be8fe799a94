package gallery

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
)

// subscriberBuffer is how many events a slow browser may fall behind
// before it is disconnected (its EventSource reconnects and gets a fresh
// snapshot, so nothing is lost).
const subscriberBuffer = 256

// keepAlive is how often an idle event stream gets a comment line, so
// that proxies and browsers keep it open.
const keepAlive = 15 * time.Second

// Server is the live gallery: GET / is the page, GET /events a stream of
// server-sent events ("card" with a Card as JSON, "remove" with an address,
// "status" with a message), GET /files/PATH an image file (only the paths
// of the cards shown, never any other file) and GET /thumbs/SHA256 its
// thumbnail, made once and kept in memory.
//
// The caller owns the Server: Serve runs it, Shutdown ends the event
// streams and waits for the handlers. Set, Update and SetStatus are safe
// for concurrent use (executor hooks call them from many goroutines).
type Server struct {
	dir   string
	title string

	mu     sync.Mutex
	cards  map[string]Card // by address, URLs filled in
	order  []string        // addresses, as last Set
	status statusMsg
	subs   map[chan []byte]struct{}
	thumbs map[string][]byte // sha256 → JPEG
	// refused holds why no thumbnail is made of a file (sha256 → reason):
	// its card shows a placeholder with the reason instead.
	refused map[string]string
	limits  Limits
	hosts   []string // host:port names AllowHost added
	// secret is this session's: the page embeds it and every action must
	// carry it. actions, when set, carries out picks and approvals.
	secret  string
	actions Actions

	closing   chan struct{}
	closeOnce sync.Once
	srv       *http.Server
}

type statusMsg struct {
	Text string `json:"text"`
	Bad  bool   `json:"bad"`
}

// NewServer returns a Server for the working directory dir; title heads
// the page.
func NewServer(dir, title string) *Server {
	s := &Server{
		dir:     dir,
		title:   title,
		cards:   map[string]Card{},
		subs:    map[chan []byte]struct{}{},
		thumbs:  map[string][]byte{},
		refused: map[string]string{},
		closing: make(chan struct{}),
		secret:  newSecret(),
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return s
}

// Handler returns the Server's HTTP handler. It answers only requests
// whose Host header names the address they came in on (see checkHost).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("GET /files/{path...}", s.file)
	mux.HandleFunc("GET /thumbs/{sha}", s.thumb)
	mux.HandleFunc("GET /takes/{sha}", s.takeThumb)
	mux.HandleFunc("POST /actions/pick", s.pick)
	mux.HandleFunc("POST /actions/approve", s.approve)
	return noFraming(s.checkHost(mux))
}

// noFraming sets the security headers on every response, refusals and
// errors included, before any handler runs: no page of another site may
// show the gallery in a frame (and trick a click on pick or approve).
func noFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		next.ServeHTTP(w, r)
	})
}

// Serve accepts connections on ln until Shutdown. It returns nil after
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown ends every event stream, stops accepting connections and waits
// for the handlers, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	return s.srv.Shutdown(ctx)
}

// SetLimits bounds the image files that thumbnails are made of (the
// provider block's, which may change while watching). Files refused under
// other limits are tried again.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.withDefaults() == s.limits.withDefaults() {
		return
	}
	s.limits = l
	clear(s.refused)
	clear(s.thumbs)
}

// withURLsLocked fills the live URLs of a card's file, or, when no
// thumbnail can be made of it, leaves them empty (the page shows a
// placeholder) and adds why to its reason. s.mu must be held.
func (s *Server) withURLsLocked(c Card) Card {
	c.Thumb, c.Full = "", ""
	if c.File == nil || !validSHA(c.File.SHA256) {
		return c
	}
	if why, ok := s.refused[c.File.SHA256]; ok {
		if !strings.Contains(c.Reason, why) {
			c.Reason = joinReason(c.Reason, why)
		}
		return c
	}
	c.Thumb = "/thumbs/" + c.File.SHA256
	c.Full = "/files/" + escapePath(c.File.Path) + "?v=" + c.File.SHA256[:12]
	return c
}

// refuse records why no thumbnail is made of the file with hash sha and
// sends its cards, now placeholders saying why, to browsers.
func (s *Server) refuse(sha, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.refused[sha]; ok {
		return
	}
	s.refused[sha] = why
	for _, addr := range s.order {
		c, ok := s.cards[addr]
		if !ok || c.File == nil || c.File.SHA256 != sha {
			continue
		}
		c = s.withURLsLocked(c)
		s.cards[addr] = c
		s.broadcastLocked("card", c)
	}
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Set replaces every card (a new plan): browsers get the cards that
// changed and a removal for each card that went away.
func (s *Server) Set(cards []Card) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[string]bool, len(cards))
	s.order = s.order[:0]
	for _, c := range cards {
		c = s.withURLsLocked(c)
		seen[c.Addr] = true
		s.order = append(s.order, c.Addr)
		if old, ok := s.cards[c.Addr]; ok && sameCard(old, c) {
			continue
		}
		s.cards[c.Addr] = c
		s.broadcastLocked("card", c)
	}
	for addr := range s.cards {
		if !seen[addr] {
			delete(s.cards, addr)
			s.broadcastLocked("remove", struct {
				Addr string `json:"addr"`
			}{addr})
		}
	}
	// Drop thumbnails no card shows any more.
	shown := map[string]bool{}
	for _, c := range s.cards {
		if c.File != nil {
			shown[c.File.SHA256] = true
			for _, t := range c.File.Takes {
				shown[t.SHA256] = true
			}
		}
	}
	for sha := range s.thumbs {
		if !shown[sha] {
			delete(s.thumbs, sha)
		}
	}
	for sha := range s.refused {
		if !shown[sha] {
			delete(s.refused, sha)
		}
	}
}

func sameCard(a, b Card) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// Update changes the card at addr with f and sends it to browsers; it
// does nothing when there is no such card.
func (s *Server) Update(addr string, f func(*Card)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cards[addr]
	if !ok {
		return
	}
	f(&c)
	c = s.withURLsLocked(c)
	s.cards[addr] = c
	s.broadcastLocked("card", c)
}

// Remove drops the card at addr.
func (s *Server) Remove(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cards[addr]; !ok {
		return
	}
	delete(s.cards, addr)
	s.broadcastLocked("remove", struct {
		Addr string `json:"addr"`
	}{addr})
}

// SetStatus shows text above the cards (bad: as an error, such as the
// diagnostics of a broken save); empty text hides it.
func (s *Server) SetStatus(text string, bad bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = statusMsg{Text: text, Bad: bad}
	s.broadcastLocked("status", s.status)
}

// Cards returns the cards shown now, in address order.
func (s *Server) Cards() []Card {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Card, 0, len(s.cards))
	for _, c := range s.cards {
		out = append(out, c)
	}
	sortCards(out)
	return out
}

// frame encodes one server-sent event.
func frame(event string, v any) []byte {
	if c, ok := v.(Card); ok {
		b, _ := cardJSON(c)
		return []byte("event: " + event + "\ndata: " + string(b) + "\n\n")
	}
	b, _ := json.Marshal(v)
	return []byte("event: " + event + "\ndata: " + string(b) + "\n\n")
}

// broadcastLocked sends an event to every subscriber; a subscriber whose
// buffer is full is dropped (its browser reconnects). s.mu must be held.
func (s *Server) broadcastLocked(event string, v any) {
	if len(s.subs) == 0 {
		return
	}
	msg := frame(event, v)
	for ch := range s.subs {
		select {
		case ch <- msg:
		default:
			delete(s.subs, ch)
			close(ch)
		}
	}
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	}
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	p := &Page{Title: s.title, Subtitle: "watching for changes", Cards: s.Cards(), Live: true}
	if s.actionsOf() != nil {
		p.Secret = s.secret
	}
	var buf bytes.Buffer
	if err := Render(&buf, p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
	w.Write(buf.Bytes())
}

// events streams server-sent events: first a snapshot of every card and
// the status, then each change as it happens.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ch := make(chan []byte, subscriberBuffer)
	var snapshot bytes.Buffer
	snapshot.WriteString("retry: 1000\n\n")
	s.mu.Lock()
	for _, addr := range s.order {
		if c, ok := s.cards[addr]; ok {
			snapshot.Write(frame("card", c))
		}
	}
	snapshot.Write(frame("status", s.status))
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}()
	if _, err := w.Write(snapshot.Bytes()); err != nil {
		return
	}
	fl.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case msg, ok := <-ch:
			if !ok {
				return // dropped for falling behind; the browser reconnects
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			fl.Flush()
		case <-tick.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			fl.Flush()
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}

// lookupFile returns the card whose file is at path, if any.
func (s *Server) lookupFile(match func(Card) bool) (Card, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cards {
		if c.File != nil && match(c) {
			return c, true
		}
	}
	return Card{}, false
}

// safe reports whether p, a card's path, may be read: the lockfile and the
// configuration were checked when loaded, and this checks again, at each
// request, that no symbolic link has appeared on the way since.
func (s *Server) safe(p string) bool {
	_, err := safepath.NewDisk(s.dir).Check(p)
	return err == nil
}

// file serves an output image: only a path that a card shows.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	c, ok := s.lookupFile(func(c Card) bool { return c.File.Path == p })
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !s.safe(c.File.Path) {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(s.dir, filepath.FromSlash(c.File.Path)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", c.File.MediaType)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// thumb serves the thumbnail of the file with the given hash, made on
// first request and then kept: the URL names the content, so browsers may
// cache it for good. A file over the limits is refused from its size or
// its header, and its cards become placeholders saying why.
func (s *Server) thumb(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	s.mu.Lock()
	data, ok := s.thumbs[sha]
	why, refused := s.refused[sha]
	lim := s.limits
	s.mu.Unlock()
	if refused {
		http.Error(w, why, http.StatusUnprocessableEntity)
		return
	}
	if !ok {
		c, found := s.lookupFile(func(c Card) bool { return c.File.SHA256 == sha })
		if !found {
			http.NotFound(w, r)
			return
		}
		if !s.safe(c.File.Path) {
			http.NotFound(w, r)
			return
		}
		raw, err := readImageFile(filepath.Join(s.dir, filepath.FromSlash(c.File.Path)), lim)
		var tl *TooLargeError
		if errors.As(err, &tl) {
			why := c.File.Path + " " + err.Error()
			s.refuse(sha, why)
			http.Error(w, why, http.StatusUnprocessableEntity)
			return
		}
		if err != nil {
			http.NotFound(w, r)
			return
		}
		var named bool
		data, named, err = thumbnailOf(raw, sha, lim)
		if !named {
			// The file changed since it was recorded: this is not the
			// image the URL names.
			http.NotFound(w, r)
			return
		}
		if err != nil {
			why := c.File.Path + " " + err.Error()
			s.refuse(sha, why)
			http.Error(w, why, http.StatusUnprocessableEntity)
			return
		}
		s.mu.Lock()
		s.thumbs[sha] = data
		s.mu.Unlock()
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", media.JPEG)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(data)
}
