package imagine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/executor"
)

// ErrToken is in the chain of an error that stops the run because the
// API refused IMAGINE_API_TOKEN (missing, invalid, expired, or not
// validated): what the user does next is set a valid token.
var ErrToken = errors.New("the Imagine API refused IMAGINE_API_TOKEN")

// ErrNoCredits is in the chain of an error that stops the run because
// the account is out of credits: what the user does next is top it up.
var ErrNoCredits = errors.New("the Imagine account is out of credits")

// maxErrorBody is how much of a non-2xx body is read for the error.
const maxErrorBody = 64 << 10

// maxServerText bounds how much server-supplied text goes into one error.
const maxServerText = 300

// apiError is the vendor's error body:
// {"status":"error","code":"<code>","error":"<name>","message":"<text>"}.
type apiError struct {
	Status  string
	Code    string // decimal, whether the server sent a string or a number
	Name    string
	Message string
}

// decodeError parses an error body. ok is false when body is not the
// vendor's JSON error schema. It never panics, whatever body holds.
func decodeError(body []byte) (e apiError, ok bool) {
	var raw struct {
		Status  any `json:"status"`
		Code    any `json:"code"`
		Error   any `json:"error"`
		Message any `json:"message"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return apiError{}, false
	}
	e = apiError{
		Status:  jsonText(raw.Status),
		Code:    jsonText(raw.Code),
		Name:    jsonText(raw.Error),
		Message: jsonText(raw.Message),
	}
	if e.Status == "" && e.Code == "" && e.Name == "" && e.Message == "" {
		return apiError{}, false
	}
	return e, true
}

// jsonText renders a decoded JSON scalar as text: strings as they are,
// numbers in decimal (1202.0 becomes "1202"), anything else as empty.
func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return strconv.FormatInt(i, 10)
		}
		if f, err := v.Float64(); err == nil && f == float64(int64(f)) {
			return strconv.FormatInt(int64(f), 10)
		}
		return v.String()
	}
	return ""
}

// classify maps an HTTP status and vendor code to a failure class: rate
// limits (429, 1202) are throttled; bad credentials, no credits, an
// unsupported service, and a 404 or 405 without a vendor code (every
// request would get it) are fatal; a request the vendor refuses (1100,
// another 4xx) is invalid; server errors, timeouts and anything unexpected
// are transient. The code decides where the vendor documents it; the
// status decides otherwise.
func classify(status int, code string) executor.Class {
	switch {
	case status == http.StatusTooManyRequests || code == "1202":
		return executor.Throttled
	}
	switch code {
	case "1000", "1001", "1002", "1005", "1006", "1007", "1101", "1206":
		return executor.Fatal
	case "1100":
		return executor.Invalid
	case "1200", "1201", "1203", "1204", "1205", "1300":
		return executor.Transient
	}
	switch {
	case status == http.StatusUnauthorized, status == http.StatusPaymentRequired:
		return executor.Fatal
	case code == "" && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed):
		// Not the API's answer: every request would get it.
		return executor.Fatal
	case status == http.StatusRequestTimeout:
		return executor.Transient
	case status >= 500:
		return executor.Transient
	case status >= 400:
		return executor.Invalid
	}
	// 1xx and 3xx were not expected here; a retry may fare better.
	return executor.Transient
}

// statusText is "HTTP 503 Service Unavailable".
func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("HTTP %d %s", status, t)
	}
	return fmt.Sprintf("HTTP %d", status)
}

// describe is "HTTP 401 Unauthorized, code 1001 invalid_token" with what the
// server said, as far as it said it.
func describe(status int, e apiError) string {
	var b strings.Builder
	b.WriteString(statusText(status))
	if e.Code != "" {
		b.WriteString(", code ")
		b.WriteString(e.Code)
	}
	if e.Name != "" {
		b.WriteString(" ")
		b.WriteString(e.Name)
	}
	return b.String()
}

// errorFor builds the classified error of a non-2xx response to a request
// for op (an edits operation, or "" for text-to-image). body is at most
// maxErrorBody bytes of it; token is scrubbed from every piece of server
// text that goes into the message.
func errorFor(status int, header http.Header, body []byte, token string, now time.Time, op string) *executor.Error {
	e, ok := decodeError(body)
	if !ok {
		e = apiError{}
	}
	e.Code = clean(e.Code, token, 20)
	e.Name = clean(e.Name, token, 60)
	e.Message = clean(e.Message, token, maxServerText)
	class := classify(status, e.Code)
	what := describe(status, e)
	said := ""
	if e.Message != "" {
		said = ": " + strings.TrimRight(e.Message, ". ")
	} else if !ok {
		if snippet := firstLine(body, token); snippet != "" {
			said = fmt.Sprintf(" (not the API's JSON error: %q)", snippet)
		}
	}
	var msg string
	switch class {
	case executor.Throttled:
		ra := retryAfter(header.Get("Retry-After"), now)
		msg = fmt.Sprintf("the Imagine API is rate limiting requests (%s)%s", what, said)
		if ra > 0 {
			msg += fmt.Sprintf("; it asks to retry after %s", ra)
		}
		return &executor.Error{Class: class, RetryAfter: ra, Msg: msg}
	case executor.Invalid:
		m := strings.TrimRight(e.Message, ". ")
		if m == "" {
			m = "the request is invalid"
			if !ok {
				m = what + " from the Imagine API" + said
				what = ""
			}
		}
		if what != "" {
			m += " (" + what + ")"
		}
		msg = fmt.Sprintf("the Imagine API rejected the request: %s: %s", m, invalidHint(op))
	case executor.Fatal:
		var cause error
		msg, cause = fatalMessage(status, e, what, said, op)
		return &executor.Error{Class: class, Msg: msg, Err: cause}
	default:
		if ok {
			msg = fmt.Sprintf("the Imagine API failed to render the image (%s)%s", what, said)
		} else {
			msg = fmt.Sprintf("%s from the Imagine API%s", what, said)
		}
	}
	return &executor.Error{Class: class, Msg: msg}
}

// invalidHint says what to check in an image that the API refused.
func invalidHint(op string) string {
	s, ok := edits.Lookup(op)
	if !ok {
		return "check the image's prompt, style and aspect_ratio"
	}
	var fields []string
	if s.Image {
		fields = append(fields, "source (from)")
	}
	if s.Prompt {
		fields = append(fields, "prompt")
	}
	if s.Mask {
		fields = append(fields, "mask (the image's dimensions, white where to fill)")
	}
	if s.AspectRatio {
		fields = append(fields, "aspect_ratio")
	}
	if s.Seed {
		fields = append(fields, "seed")
	}
	return fmt.Sprintf("check the %s image's %s", op, strings.Join(fields, ", "))
}

// fatalMessage says what stops the run and what to do about it, naming
// IMAGINE_API_TOKEN but never its value; cause is ErrToken or
// ErrNoCredits when one is the reason, else nil.
func fatalMessage(status int, e apiError, what, said, op string) (msg string, cause error) {
	switch {
	case e.Code == "1000":
		return fmt.Sprintf("the Imagine API received no bearer token (%s)%s: check that IMAGINE_API_TOKEN is set and that whatever IMAGINE_API_URL points at passes the Authorization header on", what, said), ErrToken
	case e.Code == "1002":
		return fmt.Sprintf("IMAGINE_API_TOKEN has expired (%s)%s: set it to a fresh token from your Imagine dashboard", what, said), ErrToken
	case e.Code == "1005" || e.Code == "1006" || e.Code == "1007":
		return fmt.Sprintf("IMAGINE_API_TOKEN could not be validated (%s)%s: check your Imagine account and set IMAGINE_API_TOKEN to a valid token from your Imagine dashboard", what, said), ErrToken
	case e.Code == "1101" || (e.Code == "" && status == http.StatusPaymentRequired):
		return fmt.Sprintf("out of credits (%s)%s: top up your Imagine account", what, said), ErrNoCredits
	case e.Code == "" && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) && op != "":
		vendor, _ := edits.URL(DefaultURL, op)
		return fmt.Sprintf("%s from the Imagine API's %s endpoint%s: check IMAGINE_API_URL; the %s endpoint is found beside it, its %s replaced by the endpoint's path (the vendor's is %s)", what, op, said, op, edits.GenerationsPath, vendor), nil
	case e.Code == "" && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed):
		return fmt.Sprintf("%s from the Imagine API URL%s: check IMAGINE_API_URL (the vendor's endpoint is %s)", what, said, DefaultURL), nil
	case e.Code == "1206":
		return fmt.Sprintf("the Imagine API does not offer this service (%s)%s: check IMAGINE_API_URL and the image's style", what, said), nil
	default: // 1001, or 401 without a code
		return fmt.Sprintf("IMAGINE_API_TOKEN is invalid (%s)%s: set it to a valid token from your Imagine dashboard", what, said), ErrToken
	}
}

// retryAfter parses a Retry-After value, delta-seconds or an HTTP date
// relative to now. Absent, malformed or past values give 0.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		const maxSeconds = int64(24 * time.Hour / time.Second)
		return time.Duration(min(n, maxSeconds)) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return min(d, 24*time.Hour)
	}
	return 0
}

// clean makes server text safe for an error: the token removed (in any
// letter case), control and format characters dropped (no terminal escape
// reaches the screen), whitespace collapsed, and at most max runes kept.
// Truncation comes last, so that it cannot leave a piece of the token.
func clean(s, token string, max int) string {
	s = scrub(s, token)
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError {
			continue
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if !unicode.IsPrint(r) {
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	// Dropping characters may have joined the token back together.
	s = scrub(b.String(), token)
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// redacted replaces the token in text.
const redacted = "[REDACTED]"

// scrub replaces every occurrence of token in s, in any ASCII letter case
// (some parsers, of media types or header names, fold what the server
// sent), and with any whitespace, control or format characters between
// its letters (a server's line breaks, or characters that clean drops or
// collapses, would otherwise show it in pieces). It can be applied again
// to its own result.
func scrub(s, token string) string {
	if token == "" || len(s) < len(token) {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i+len(token) <= len(s); {
		if strings.HasPrefix(s[i:], redacted) {
			// A replacement made by an earlier pass stays as it is, even
			// when the token is a piece of it.
			i += len(redacted)
			continue
		}
		if n := tokenAt(s[i:], token); n > 0 {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(redacted)
			i += n
			last = i
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// tokenAt is the length of the token at the start of s, ASCII letters
// compared without case and any characters that are not printed between
// two of its bytes skipped; 0 when s does not start with it.
func tokenAt(s, token string) int {
	j := 0
	for k := 0; k < len(token); {
		if j < len(s) && foldByte(s[j]) == foldByte(token[k]) {
			j++
			k++
			continue
		}
		if k == 0 || j >= len(s) {
			return 0
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if r != utf8.RuneError && !unicode.IsSpace(r) && unicode.IsPrint(r) {
			return 0
		}
		j += size
	}
	return j
}

// foldByte is c with an ASCII upper-case letter folded to lower case.
func foldByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// firstLine is a cleaned first line of a non-JSON body, for the error. The
// token is scrubbed from the whole body first: a token the server broke
// across lines would otherwise leave its first piece on the first line.
func firstLine(body []byte, token string) string {
	if !utf8.Valid(body) {
		return ""
	}
	s := strings.TrimSpace(scrub(string(body), token))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return clean(s, token, 120)
}
