package objstore

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzOpenURL checks the URL validation Open starts with (no network):
// it never panics; what it accepts prints back to a URL that parses to the
// same location and carries no user information or secret parameter; what
// it refuses is an *Error whose message holds neither the password of the
// URL's user information nor the value of a secret parameter.
func FuzzOpenURL(f *testing.F) {
	for _, s := range []string{
		"s3://my-assets/pixform/site?region=eu-west-1",
		"s3://b/x?endpoint=http://127.0.0.1:7070&use_path_style=true&disable_https=true&region=us-east-1",
		"gs://bkt/a/b", "azblob://ctr/p?domain=blob.example", "file:///shared/dir", "mem://",
		"s3://AKIA:wJalrXUtnFEMI@b/p", "s3://b?secret_access_key=wJalrXUtnFEMI",
		"azblob://c?sv=2020&sig=c2ln", "s3://b?endpoint=http://k:s@h", "s3://b/a/../c", "file://rel",
		"s3://b%zz", "s3:opaque?x=1", "s3://b?X-Amz-Signature=ff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		loc, err := parseLocation(raw)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Kind != BadURL {
				t.Fatalf("error %v is not an *Error of kind BadURL", err)
			}
			msg := err.Error()
			if u, perr := url.Parse(raw); perr == nil {
				if p, ok := u.User.Password(); ok && len(p) >= 6 && strings.Contains(msg, p) && !strings.Contains(scrubbedParts(raw, p), p) {
					t.Fatalf("error %q holds the password %q", msg, p)
				}
				if q, qerr := url.ParseQuery(u.RawQuery); qerr == nil {
					for k, vs := range q {
						for _, v := range vs {
							if isSecretParam(k) && len(v) >= 6 && strings.Contains(msg, v) && !strings.Contains(scrubbedParts(raw, v), v) {
								t.Fatalf("error %q holds the value of secret parameter %q", msg, k)
							}
						}
					}
				}
			}
			return
		}
		s := loc.String()
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("String() %q does not parse: %v", s, err)
		}
		if u.User != nil {
			t.Fatalf("String() %q has user information", s)
		}
		for k := range u.Query() {
			if isSecretParam(k) {
				t.Fatalf("String() %q has secret parameter %q", s, k)
			}
		}
		again, err := parseLocation(s)
		if err != nil {
			t.Fatalf("String() %q is refused: %v", s, err)
		}
		if again.String() != s || again.scheme != loc.scheme || again.bucket != loc.bucket || again.prefix != loc.prefix {
			t.Fatalf("%q -> %q -> %q: not stable", raw, s, again.String())
		}
	})
}

// scrubbedParts is raw without its user information and query: a secret
// that also appears there (say as the bucket name) may be printed.
func scrubbedParts(raw, secret string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
