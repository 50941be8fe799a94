package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// gcsBucket is a gocloud blob driver for one Google Cloud Storage bucket,
// speaking the JSON API (storage/v1 and upload/storage/v1) over net/http.
//
// It is written here rather than taken from gocloud.dev/blob/gcsblob
// because gcsblob links cloud.google.com/go/storage, which links gRPC, its
// xDS resolver and the Envoy protobuf descriptors: 30 MB of the binary and
// 13 MB of pages that every pixform run touches at start, gs:// or not.
// It does only what Store needs: attributes (with the generation), media
// reads with a range, writes with the if-absent precondition
// (ifGenerationMatch=0), deletes conditional on a generation, and listing.
type gcsBucket struct {
	client *http.Client // authorised or anonymous; follows no redirect
	base   string       // "https://storage.googleapis.com", or an emulator's in tests
	name   string       // the bucket
	// chunk is the largest object sent in one request; a larger one goes
	// in a resumable upload of chunk-sized pieces (a multiple of 256 KiB),
	// so a writer holds at most chunk bytes.
	chunk int
}

// gcsEndpoint is where the JSON API is served.
const gcsEndpoint = "https://storage.googleapis.com"

// gcsChunk is gcsBucket.chunk outside tests: 8 MiB.
const gcsChunk = 8 << 20

// gcsGeneration is the generation of a GCS object, which Attributes' As
// fills: the version a delete is made conditional on.
type gcsGeneration int64

// gcsDeleteOptions is what DeleteOptions.BeforeDelete's As fills: a
// generation the delete is conditional on (ifGenerationMatch), 0 for none.
type gcsDeleteOptions struct {
	IfGenerationMatch int64
}

// gcsError is a JSON API error answer.
type gcsError struct {
	Op      string // "GET", "upload", ... with the object or "" for the bucket
	Object  string // the object's name, "" for the bucket
	Status  int
	Reason  string // the first error's reason: "notFound", "conditionNotMet", ...
	Message string // the server's message, cut short and cleaned
}

func (e *gcsError) Error() string {
	s := fmt.Sprintf("GCS %s: HTTP %d", e.Op, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// bucketMissing reports whether a 404 is about the bucket, not an object:
// the JSON API says "The specified bucket does not exist." for every
// request in a bucket that is not there; a list names only the bucket.
func (e *gcsError) bucketMissing() bool {
	return e.Status == http.StatusNotFound &&
		(e.Object == "" || strings.Contains(strings.ToLower(e.Message), "bucket does not exist"))
}

// errGCSUnimplemented answers the driver calls Store never makes.
var errGCSUnimplemented = errors.New("not implemented by pixform's GCS driver")

var _ driver.Bucket = (*gcsBucket)(nil)

// objectURL is the JSON API URL of an object (key "") or of the bucket's
// object collection, with query q.
func (b *gcsBucket) objectURL(upload bool, key string, q url.Values) string {
	var sb strings.Builder
	sb.WriteString(b.base)
	if upload {
		sb.WriteString("/upload")
	}
	sb.WriteString("/storage/v1/b/")
	sb.WriteString(url.PathEscape(b.name))
	sb.WriteString("/o")
	if key != "" {
		sb.WriteString("/")
		sb.WriteString(url.PathEscape(key))
	}
	if len(q) > 0 {
		sb.WriteString("?")
		sb.WriteString(q.Encode())
	}
	return sb.String()
}

// gcsObject is the JSON API's object resource, the fields read here.
type gcsObject struct {
	Name        string `json:"name"`
	Size        string `json:"size"`
	Generation  string `json:"generation"`
	ContentType string `json:"contentType"`
	Updated     string `json:"updated"`
	TimeCreated string `json:"timeCreated"`
	MD5Hash     string `json:"md5Hash"`
	ETag        string `json:"etag"`
}

func (o *gcsObject) size() int64 { n, _ := strconv.ParseInt(o.Size, 10, 64); return n }
func (o *gcsObject) generation() int64 {
	n, _ := strconv.ParseInt(o.Generation, 10, 64)
	return n
}
func (o *gcsObject) md5() []byte { b, _ := base64.StdEncoding.DecodeString(o.MD5Hash); return b }
func parseGCSTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// retryable says whether a request may be sent again after this answer:
// reads after any transport failure, 429 or 5xx; writes and deletes only
// when they cannot have taken effect (429, or the connection was never
// made), so that a retried create never meets its own first attempt and
// reports the object as someone else's.
func retryable(idempotent bool, resp *http.Response, err error) bool {
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return true
		}
		return idempotent
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	return idempotent && resp.StatusCode >= 500
}

// gcsAttempts is how many times a retryable request is sent.
const gcsAttempts = 3

// do sends the request made by mk, retrying as retryable allows with
// jittered backoff, and returns a response whose status is 2xx, or an
// error (a *gcsError for any other answer, a redirect included: a 3xx
// taken for success would report an upload that never happened). mk is
// called per attempt.
func (b *gcsBucket) do(ctx context.Context, op, key string, idempotent bool, mk func() (*http.Request, error)) (*http.Response, error) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		req, err := mk()
		if err != nil {
			return nil, err
		}
		resp, err := b.client.Do(req.WithContext(ctx))
		if err == nil && resp.StatusCode/100 == 2 {
			return resp, nil
		}
		if attempt < gcsAttempts && ctx.Err() == nil && retryable(idempotent, resp, err) {
			if resp != nil {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
			}
			t := time.NewTimer(backoff/2 + rand.N(backoff))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
			backoff *= 4
			continue
		}
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 == 3 {
			// httpClient follows no redirect: the answer is the redirect.
			return nil, &gcsError{Op: op, Object: key, Status: resp.StatusCode, Message: "the server redirects elsewhere; redirects are not followed"}
		}
		return nil, readGCSError(op, key, resp)
	}
}

