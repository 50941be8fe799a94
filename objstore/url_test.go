package objstore

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseLocation(t *testing.T) {
	for name, tc := range map[string]struct {
		raw        string
		wantScheme string
		wantBucket string
		wantPrefix string
		wantString string
		wantErr    string // substring of the error; "" = ok
		notInErr   string // must not appear in the error
	}{
		"s3 with prefix": {
			raw: "s3://my-assets/pixform/site?region=eu-west-1", wantScheme: "s3", wantBucket: "my-assets",
			wantPrefix: "pixform/site/", wantString: "s3://my-assets/pixform/site?region=eu-west-1",
		},
		"s3 trailing slash": {
			raw: "s3://b/p/", wantScheme: "s3", wantBucket: "b", wantPrefix: "p/", wantString: "s3://b/p",
		},
		"s3 no prefix": {raw: "s3://b", wantScheme: "s3", wantBucket: "b", wantString: "s3://b"},
		"s3 compatible server": {
			raw:        "s3://b/x?endpoint=http://127.0.0.1:7070&use_path_style=true&disable_https=true&region=us-east-1",
			wantScheme: "s3", wantBucket: "b", wantPrefix: "x/",
			wantString: "s3://b/x?disable_https=true&endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true",
		},
		"gs":     {raw: "gs://bkt/a/b", wantScheme: "gs", wantBucket: "bkt", wantPrefix: "a/b/", wantString: "gs://bkt/a/b"},
		"azblob": {raw: "azblob://ctr/p?domain=blob.example", wantScheme: "azblob", wantBucket: "ctr", wantPrefix: "p/", wantString: "azblob://ctr/p?domain=blob.example"},
		"file":   {raw: "file:///shared/dir", wantScheme: "file", wantBucket: "/shared/dir", wantString: "file:///shared/dir"},
		"file trailing slash": {
			raw: "file:///shared/dir/", wantScheme: "file", wantBucket: "/shared/dir", wantString: "file:///shared/dir",
		},
		"mem": {raw: "mem://", wantScheme: "mem", wantString: "mem://"},

		"empty":              {raw: " ", wantErr: "empty"},
		"unsupported scheme": {raw: "ftp://b/p", wantErr: `unsupported scheme "ftp"`},
		"no scheme":          {raw: "my-bucket/p", wantErr: "unsupported scheme"},
		"no bucket":          {raw: "s3:///p", wantErr: "name the bucket"},
		"port in bucket":     {raw: "s3://b:9000/p", wantErr: "endpoint="},
		"dotdot prefix":      {raw: "s3://b/a/../c", wantErr: "'..'"},
		"double slash":       {raw: "s3://b/a//c", wantErr: "empty"},
		"prefix query":       {raw: "s3://b?prefix=x/", wantErr: "in the path"},
		"unknown param":      {raw: "s3://b?colour=red", wantErr: `unknown query parameter "colour"`},
		"repeated param":     {raw: "s3://b?region=a&region=b", wantErr: "2 times"},
		"fragment":           {raw: "s3://b/p#frag", wantErr: "fragment"},
		"relative file":      {raw: "file://shared/dir", wantErr: "three slashes"},
		"file root":          {raw: "file:///", wantErr: "other than /"},
		"file unclean":       {raw: "file:///a/../b", wantErr: "clean"},
		"file param":         {raw: "file:///a?create_dir=1", wantErr: "unknown query parameter"},
		"endpoint not http":  {raw: "s3://b?endpoint=ftp://h", wantErr: "http://"},

		"userinfo password": {
			raw: "s3://AKIAEXAMPLE:wJalrXUtnFEMI@b/p", wantErr: "carries credentials", notInErr: "wJalrXUtnFEMI",
		},
		"userinfo user": {raw: "s3://AKIAEXAMPLE@b/p", wantErr: "carries credentials", notInErr: "AKIAEXAMPLE"},
		"secret query": {
			raw: "s3://b/p?region=x&secret_access_key=wJalrXUtnFEMI", wantErr: `secret (query parameter "secret_access_key")`, notInErr: "wJalrXUtnFEMI",
		},
		"access_key query": {raw: "s3://b?access_key=AKIAX", wantErr: "secret", notInErr: "AKIAX"},
		"token query":      {raw: "s3://b?session_token=tok123", wantErr: "secret", notInErr: "tok123"},
		"amz presign": {
			raw: "s3://b?X-Amz-Credential=AKIAX%2F2026&X-Amz-Signature=deadbeef", wantErr: "secret", notInErr: "deadbeef",
		},
		"azure sas": {
			raw: "azblob://c?sv=2020-08-04&sig=c2lnbmF0dXJl", wantErr: "secret", notInErr: "c2lnbmF0dXJl",
		},
		"sas token":      {raw: "azblob://c?sas_token=abc123xyz", wantErr: "secret", notInErr: "abc123xyz"},
		"gs private key": {raw: "gs://b?private_key=abc123xyz", wantErr: "secret", notInErr: "abc123xyz"},
		"endpoint userinfo": {
			raw: "s3://b?endpoint=http://k:s3cr3tval@h:9000", wantErr: "endpoint must not carry credentials", notInErr: "s3cr3tval",
		},
		"endpoint query": {raw: "s3://b?endpoint=http://h:9000/?token=s3cr3tval", wantErr: "endpoint must not", notInErr: "s3cr3tval"},
		"unparseable with secret": {
			raw: "s3://user:s3cr3tval@b%zz/p?secret=s3cr3tval", wantErr: "not a URL", notInErr: "s3cr3tval",
		},
	} {
		t.Run(name, func(t *testing.T) {
			loc, err := parseLocation(tc.raw)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("parseLocation(%q) = %+v, want error containing %q", tc.raw, loc, tc.wantErr)
				}
				var e *Error
				if !errors.As(err, &e) || e.Kind != BadURL {
					t.Fatalf("error %v is not an *Error of kind BadURL", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				if tc.notInErr != "" && strings.Contains(err.Error(), tc.notInErr) {
					t.Errorf("error %q contains the secret %q", err, tc.notInErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseLocation(%q): %v", tc.raw, err)
			}
			if loc.scheme != tc.wantScheme || loc.bucket != tc.wantBucket || loc.prefix != tc.wantPrefix {
				t.Errorf("got scheme %q bucket %q prefix %q, want %q %q %q", loc.scheme, loc.bucket, loc.prefix, tc.wantScheme, tc.wantBucket, tc.wantPrefix)
			}
			if got := loc.String(); got != tc.wantString {
				t.Errorf("String() = %q, want %q", got, tc.wantString)
			}
			again, err := parseLocation(loc.String())
			if err != nil || again.String() != loc.String() {
				t.Errorf("String() does not parse back to itself: %q -> %q, %v", loc.String(), again.String(), err)
			}
		})
	}
}

func TestOpenerURLHasNoPrefix(t *testing.T) {
	loc, err := parseLocation("s3://b/x/y?region=us-east-1&use_path_style=true")
	if err != nil {
		t.Fatal(err)
	}
	u := loc.openerURL()
	if u.Host != "b" || u.Path != "" {
		t.Errorf("opener URL %s: want host b and no path", u)
	}
	q, _ := url.ParseQuery(u.RawQuery)
	if q.Get("region") != "us-east-1" || q.Get("use_path_style") != "true" || q.Has("prefix") {
		t.Errorf("opener URL %s does not pass the parameters through", u)
	}
}

func TestIsSecretParam(t *testing.T) {
	for k, want := range map[string]bool{
		"access_key": true, "AccessKeyId": true, "aws_secret_access_key": true, "secret": true,
		"password": true, "token": true, "sessionToken": true, "sig": true, "Signature": true,
		"sas": true, "sv": true, "X-Amz-Credential": true, "x-amz-security-token": true,
		"X-Goog-Signature": true, "account_key": true, "key": true, "client_secret": true,
		"region": false, "endpoint": false, "use_path_style": false, "disable_https": false,
		"profile": false, "kmskeyid": false, "domain": false, "anonymous": false,
	} {
		if got := isSecretParam(k); got != want {
			t.Errorf("isSecretParam(%q) = %v, want %v", k, got, want)
		}
	}
}
