package imagine

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"
)

// errIdle is the cause of a request given up because its body stalled.
var errIdle = errors.New("the response stalled")

// errTimedOut is the cause of a request given up at Options.Timeout.
var errTimedOut = errors.New("the request timed out")

// errTooLarge marks a body beyond the size cap.
var errTooLarge = errors.New("the response is too large")

// idleWatch reads a body and calls onIdle when no byte has come for d
// since the watch started or since the last byte. Its owner calls stop.
type idleWatch struct {
	r     io.Reader
	d     time.Duration
	mu    sync.Mutex
	timer *time.Timer
}

func newIdleWatch(r io.Reader, d time.Duration, onIdle func()) *idleWatch {
	return &idleWatch{r: r, d: d, timer: time.AfterFunc(d, onIdle)}
}

func (w *idleWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.mu.Lock()
		// A timer that fired already has cancelled the request: Reset
		// then only delays a call that changes nothing.
		if w.timer.Stop() {
			w.timer.Reset(w.d)
		}
		w.mu.Unlock()
	}
	return n, err
}

func (w *idleWatch) stop() {
	w.mu.Lock()
	w.timer.Stop()
	w.mu.Unlock()
}

// badHeaderValue names the first byte of v that an HTTP header value
// cannot hold (a control character other than tab), or returns "". The
// value itself is never part of the answer.
func badHeaderValue(v string) string {
	for i := 0; i < len(v); i++ {
		b := v[i]
		if (b < ' ' && b != '\t') || b == 0x7f {
			name := fmt.Sprintf("the control character 0x%02x", b)
			switch b {
			case '\n':
				name = "a line break (\\n)"
			case '\r':
				name = "a carriage return (\\r)"
			}
			return fmt.Sprintf("%s at byte %d of %d", name, i+1, len(v))
		}
	}
	return ""
}

// shownURL is u as messages show it: without credentials, query or
// fragment, and with the token scrubbed.
func shownURL(u, token string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(an unreadable URL)"
	}
	p.User = nil
	p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = "", false, "", ""
	return clean(p.String(), token, maxServerText)
}

// byteSize is n in the largest binary unit that divides it: "50 MiB".
func byteSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// CheckURL refuses, before any request, an API URL (empty for the
// vendor's) that is not an http or https URL with a host: it would fail
// every request only once the run had begun. The URL is shown without
// credentials, query or fragment, and without the token.
func CheckURL(rawURL, token string) error {
	if rawURL == "" {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("IMAGINE_API_URL is not an http or https URL with a host: %s", shownURL(rawURL, token))
	}
	return nil
}
