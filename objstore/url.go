package objstore

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"
)

// location is a store URL after validation: which bucket, under which
// prefix, with which opener parameters. It holds no credential.
type location struct {
	scheme string     // s3, gs, azblob, file, mem
	bucket string     // bucket or container; for file, the absolute directory
	prefix string     // "" or "a/b/": the URL's path after the bucket
	query  url.Values // parameters for the gocloud opener, all allowed and secret-free
}

// schemes are the supported URL schemes and the query parameters each one
// passes through to its gocloud opener. A parameter not listed is refused,
// so a parameter that could carry a secret never reaches an SDK.
var schemes = map[string]map[string]bool{
	"s3": {
		"region": true, "endpoint": true, "use_path_style": true, "s3ForcePathStyle": true,
		"disable_https": true, "profile": true, "dualstack": true, "fips": true,
		"hostname_immutable": true, "anonymous": true, "accelerate": true, "ssetype": true,
		"kmskeyid": true, "rate_limiter_capacity": true, "request_checksum_calculation": true,
		"response_checksum_validation": true,
	},
	"gs":     {"anonymous": true},
	"azblob": {"domain": true, "protocol": true, "cdn": true, "localemu": true},
	"file":   {},
	"mem":    {},
}

// secretParams are query keys (lower case, without '-', '_' and '.') that
// name a secret or a signature outright. Azure SAS tokens are recognised by
// their "sig" and "sv"/"se"/"sp" fields.
var secretParams = map[string]bool{
	"sig": true, "sas": true, "key": true, "sv": true, "se": true, "sp": true, "sr": true,
	"st": true, "ss": true, "srt": true, "spr": true, "skoid": true, "sktid": true,
	"skt": true, "ske": true, "sks": true, "skv": true, "pass": true, "pw": true, "pwd": true,
}

// secretWords are substrings of a query key that mark it as a secret.
var secretWords = []string{
	"secret", "password", "passwd", "token", "signature", "credential", "accesskey",
	"accountkey", "sharedkey", "apikey", "privatekey", "sessionkey", "auth", "sastoken",
}

// isSecretParam reports whether a query key looks like it carries a secret:
// X-Amz-*, X-Goog-*, a known secret name, or a key containing a secret word.
func isSecretParam(k string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, k)
	if strings.HasPrefix(n, "xamz") || strings.HasPrefix(n, "xgoog") || strings.HasPrefix(n, "xms") || secretParams[n] {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// CheckURL checks a store URL as Open does before it opens anything: its
// scheme, bucket, prefix and parameters, and that it carries no
// credential. It makes no request and touches no file. Its error is an
// *Error of kind BadURL, whose URL is redacted.
func CheckURL(raw string) error {
	_, err := parseLocation(raw)
	return err
}

// FileDir returns the local directory that the file:// store URL raw
// opens (whatever host it names, "" or "localhost"), and ok false for a
// URL of another scheme or one that Open refuses: the very directory Open
// would use, for a caller that must judge it first.
func FileDir(raw string) (dir string, ok bool) {
	loc, err := parseLocation(raw)
	if err != nil || loc.scheme != "file" {
		return "", false
	}
	return loc.bucket, true
}

// parseLocation validates a store URL and translates it: the path after
// the bucket becomes the prefix, parameters are checked against the
// scheme's list, and any credential is refused. Its errors are *Error of
// kind BadURL, whose URL is redacted.
func parseLocation(raw string) (location, error) {
	bad := func(format string, a ...any) (location, error) {
		return location{}, &Error{Kind: BadURL, URL: redactRaw(raw), Err: fmt.Errorf(format, a...)}
	}
	if strings.TrimSpace(raw) == "" {
		return bad("the store URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	if u.User != nil {
		return bad("the URL carries credentials (user information before '@'); credentials come only from the cloud's environment or credential chain")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("the query is malformed")
	}
	for k := range q {
		if isSecretParam(k) {
			return bad("the URL carries a secret (query parameter %q); credentials come only from the cloud's environment or credential chain", k)
		}
	}
	allowed, ok := schemes[u.Scheme]
	if !ok {
		return bad("unsupported scheme %q: use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, azblob://CONTAINER/PREFIX or file:///DIR", u.Scheme)
	}
	if u.Opaque != "" {
		return bad("the URL must be SCHEME://BUCKET/PREFIX")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("the URL must not have a fragment ('#')")
	}
	for k, vs := range q {
		if !allowed[k] {
			if k == "prefix" {
				return bad("put the prefix in the path (%s://BUCKET/PREFIX), not in ?prefix=", u.Scheme)
			}
			return bad("unknown query parameter %q for %s://", k, u.Scheme)
		}
		if len(vs) != 1 {
			return bad("query parameter %q is given %d times", k, len(vs))
		}
	}
	if ep := q.Get("endpoint"); ep != "" || q.Has("endpoint") {
		e, err := url.Parse(ep)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return bad("endpoint must be an http:// or https:// URL")
		}
		if e.User != nil || e.RawQuery != "" || e.Fragment != "" {
			return bad("endpoint must not carry credentials or a query; credentials come only from the cloud's environment or credential chain")
		}
	}
	loc := location{scheme: u.Scheme, query: q}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return bad("a file:// URL names an absolute directory: file:///DIR (three slashes)")
		}
		if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
			return bad("a file:// URL names an absolute directory: file:///DIR")
		}
		dir := strings.TrimSuffix(u.Path, "/")
		if dir == "" || path.Clean(dir) != dir {
			return bad("the directory must be an absolute, clean path other than / (no '.', '..' or '//')")
		}
		if strings.ContainsRune(dir, 0) {
			return bad("the directory contains a NUL byte")
		}
		loc.bucket = localDir(dir)
		return loc, nil
	case "mem":
		loc.bucket = u.Host
	default:
		if u.Host == "" {
			return bad("name the bucket: %s://BUCKET/PREFIX", u.Scheme)
		}
		if u.Port() != "" || strings.Contains(u.Host, ":") {
			return bad("the bucket name has a port; an S3-compatible server goes in ?endpoint=http://HOST:PORT")
		}
		loc.bucket = u.Host
	}
	if strings.ContainsAny(loc.bucket, "/\\%") {
		return bad("bad bucket name %q", loc.bucket)
	}
	p := strings.Trim(u.Path, "/")
	if p != "" {
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return bad("the prefix %q has an empty, '.' or '..' segment", p)
			}
		}
		if strings.ContainsRune(p, 0) || strings.ContainsRune(p, '\\') {
			return bad("the prefix %q contains a NUL byte or a backslash", p)
		}
		loc.prefix = p + "/"
	}
	return loc, nil
}