// readGCSError reads an error answer: {"error": {"code", "message",
// "errors": [{"reason"}]}}, or any body, of which a little is kept.
func readGCSError(op, key string, resp *http.Response) *gcsError {
	e := &gcsError{Op: op, Object: key, Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	var doc struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Error.Message != "" {
		e.Message = doc.Error.Message
		if len(doc.Error.Errors) > 0 {
			e.Reason = doc.Error.Errors[0].Reason
		}
	} else {
		e.Message = string(body)
	}
	e.Message = cleanMessage(e.Message)
	return e
}

// cleanMessage keeps a server's message printable and short: it comes
// from outside and goes into an error a person reads.
func cleanMessage(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(s, "?"))
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "..."
	}
	return s
}

// getJSON GETs u and decodes its JSON answer into v.
func (b *gcsBucket) getJSON(ctx context.Context, op, key, u string, v any) error {
	resp, err := b.do(ctx, op, key, true, func() (*http.Request, error) {
		return http.NewRequest(http.MethodGet, u, nil)
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
		return fmt.Errorf("GCS %s: the answer does not parse: %w", op, err)
	}
	return nil
}

// ErrorCode maps an error of this driver to a gocloud code.
func (b *gcsBucket) ErrorCode(err error) gcerrors.ErrorCode {
	var e *gcsError
	switch {
	case errors.As(err, &e):
		switch {
		case e.Status == http.StatusNotFound:
			return gcerrors.NotFound
		case e.Status == http.StatusPreconditionFailed:
			return gcerrors.FailedPrecondition
		case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
			return gcerrors.PermissionDenied
		case e.Status == http.StatusTooManyRequests:
			return gcerrors.ResourceExhausted
		case e.Status == http.StatusBadRequest:
			return gcerrors.InvalidArgument
		case e.Status >= 500:
			return gcerrors.Internal
		}
	case errors.Is(err, errGCSUnimplemented):
		return gcerrors.Unimplemented
	case errors.Is(err, context.Canceled):
		return gcerrors.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return gcerrors.DeadlineExceeded
	}
	return gcerrors.Unknown
}

// As exposes nothing of the client.
func (b *gcsBucket) As(any) bool { return false }

// ErrorAs sets *gcsError targets.
func (b *gcsBucket) ErrorAs(err error, i any) bool {
	if p, ok := i.(**gcsError); ok {
		return errors.As(err, p)
	}
	return false
}

// Attributes reads an object's metadata; its As fills a *gcsGeneration.
func (b *gcsBucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	var o gcsObject
	if err := b.getJSON(ctx, "GET", key, b.objectURL(false, key, nil), &o); err != nil {
		return nil, err
	}
	gen := o.generation()
	return &driver.Attributes{
		ContentType: o.ContentType,
		CreateTime:  parseGCSTime(o.TimeCreated),
		ModTime:     parseGCSTime(o.Updated),
		Size:        o.size(),
		MD5:         o.md5(),
		ETag:        o.ETag,
		AsFunc: func(i any) bool {
			p, ok := i.(*gcsGeneration)
			if ok {
				*p = gcsGeneration(gen)
			}
			return ok
		},
	}, nil
}

// maxListPages bounds the pages of one listing, and maxEmptyListPages
// the pages in a row that bring nothing: a server whose chain of page
// tokens never ends (broken, or hostile) fails the listing instead of
// keeping it going forever. At GCS's 1,000 objects a page, the first
// is a billion objects.
const (
	maxListPages      = 1 << 20
	maxEmptyListPages = 1000
)

// maxSeenTokens bounds the server's page tokens a listing remembers (as
// short hashes) to tell one that comes round again.
const maxSeenTokens = 64

// listCursor is the page token ListPaged hands gocloud: the server's
// token, with what the listing has seen so far, so that each page can
// tell a token the server repeats or a chain that does not end.
type listCursor struct {
	Server string `json:"s"`
	Pages  int    `json:"p"` // pages listed before this one
	Empty  int    `json:"e"` // of those, the last ones in a row that held nothing
	// Seen holds the hashes of the server's last maxSeenTokens tokens
	// (Server's last), and Mark that of the token given after the last
	// page whose number is a power of two: a token seen again means the
	// tokens go round, and Mark catches a round longer than Seen holds
	// within a few rounds (Brent's cycle detection).
	Seen []string `json:"h,omitempty"`
	Mark string   `json:"m,omitempty"`
}

// tokenHash is the short hash a listCursor remembers a token by.
func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:8])
}

