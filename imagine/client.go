package imagine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/providers"
)

// DefaultURL is the vendor's text-to-image endpoint.
const DefaultURL = "https://api.vyro.ai/v2/image/generations"

// Defaults of Options.
const (
	// DefaultIdleTimeout is how long a body may send nothing.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultMaxBytes is the largest image body accepted: the vendor's
	// images are a few MB.
	DefaultMaxBytes = 50 << 20
	// MinSide is the shortest side of an image the vendor serves, with
	// margin: anything smaller is a broken answer.
	MinSide = 32
	// AspectTolerance is how far an image's aspect ratio may be from the
	// one requested, relatively.
	AspectTolerance = 0.03
)

// Options configure a Client. Only Token is needed for real use; the rest
// have defaults and exist so that tests and the CLI can inject them.
type Options struct {
	// URL is the endpoint; empty means DefaultURL. The CLI passes
	// IMAGINE_API_URL.
	URL string
	// Token is the bearer token (IMAGINE_API_TOKEN). Render fails with a
	// Fatal error, before any request, when it is empty.
	Token string
	// HTTPClient sends the requests; nil means a client of the package's
	// own with keep-alive sized for parallel renders. Its Timeout, if any,
	// applies on top of Timeout.
	HTTPClient *http.Client
	// Timeout bounds one request, from sending it to reading the last byte
	// of the image; zero means no bound beyond ctx.
	Timeout time.Duration
	// IdleTimeout bounds the silence within an answer: once its headers
	// have come, a body that sends no byte for this long is given up as a
	// transient failure. Zero means DefaultIdleTimeout; the wait for the
	// headers, while the image is generated, is bounded by Timeout alone.
	IdleTimeout time.Duration
	// MaxBytes is the largest image body accepted; a larger one is given
	// up while it streams, as a transient bad body. Zero means
	// DefaultMaxBytes.
	MaxBytes int64
	// MaxPixels is the largest image, in pixels, that the executor decodes
	// from this provider (see executor.ImageBounds). Zero means
	// executor.DefaultMaxImagePixels.
	MaxPixels int64
	// Now is the clock against which Retry-After HTTP dates are read; nil
	// means time.Now.
	Now func() time.Time
	// Version goes into the User-Agent, "pixform/<Version>"; empty means "dev".
	Version string
}

// Client renders images through the Imagine API. It is safe for
// concurrent use.
type Client struct {
	url       string
	shownURL  string // url without credentials, query or token, for messages
	token     string
	hc        *http.Client
	timeout   time.Duration
	idle      time.Duration
	maxBytes  int64
	maxPixels int64
	now       func() time.Time
	userAgent string
	// reached is set once any answer has come from the server: from then
	// on a refused connection is a passing fault, not a wrong URL.
	reached atomic.Bool
	// forbidden counts the answers since the last 2xx that were a 403
	// with no vendor code: not the API's answer, but a proxy's or a
	// firewall's, for one request (a rule its body tripped) or for all.
	forbidden atomic.Int32
	// rt, when set, sends the requests itself instead of hc: hc then has
	// no cookie jar nor timeout of its own, and redirects are never
	// followed, so the http.Client would only copy each request's headers
	// for a redirect that never comes.
	rt http.RoundTripper
	// boundary separates the parts of text-to-image forms (formBodyWith).
	boundary string
	// header, when rt is set, is the headers of every text-to-image
	// request, shared by all and never changed (a RoundTripper does not
	// modify the request): formType is its Content-Type.
	header   http.Header
	formType string
}

var (
	_ executor.Provider = (*Client)(nil)
	_ executor.Bounded  = (*Client)(nil)
)