// String is the canonical URL of the location, for messages. It holds no
// credential: parseLocation refused any.
func (l location) String() string {
	var b strings.Builder
	b.WriteString(l.scheme)
	b.WriteString("://")
	if l.scheme == "file" {
		b.WriteString(l.bucket)
		return b.String()
	}
	b.WriteString(l.bucket)
	if l.prefix != "" {
		b.WriteString("/")
		b.WriteString(strings.TrimSuffix(l.prefix, "/"))
	}
	if len(l.query) > 0 {
		keys := make([]string, 0, len(l.query))
		for k := range l.query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i == 0 {
				b.WriteString("?")
			} else {
				b.WriteString("&")
			}
			b.WriteString(queryEscape(k))
			b.WriteString("=")
			b.WriteString(queryEscape(l.query.Get(k)))
		}
	}
	return b.String()
}

// openerURL is the URL handed to the scheme's gocloud opener: the bucket
// and the passed-through parameters, without the prefix (Open wraps the
// bucket in blob.PrefixedBucket instead of passing ?prefix=).
func (l location) openerURL() *url.URL {
	return &url.URL{Scheme: l.scheme, Host: l.bucket, RawQuery: l.query.Encode()}
}

// redactRaw is a URL that failed validation, fit for a message: no user
// information, every query value replaced by REDACTED except those of
// allowed, non-secret keys, and no fragment. A URL that does not parse is
// cut at its first '?' and stripped of anything before an '@'.
func redactRaw(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		s := raw
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
		}
		if i := strings.LastIndex(s, "@"); i >= 0 {
			if j := strings.Index(s, "://"); j >= 0 && j < i {
				s = s[:j+3] + "REDACTED@" + s[i+1:]
			} else {
				s = "REDACTED@" + s[i+1:]
			}
		}
		return strings.ToValidUTF8(s, "?")
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.Opaque != "" {
		u.Opaque = redactOpaque(u.Opaque)
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = "REDACTED"
		} else {
			allowed := schemes[u.Scheme]
			out := url.Values{}
			for k, vs := range q {
				for _, v := range vs {
					if !allowed[k] || isSecretParam(k) {
						v = "REDACTED"
					} else if k == "endpoint" {
						v = redactRaw(v)
					}
					out.Add(k, v)
				}
			}
			u.RawQuery = out.Encode()
		}
	}
	return strings.ToValidUTF8(u.String(), "?")
}

// redactOpaque keeps only what precedes an '@' or '?' in an opaque URL
// part ("s3:bucket?..."), which could otherwise carry anything.
func redactOpaque(s string) string {
	if i := strings.IndexAny(s, "@?"); i >= 0 {
		return s[:i] + "REDACTED"
	}
	return s
}

// queryEscape is url.QueryEscape leaving ':' and '/' as they are (both
// are allowed in a query), so that an endpoint reads as a URL in messages.
func queryEscape(s string) string {
	return strings.NewReplacer("%3A", ":", "%2F", "/").Replace(url.QueryEscape(s))
}