// ListPaged lists one page of objects.
func (b *gcsBucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	q := url.Values{}
	if opts.Prefix != "" {
		q.Set("prefix", opts.Prefix)
	}
	if opts.Delimiter != "" {
		q.Set("delimiter", opts.Delimiter)
	}
	if opts.PageSize > 0 {
		q.Set("maxResults", strconv.Itoa(opts.PageSize))
	}
	var cur listCursor
	if len(opts.PageToken) > 0 {
		if err := json.Unmarshal(opts.PageToken, &cur); err != nil || cur.Server == "" {
			return nil, fmt.Errorf("GCS list: the page token %.40q is not one this driver gave", opts.PageToken)
		}
		q.Set("pageToken", cur.Server)
	}
	var doc struct {
		Items         []gcsObject `json:"items"`
		Prefixes      []string    `json:"prefixes"`
		NextPageToken string      `json:"nextPageToken"`
	}
	u := b.objectURL(false, "", q)
	if err := b.getJSON(ctx, "list", "", u, &doc); err != nil {
		return nil, err
	}
	page := &driver.ListPage{}
	for i := range doc.Items {
		o := &doc.Items[i]
		page.Objects = append(page.Objects, &driver.ListObject{Key: o.Name, ModTime: parseGCSTime(o.Updated), Size: o.size(), MD5: o.md5()})
	}
	for _, p := range doc.Prefixes {
		page.Objects = append(page.Objects, &driver.ListObject{Key: p, IsDir: true})
	}
	if doc.NextPageToken == "" {
		return page, nil
	}
	next := listCursor{Server: doc.NextPageToken, Pages: cur.Pages + 1, Mark: cur.Mark}
	if len(page.Objects) == 0 {
		next.Empty = cur.Empty + 1
	}
	h := tokenHash(doc.NextPageToken)
	if next.Pages&(next.Pages-1) == 0 {
		next.Mark = h
	}
	switch {
	case cur.Server != "" && doc.NextPageToken == cur.Server:
		return nil, fmt.Errorf("GCS list %s: the server answered page %d with the very page token it was asked for, so the listing would never end; "+
			"GCS itself does not do that: check the server or proxy the store's URL reaches", cleanURL(u), next.Pages)
	case slices.Contains(cur.Seen, h) || h == cur.Mark:
		return nil, fmt.Errorf("GCS list %s: the server answered page %d with the page token of an earlier page, so the listing would go round forever; "+
			"GCS itself does not do that: check the server or proxy the store's URL reaches", cleanURL(u), next.Pages)
	case next.Pages >= maxListPages || next.Empty >= maxEmptyListPages:
		return nil, fmt.Errorf("GCS list %s: the server gave %d pages (%d empty in a row) and still a next page token; "+
			"the listing stops here: check the server or proxy the store's URL reaches", cleanURL(u), next.Pages, next.Empty)
	}
	seen := cur.Seen
	if len(seen) >= maxSeenTokens {
		seen = seen[len(seen)-maxSeenTokens+1:]
	}
	next.Seen = append(slices.Clip(seen), h)
	tok, err := json.Marshal(next)
	if err != nil {
		return nil, err
	}
	page.NextPageToken = tok
	return page, nil
}

// cleanURL is u without its query: a page token from the server is not
// repeated into messages.
func cleanURL(u string) string {
	u, _, _ = strings.Cut(u, "?")
	return u
}