// CloseIdleConnections closes the connections c keeps open for its next
// requests: a caller done with c (watch makes a client per apply) calls
// it, so that no connection stays open until the idle timeout.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// New returns a Client for opts, defaults filled in. It makes no request.
func New(opts Options) *Client {
	c := &Client{
		url:       opts.URL,
		token:     opts.Token,
		timeout:   opts.Timeout,
		idle:      opts.IdleTimeout,
		maxBytes:  opts.MaxBytes,
		maxPixels: opts.MaxPixels,
		now:       opts.Now,
		userAgent: "pixform/" + opts.Version,
	}
	if c.url == "" {
		c.url = DefaultURL
	}
	c.shownURL = shownURL(c.url, c.token)
	if c.idle <= 0 {
		c.idle = DefaultIdleTimeout
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxBytes
	}
	if c.maxPixels <= 0 {
		c.maxPixels = executor.DefaultMaxImagePixels
	}
	// A copy, so that the caller's client is left as it was: redirects are
	// never followed, whatever client sends the requests.
	hc := http.Client{}
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		// Images come compressed already: asking for gzip (the
		// transport's default) adds a header to every request and
		// buys nothing.
		t.DisableCompression = true
		hc.Transport = t
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &hc
	if hc.Jar == nil && hc.Timeout == 0 {
		c.rt = hc.Transport
		if c.rt == nil {
			c.rt = http.DefaultTransport
		}
	}
	c.boundary = multipart.NewWriter(nil).Boundary()
	if c.now == nil {
		c.now = time.Now
	}
	if opts.Version == "" {
		c.userAgent = "pixform/dev"
	}
	c.formType = "multipart/form-data; boundary=" + c.boundary
	if c.rt != nil {
		c.header = http.Header{
			"Authorization": {"Bearer " + c.token},
			"Content-Type":  {c.formType},
			"Accept":        {"image/*"},
			"User-Agent":    {c.userAgent},
		}
	}
	return c
}

// Name returns providers.Imagine, the provider name the lockfile records.
func (c *Client) Name() string { return providers.Imagine }

// ImageBounds states the images the vendor serves: at most the configured
// pixels, at least MinSide on the shorter side, at the requested aspect
// ratio within AspectTolerance.
func (c *Client) ImageBounds() executor.ImageBounds {
	return executor.ImageBounds{MaxPixels: c.maxPixels, MinSide: MinSide, AspectTolerance: AspectTolerance}
}

// Render requests one image and streams it to w. It returns nil only when
// the whole image arrived; every failure is an *executor.Error classified
// by classify, except a failure to write to w, which is returned
// wrapped as it is. The token never appears in a returned error.
func (c *Client) Render(ctx context.Context, req executor.Request, w io.Writer) error {
	if err := c.checkToken(); err != nil {
		return err
	}
	body, contentType, err := formBodyWith(req, c.boundary)
	if err != nil {
		return &executor.Error{Class: executor.Invalid, Msg: fmt.Sprintf("build the request: %v", err), Err: err, NotSent: true}
	}
	return c.doRequest(ctx, endpoint{url: c.url, shown: c.shownURL}, body, contentType, w)
}

// endpoint is where one request goes: its URL, that URL as messages show
// it, and the edit operation it serves ("" for text-to-image).
type endpoint struct {
	url, shown, op string
}

// checkToken refuses, before any request, a token that is missing or
// cannot be sent in a header.
func (c *Client) checkToken() error {
	if c.token == "" {
		return &executor.Error{Class: executor.Fatal, Msg: "IMAGINE_API_TOKEN is not set: export it, or use -provider=draft to render offline placeholders", NotSent: true}
	}
	if err := CheckToken(c.token); err != nil {
		return &executor.Error{Class: executor.Fatal, Msg: err.Error(), NotSent: true}
	}
	return nil
}

// CheckToken refuses a token that cannot be sent in a header, saying why
// and what to do, without showing it.
func CheckToken(token string) error {
	if what := badHeaderValue(token); what != "" {
		return fmt.Errorf("IMAGINE_API_TOKEN cannot be sent in the Authorization header: it contains %s; set it to the token alone, without line breaks or other control characters", what)
	}
	return nil
}

