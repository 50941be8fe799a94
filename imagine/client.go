package imagine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pixform/pixform/executor"
)

// DefaultURL is the vendor's text-to-image endpoint.
const DefaultURL = "https://api.vyro.ai/v2/image/generations"

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
	token     string
	hc        *http.Client
	timeout   time.Duration
	now       func() time.Time
	userAgent string
}

var _ executor.Provider = (*Client)(nil)

// New returns a Client for opts, defaults filled in. It makes no request.
func New(opts Options) *Client {
	c := &Client{
		url:       opts.URL,
		token:     opts.Token,
		hc:        opts.HTTPClient,
		timeout:   opts.Timeout,
		now:       opts.Now,
		userAgent: "pixform/" + opts.Version,
	}
	if c.url == "" {
		c.url = DefaultURL
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		c.hc = &http.Client{Transport: t}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if opts.Version == "" {
		c.userAgent = "pixform/dev"
	}
	return c
}

// Name returns "imagine", the provider name the lockfile records.
func (c *Client) Name() string { return "imagine" }

// Render requests one image and streams it to w. It returns nil only when
// the whole image arrived; every failure is an *executor.Error whose class
// follows SPEC.md, except a failure to write to w, which is returned
// wrapped as it is. The token never appears in a returned error.
func (c *Client) Render(ctx context.Context, req executor.Request, w io.Writer) error {
	if c.token == "" {
		return &executor.Error{Class: executor.Fatal, Msg: "IMAGINE_API_TOKEN is not set: export it, or use -provider=draft to render offline placeholders"}
	}
	body, contentType, err := formBody(req)
	if err != nil {
		return &executor.Error{Class: executor.Invalid, Msg: fmt.Sprintf("build the request: %v", err), Err: err}
	}

	rctx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	hr, err := http.NewRequestWithContext(rctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("bad Imagine API URL %q: %v: check IMAGINE_API_URL", scrub(c.url, c.token), scrub(err.Error(), c.token))}
	}
	hr.Header.Set("Authorization", "Bearer "+c.token)
	hr.Header.Set("Content-Type", contentType)
	hr.Header.Set("Accept", "image/*")
	hr.Header.Set("User-Agent", c.userAgent)

	resp, err := c.hc.Do(hr)
	if err != nil {
		return c.transportError(ctx, rctx, "send the request", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if rerr != nil && len(data) == 0 && resp.StatusCode != http.StatusTooManyRequests {
			return c.transportError(ctx, rctx, fmt.Sprintf("read the %s error body", statusText(resp.StatusCode)), rerr)
		}
		return errorFor(resp.StatusCode, resp.Header, data, c.token, c.now())
	}

	if kind := notAnImage(resp.Header.Get("Content-Type")); kind != "" {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		said := ""
		if e, ok := decodeError(data); ok && e.Message != "" {
			said = ": " + clean(e.Message, c.token, maxServerText)
		} else if l := firstLine(data, c.token); l != "" {
			said = fmt.Sprintf(": %q", l)
		}
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API answered %s with %s instead of an image%s", statusText(resp.StatusCode), kind, said)}
	}

	cw := &countingWriter{w: w}
	_, err = io.Copy(cw, resp.Body)
	switch {
	case cw.werr != nil:
		return fmt.Errorf("write the image: %w", cw.werr)
	case err != nil:
		return c.transportError(ctx, rctx, fmt.Sprintf("read the image (%d bytes in)", cw.n), err)
	case cw.n == 0:
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API answered %s with an empty body", statusText(resp.StatusCode))}
	case resp.ContentLength >= 0 && cw.n < resp.ContentLength:
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the image was cut short: %d of %d bytes", cw.n, resp.ContentLength), Err: io.ErrUnexpectedEOF}
	}
	return nil
}

// transportError classifies a failure to send or to read: the caller's
// cancellation stays recognisable (errors.Is context.Canceled); timeouts,
// resets and cut bodies are transient.
func (c *Client) transportError(ctx, rctx context.Context, doing string, err error) error {
	text := scrub(err.Error(), c.token)
	switch {
	case ctx.Err() != nil:
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("request to the Imagine API stopped: %v", ctx.Err()), Err: ctx.Err()}
	case rctx.Err() != nil:
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("request to the Imagine API timed out after %s (%s); raise the provider's timeout if the API is just slow", c.timeout, doing), Err: context.DeadlineExceeded}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API connection broke (%s): the response was cut short", doing), Err: io.ErrUnexpectedEOF}
	}
	return &executor.Error{Class: executor.Transient, Msg: fmt.Sprintf("the Imagine API request failed: %s: %s", doing, text), Err: errors.New(text)}
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