// gcsReader is a media download.
type gcsReader struct {
	body  io.ReadCloser
	attrs driver.ReaderAttributes
}

func (r *gcsReader) Read(p []byte) (int, error)           { return r.body.Read(p) }
func (r *gcsReader) Close() error                         { return r.body.Close() }
func (r *gcsReader) Attributes() *driver.ReaderAttributes { return &r.attrs }
func (r *gcsReader) As(any) bool                          { return false }
func (b *gcsBucket) Copy(context.Context, string, string, *driver.CopyOptions) error {
	return errGCSUnimplemented
}
func (b *gcsBucket) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", errGCSUnimplemented
}

// NewRangeReader downloads length bytes (all when negative) from offset.
func (b *gcsBucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	if length == 0 {
		a, err := b.Attributes(ctx, key)
		if err != nil {
			return nil, err
		}
		return &gcsReader{body: io.NopCloser(strings.NewReader("")), attrs: driver.ReaderAttributes{ContentType: a.ContentType, ModTime: a.ModTime, Size: a.Size}}, nil
	}
	u := b.objectURL(false, key, url.Values{"alt": {"media"}})
	resp, err := b.do(ctx, "GET", key, true, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		switch {
		case length > 0:
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
		case offset > 0:
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		}
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	r := &gcsReader{body: resp.Body, attrs: driver.ReaderAttributes{ContentType: resp.Header.Get("Content-Type"), Size: resp.ContentLength}}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		r.attrs.ModTime = t
	}
	// A range answer says the whole object's size after the '/'.
	if cr := resp.Header.Get("Content-Range"); resp.StatusCode == http.StatusPartialContent && cr != "" {
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				r.attrs.Size = n
			}
		}
	}
	return r, nil
}

// Delete deletes key, conditional on the generation BeforeDelete sets.
func (b *gcsBucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	var do gcsDeleteOptions
	if opts != nil && opts.BeforeDelete != nil {
		if err := opts.BeforeDelete(func(i any) bool {
			p, ok := i.(**gcsDeleteOptions)
			if ok {
				*p = &do
			}
			return ok
		}); err != nil {
			return err
		}
	}
	q := url.Values{}
	if do.IfGenerationMatch != 0 {
		q.Set("ifGenerationMatch", strconv.FormatInt(do.IfGenerationMatch, 10))
	}
	u := b.objectURL(false, key, q)
	resp, err := b.do(ctx, "DELETE", key, false, func() (*http.Request, error) {
		return http.NewRequest(http.MethodDelete, u, nil)
	})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Close releases idle connections.
func (b *gcsBucket) Close() error {
	b.client.CloseIdleConnections()
	return nil
}

// NewTypedWriter writes key: objects up to b.chunk bytes in one media
// upload, larger ones in a resumable upload. With IfNotExist, the write is
// conditional on the object not existing (ifGenerationMatch=0), and a 412
// answer is a FailedPrecondition. Nothing is published before Close, and
// Close publishes nothing when ctx is done.
func (b *gcsBucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	if opts != nil && opts.BeforeWrite != nil {
		if err := opts.BeforeWrite(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	q := url.Values{"name": {key}}
	if opts != nil && opts.IfNotExist {
		q.Set("ifGenerationMatch", "0")
	}
	return &gcsWriter{ctx: ctx, b: b, key: key, contentType: contentType, query: q}, nil
}

// gcsWriter buffers up to a chunk; see NewTypedWriter.
type gcsWriter struct {
	ctx         context.Context
	b           *gcsBucket
	key         string
	contentType string
	query       url.Values
	buf         []byte
	session     string // the resumable upload's URI, once started
	sent        int64  // bytes the session has accepted
	err         error  // the first failure; every later call returns it
}

func (w *gcsWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = err
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == w.b.chunk {
			// More bytes follow a full chunk: it is not the last one.
			if err := w.sendChunk(false); err != nil {
				w.err = err
				return n, err
			}
		}
		if w.buf == nil {
			w.buf = make([]byte, 0, min(w.b.chunk, max(len(p), 64<<10)))
		}
		k := min(len(p), w.b.chunk-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		n += k
	}
	return n, nil
}

// Close publishes the object, unless ctx is done or a write failed.
func (w *gcsWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.session != "" {
		return w.sendChunk(true)
	}
	resp, err := w.b.do(w.ctx, "upload", w.key, false, func() (*http.Request, error) {
		q := url.Values{"uploadType": {"media"}}
		for k, v := range w.query {
			q[k] = v
		}
		req, err := http.NewRequest(http.MethodPost, w.b.objectURL(true, "", q), bytes.NewReader(w.buf))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", w.contentTypeOr())
		return req, nil
	})
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil
}

func (w *gcsWriter) contentTypeOr() string {
	if w.contentType == "" {
		return "application/octet-stream"
	}
	return w.contentType
}

// sendChunk sends the buffer to the resumable session, starting it first;
// last says that the buffer ends the object.
func (w *gcsWriter) sendChunk(last bool) error {
	if w.session == "" {
		if err := w.startSession(); err != nil {
			return err
		}
	}
	end := w.sent + int64(len(w.buf))
	total := "*"
	if last {
		total = strconv.FormatInt(end, 10)
	}
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPut, w.session, bytes.NewReader(w.buf))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%s", w.sent, end-1, total))
	resp, err := w.b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case last && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated):
	case !last && resp.StatusCode == http.StatusPermanentRedirect: // "308 Resume Incomplete"
		// The server says how much it kept: "Range: bytes=0-N". Anything
		// but all of it would need a resend, which this writer does not do.
		if rg := resp.Header.Get("Range"); rg != "bytes=0-"+strconv.FormatInt(end-1, 10) {
			return &gcsError{Op: "upload", Object: w.key, Status: resp.StatusCode, Message: fmt.Sprintf("the server kept %q of the first %d bytes", rg, end)}
		}
	case resp.StatusCode >= 400:
		return readGCSError("upload", w.key, resp)
	default:
		return &gcsError{Op: "upload", Object: w.key, Status: resp.StatusCode, Message: "unexpected answer to a resumable upload chunk"}
	}
	w.sent = end
	w.buf = w.buf[:0]
	return nil
}