// doRequest posts body to ep and streams the image it answers to w, with
// the caps, the idle watch, the redirect refusal and the classification of
// failures that every endpoint shares. It returns nil only when the whole
// body arrived; a failure to write to w is returned wrapped as it is.
func (c *Client) doRequest(ctx context.Context, ep endpoint, body []byte, contentType string, w io.Writer) error {
	// The idle watch cancels this context with errIdle, and the bound on
	// the whole request with errTimedOut: one context, not one for each.
	rctx, cancelIdle := context.WithCancelCause(ctx)
	defer cancelIdle(nil)
	if c.timeout > 0 {
		t := time.AfterFunc(c.timeout, func() { cancelIdle(errTimedOut) })
		defer t.Stop()
	}
	hr, err := http.NewRequestWithContext(rctx, http.MethodPost, ep.url, bytes.NewReader(body))
	if err == nil && hr.URL.Scheme != "http" && hr.URL.Scheme != "https" {
		err = fmt.Errorf("the scheme must be https (or http), not %q", hr.URL.Scheme)
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.URL would show the query
		}
		return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("bad Imagine API URL %s: %s: check IMAGINE_API_URL", ep.shown, clean(err.Error(), c.token, maxServerText))}
	}
	if c.header != nil && contentType == c.formType {
		hr.Header = c.header
	} else {
		hr.Header.Set("Authorization", "Bearer "+c.token)
		hr.Header.Set("Content-Type", contentType)
		hr.Header.Set("Accept", "image/*")
		hr.Header.Set("User-Agent", c.userAgent)
	}

	var resp *http.Response
	if c.rt != nil {
		resp, err = c.rt.RoundTrip(hr)
	} else {
		resp, err = c.hc.Do(hr)
	}
	if err != nil {
		return c.transportError(ctx, rctx, ep, "send the request", err)
	}
	c.reached.Store(true)
	defer resp.Body.Close()
	watch := newIdleWatch(resp.Body, c.idle, func() { cancelIdle(errIdle) })
	defer watch.stop()

	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return c.redirectError(resp, ep)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, rerr := io.ReadAll(io.LimitReader(watch, maxErrorBody))
		if rerr != nil && len(data) == 0 && resp.StatusCode != http.StatusTooManyRequests {
			return c.transportError(ctx, rctx, ep, fmt.Sprintf("read the %s error body", statusText(resp.StatusCode)), rerr)
		}
		perr := errorFor(resp.StatusCode, resp.Header, data, c.token, c.now(), ep.op)
		if resp.StatusCode == http.StatusForbidden && perr.Class == executor.Invalid {
			if e, ok := decodeError(data); !ok || e.Code == "" {
				if n := c.forbidden.Add(1); n >= forbiddenStreak {
					return &executor.Error{Class: executor.Fatal, Err: perr,
						Msg: fmt.Sprintf("%d answers in a row were HTTP 403 Forbidden with no Imagine error code (the last: %s): not the Imagine API's own answer, so something in front of it (a proxy, a firewall or a gateway at IMAGINE_API_URL) refuses the requests, and would refuse the rest: check IMAGINE_API_URL and the network between, then apply again", n, perr.Msg)}
				}
			}
		}
		return perr
	}
	c.forbidden.Store(0)

	if kind := notAnImage(resp.Header.Get("Content-Type")); kind != "" {
		data, _ := io.ReadAll(io.LimitReader(watch, maxErrorBody))
		return c.okButNotImage(resp, data, clean(kind, c.token, 80), ep.op)
	}
	if resp.ContentLength > c.maxBytes {
		return c.tooLarge(fmt.Sprintf("it announced %d bytes", resp.ContentLength))
	}

	// No image starts with text: a body that opens with '{', '[', '<' or
	// white space is an answer in words (JSON, HTML), whatever its
	// Content-Type says.
	cw := &countingWriter{w: w}
	var first [1]byte
	if n, err := io.ReadFull(watch, first[:]); n == 1 && textStart(first[0]) {
		data, _ := io.ReadAll(io.LimitReader(watch, maxErrorBody-1))
		return c.okButNotImage(resp, append(first[:], data...), "text", ep.op)
	} else if n == 1 {
		cw.Write(first[:])
	} else if err != io.EOF {
		return c.transportError(ctx, rctx, ep, "read the image (0 bytes in)", err)
	}
	buf := copyBufs.Get().(*[]byte)
	if cw.werr == nil {
		_, err = io.CopyBuffer(cw, io.LimitReader(watch, c.maxBytes-cw.n), *buf)
	}
	copyBufs.Put(buf)
	if err == nil && cw.werr == nil && cw.n == c.maxBytes {
		// The limit was reached: one more byte means the body is too large.
		var one [1]byte
		if n, _ := io.ReadFull(watch, one[:]); n > 0 {
			return c.tooLarge("it sent more")
		}
	}
	switch {
	case cw.werr != nil:
		return fmt.Errorf("write the image: %w", cw.werr)
	case err != nil:
		return c.transportError(ctx, rctx, ep, fmt.Sprintf("read the image (%d bytes in)", cw.n), err)
	case cw.n == 0:
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API answered %s with an empty body", statusText(resp.StatusCode))}
	case resp.ContentLength >= 0 && cw.n < resp.ContentLength:
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the image was cut short: %d of %d bytes", cw.n, resp.ContentLength), Err: io.ErrUnexpectedEOF}
	}
	return nil
}

