package objstore

import (
	"strings"
	"testing"
)

func TestScrubRemovesCredentialsFromURLs(t *testing.T) {
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", "sv=2024-08-04&ss=b&sig=abc%2Bdef%3D")
	tests := []struct {
		name, in, secret, want string
	}{
		{"SAS as in the environment", `Put "https://a.blob.core.windows.net/c/o?sv=2024-08-04&ss=b&sig=abc%2Bdef%3D": EOF`, "abc", "[REDACTED]"},
		{"SAS re-encoded by the SDK", `Put "https://a.blob.core.windows.net/c/o?comp=block&sig=abc%2bdef%3d&ss=b&sv=2024-08-04": dial tcp: connection refused`, "abc", `sig=[REDACTED]&ss=b`},
		{"presigned S3", `GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F20261129&X-Amz-Signature=deadbeef&X-Amz-Security-Token=FQoG: 403`, "deadbeef", "X-Amz-Signature=[REDACTED]"},
		{"presigned S3 scope", `?X-Amz-Credential=AKIAXYZ%2F20261129&x=1`, "AKIAXYZ", "X-Amz-Credential=[REDACTED]&x=1"},
		{"session token", `?a=1&X-Amz-Security-Token=FQoGtoken`, "FQoGtoken", "X-Amz-Security-Token=[REDACTED]"},
		{"GCS signed URL", `https://storage.googleapis.com/b/o?X-Goog-Signature=0a1b2c "x"`, "0a1b2c", `X-Goog-Signature=[REDACTED] "x"`},
		{"access token", `https://h/p?access_token=ya29.secret`, "ya29", "access_token=[REDACTED]"},
		{"nothing secret", `https://h/b?prefix=sha256%2F&max-results=1000`, "", `https://h/b?prefix=sha256%2F&max-results=1000`},
		{"a name that only ends like one", `https://h/b?design=keep`, "", `design=keep`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scrub(tt.in)
			if tt.secret != "" && strings.Contains(got, tt.secret) {
				t.Errorf("scrub(%q) = %q: the credential %q is still there", tt.in, got, tt.secret)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("scrub(%q) = %q, want it to contain %q", tt.in, got, tt.want)
			}
		})
	}
}