// startSession starts a resumable upload with the writer's preconditions.
// The session URI must be on the server the bucket is on: the next
// requests carry the credentials there.
func (w *gcsWriter) startSession() error {
	q := url.Values{"uploadType": {"resumable"}}
	for k, v := range w.query {
		q[k] = v
	}
	u := w.b.objectURL(true, "", q)
	resp, err := w.b.do(w.ctx, "upload", w.key, false, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, u, strings.NewReader("{}"))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("X-Upload-Content-Type", w.contentTypeOr())
		return req, nil
	})
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	base, _ := url.Parse(w.b.base)
	if err != nil || loc.Scheme != base.Scheme || loc.Host != base.Host {
		return &gcsError{Op: "upload", Object: w.key, Status: resp.StatusCode, Message: "the resumable upload's session URI is missing or on another server"}
	}
	w.session = loc.String()
	return nil
}

// gcsTokenTimeout bounds one token request, answer included.
const gcsTokenTimeout = 30 * time.Second

// gcsScope is the OAuth scope of the store's requests.
const gcsScope = "https://www.googleapis.com/auth/devstorage.read_write"

// openGCS opens a gs:// bucket: with anonymous=true, without credentials;
// else with Application Default Credentials from the standard chain
// (GOOGLE_APPLICATION_CREDENTIALS, gcloud's well-known file, the metadata
// server). Requests, token requests included, follow no redirect.
func openGCS(ctx context.Context, u string, loc location, cfg openConfig) (*blob.Bucket, error) {
	client := httpClient()
	if loc.query.Get("anonymous") != "true" {
		// The token source keeps this context for every later refresh: it
		// must outlive Open's deadline, and carry the client that follows
		// no redirect. oauth2 asks for a token without the request's
		// context, so the token client has a deadline of its own: a token
		// endpoint that stalls mid-answer must not hold every store call
		// queued behind the token source's lock.
		tokenClient := httpClient()
		tokenClient.Timeout = gcsTokenTimeout
		if cfg.tokenTimeout > 0 {
			tokenClient.Timeout = cfg.tokenTimeout
		}
		tctx := context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, tokenClient)
		creds, err := google.FindDefaultCredentials(tctx, gcsScope)
		if err != nil {
			k := kindOf(ctx, err)
			if k == Other {
				k = NoCredentials
			}
			return nil, &Error{Kind: k, URL: u, Err: err}
		}
		client.Transport = &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, creds.TokenSource), Base: client.Transport}
	}
	b := &gcsBucket{client: client, base: gcsEndpoint, name: loc.bucket, chunk: gcsChunk}
	if cfg.gcsEndpoint != "" {
		b.base = strings.TrimSuffix(cfg.gcsEndpoint, "/")
	}
	if cfg.gcsChunk > 0 {
		b.chunk = cfg.gcsChunk
	}
	return blob.NewBucket(b), nil
}