// forbiddenStreak is how many 403 answers with no vendor code, with no
// 2xx between, stop the run: one or two fail their images alone, as a
// firewall rule tripped by a prompt would; more mean every request is
// refused.
const forbiddenStreak = 3

// textStart says that a body starting with b is text, not an image: PNG,
// JPEG and WebP start with bytes that are none of these.
func textStart(b byte) bool {
	return b == '{' || b == '[' || b == '<' || b == ' ' || b == '\t' || b == '\r' || b == '\n'
}

// okButNotImage is the failure of a 2xx answer whose body (data, at most
// maxErrorBody of it) is kind, not an image. The vendor's error JSON is
// classified by its code as on any other status: a 200 that says the
// token is invalid or the credits are out stops the run as a 401 or 402
// would. Anything else is transient.
func (c *Client) okButNotImage(resp *http.Response, data []byte, kind, op string) error {
	e, ok := decodeError(data)
	if ok && e.Code != "" && classify(resp.StatusCode, clean(e.Code, c.token, 20)) != executor.Transient {
		return errorFor(resp.StatusCode, resp.Header, data, c.token, c.now(), op)
	}
	said := ""
	if ok && e.Message != "" {
		said = ": " + clean(e.Message, c.token, maxServerText)
	} else if l := firstLine(data, c.token); l != "" {
		said = fmt.Sprintf(": %q", l)
	}
	return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API answered %s with %s instead of an image%s", statusText(resp.StatusCode), kind, said)}
}

// tooLarge is the transient failure of a body beyond maxBytes. The server
// made an answer for the request: its price counts as spent (Paid).
func (c *Client) tooLarge(why string) error {
	return &executor.Error{Class: executor.Transient, Paid: true, Err: errTooLarge,
		Msg: fmt.Sprintf("the Imagine API's answer is larger than %s (%s), more than any image it serves: refused, and paid for; raise max_image_bytes in the provider block if it really serves such images", byteSize(c.maxBytes), why)}
}

// redirectError refuses a 3xx answer: the API does not redirect, and
// following one would send the token, and take an image, elsewhere.
func (c *Client) redirectError(resp *http.Response, ep endpoint) error {
	to := "another location"
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := resp.Request.URL.Parse(loc); err == nil && u.Host != "" {
			to = clean(u.Host, c.token, 100)
			if to == "" {
				to = "another location"
			}
		}
	}
	return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("the Imagine API answered %s, a redirect to %s; pixform does not follow redirects: check IMAGINE_API_URL (now %s)", statusText(resp.StatusCode), to, ep.shown)}
}

// transportError classifies a failure to send or to read: the caller's
// cancellation stays recognisable (errors.Is context.Canceled); timeouts,
// resets and cut bodies are transient.
func (c *Client) transportError(ctx, rctx context.Context, ep endpoint, doing string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // ue.URL would show the query
	}
	text := clean(err.Error(), c.token, maxServerText)
	switch {
	case ctx.Err() != nil:
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("request to the Imagine API stopped: %v", ctx.Err()), Err: ctx.Err()}
	case errors.Is(context.Cause(rctx), errIdle):
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API sent no data for %s (%s); giving the request up", c.idle, doing), Err: errIdle}
	case rctx.Err() != nil:
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("request to the Imagine API timed out after %s (%s); raise the provider's timeout if the API is just slow", c.timeout, doing), Err: context.DeadlineExceeded}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API connection broke (%s): the response was cut short", doing), Err: io.ErrUnexpectedEOF}
	}
	if why := unreachable(err); why != "" && !c.reached.Load() {
		// Nothing has reached this server in this run: the URL or the
		// network is wrong, and retrying would only wait.
		return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("cannot connect to %s: %s; check IMAGINE_API_URL and your network", ep.shown, why), Err: errors.New(text)}
	}
	return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API request failed: %s: %s", doing, text), Err: errors.New(text)}
}

// unreachable names a failure to reach the server at all: a refused
// connection or a host that does not exist. Other failures give "".
func unreachable(err error) string {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "connection refused"
	}
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return "no such host"
	}
	return ""
}

// notAnImage names the kind of a 2xx Content-Type that cannot be an image
// (JSON or text), or returns "".
func notAnImage(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	switch {
	case mt == "application/json", strings.HasSuffix(mt, "+json"):
		return "JSON"
	case strings.HasPrefix(mt, "text/"):
		return mt
	}
	return ""
}

// formBody encodes req as the vendor's multipart form.
func formBody(req executor.Request) ([]byte, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fields := [][2]string{
		{"prompt", req.Prompt},
		{"style", req.Style},
		{"aspect_ratio", req.AspectRatio},
	}
	if req.Seed != 0 {
		fields = append(fields, [2]string{"seed", strconv.FormatInt(req.Seed, 10)})
	}
	for _, f := range fields {
		if f[1] == "" && f[0] != "prompt" {
			continue
		}
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, "", fmt.Errorf("write form field %s: %w", f[0], err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("close the form: %w", err)
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

// formBodyWith is formBody with the parts separated by boundary, which
// the Client draws once: the form is written by hand, in one allocation.
// A field that holds the boundary (it is random, so only by design) gets
// formBody's fresh one instead.
func formBodyWith(req executor.Request, boundary string) ([]byte, string, error) {
	var seed [20]byte
	fields := [4][2]string{
		{"prompt", req.Prompt},
		{"style", req.Style},
		{"aspect_ratio", req.AspectRatio},
	}
	if req.Seed != 0 {
		fields[3] = [2]string{"seed", string(strconv.AppendInt(seed[:0], req.Seed, 10))}
	}
	const disposition = "Content-Disposition: form-data; name=\"\"\r\n\r\n"
	n := len(boundary) + 6 // the closing delimiter
	for _, f := range fields {
		if f[1] == "" && f[0] != "prompt" {
			continue
		}
		if strings.Contains(f[1], boundary) {
			return formBody(req)
		}
		n += len(boundary) + 4 + len(disposition) + len(f[0]) + len(f[1]) + 2
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		if f[1] == "" && f[0] != "prompt" {
			continue
		}
		b = append(b, "--"...)
		b = append(b, boundary...)
		b = append(b, "\r\nContent-Disposition: form-data; name=\""...)
		b = append(b, f[0]...)
		b = append(b, "\"\r\n\r\n"...)
		b = append(b, f[1]...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "--"...)
	b = append(b, boundary...)
	b = append(b, "--\r\n"...)
	return b, "multipart/form-data; boundary=" + boundary, nil
}

// copyBufs holds the buffers that stream response bodies to their
// writers: a fresh 32 KiB buffer per image is garbage to zero and collect.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// countingWriter counts what reaches w and keeps w's own error apart from
// the body's read errors.
type countingWriter struct {
	w    io.Writer
	n    int64
	werr error
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	if err != nil {
		cw.werr = err
	}
	return n, err
}
