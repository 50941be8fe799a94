package objstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"gocloud.dev/gcerrors"
	"golang.org/x/oauth2"
)

// Kind classifies a store failure by what a person must do about it.
type Kind int

// The kinds of store failure.
const (
	Other          Kind = iota // anything not classified below
	BadURL                     // the store URL is malformed, unsupported or carries a secret
	NoCredentials              // no credentials were found in the cloud's environment or chain
	BadCredentials             // the server rejected the credentials (unknown key, bad signature, expired)
	AccessDenied               // the credentials lack permission
	NoBucket                   // the bucket, container or directory does not exist
	Unreachable                // the network or the server is down, or the request timed out
	NotFound                   // the object does not exist
	Corrupt                    // the object's bytes do not hash to its name, or a record does not parse
	TooLarge                   // the object is larger than the caller's cap
	BadKey                     // a hash, digest or lock key is not well formed
	LockLost                   // the lock object is no longer the one this process created
	LockMismatch               // force-unlock named an ID that is not the holder's
	Canceled                   // the context was canceled or its deadline passed
)

var kindNames = [...]string{
	Other: "error", BadURL: "bad store URL", NoCredentials: "no credentials",
	BadCredentials: "credentials rejected", AccessDenied: "access denied",
	NoBucket: "bucket missing", Unreachable: "store unreachable", NotFound: "not found",
	Corrupt: "corrupt object", TooLarge: "object too large", BadKey: "bad object name",
	LockLost: "lock lost", LockMismatch: "lock ID mismatch", Canceled: "canceled",
}

// String names the kind in a few words.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a store failure: what kind, on which store (URL, redacted), on
// which object (its key under the prefix, "" for the store as a whole).
// Its message states facts; views adds what to do by Kind.
type Error struct {
	Kind   Kind
	URL    string
	Object string
	Err    error
}

// Error is "store URL: object KEY: kind: cause", with any secret from the
// environment scrubbed out of the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("store ")
	b.WriteString(e.URL)
	if e.Object != "" {
		b.WriteString(": object ")
		b.WriteString(e.Object)
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.String())
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(scrub(e.Err.Error()))
	}
	return b.String()
}

// KindOf is the Kind of the *Error in err's chain; Other when there is
// none (a *LockedError included: it is not an *Error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// Unwrap returns the cause, so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.Err }

// LockedError says that the lock object is held by someone else: Lock
// returns it when the lock stayed held for the whole timeout.
type LockedError struct {
	URL    string
	Object string        // locks/<key>
	Info   LockInfo      // the holder, as its lock object says
	Waited time.Duration // how long Lock waited (0: it tried once)
	// Ended, when not empty, says why the holder is known to have ended
	// (it ran on this host, and its process is gone): Lock did not wait.
	Ended string
}

// Error names the holder, where and since when.
func (e *LockedError) Error() string {
	s := fmt.Sprintf("store %s: lock %s is held by %s", e.URL, e.Object, e.Info.describe())
	if e.Ended != "" {
		s += ", a pixform that is no longer running: it ran on this host, and " + e.Ended
	} else if e.Waited > 0 {
		s += fmt.Sprintf(", still after waiting %v", e.Waited.Round(time.Millisecond))
	}
	return scrub(s)
}

// secretEnv are environment variables whose values are credentials. Their
// values are scrubbed out of every error message, whatever a server or an
// SDK put into it.
var secretEnv = [...]string{
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING",
	"AZURE_CLIENT_SECRET", "GOOGLE_OAUTH_ACCESS_TOKEN",
}

// secretParam matches a URL query parameter that carries a credential: an
// Azure SAS signature, a presigned S3 or GCS URL's signature, credential
// scope and session token, an OAuth access token. An SDK that puts a
// request's URL into its error re-encodes the query, so the value in the
// message need not be the one in the environment.
var secretParam = regexp.MustCompile(`(?i)([?&;](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|access_token)=)[^&\s"'<>]*`)

// scrub replaces the value of every credential environment variable in s,
// and the value of every query parameter that carries a credential.
func scrub(s string) string {
	for _, name := range secretEnv {
		if v := os.Getenv(name); len(v) >= 4 && strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	return secretParam.ReplaceAllString(s, "${1}[REDACTED]")
}

// classify turns a failure of a bucket operation into an *Error on object
// (a key under the prefix, "" for the bucket itself).
func (s *Store) classify(ctx context.Context, object string, err error) error {
	return &Error{Kind: kindOf(ctx, err), URL: s.url, Object: object, Err: err}
}

// kindOf classifies err: a canceled context first, then what the GCS
// driver, the Azure and AWS SDKs and the network say, then the gocloud
// code.
func kindOf(ctx context.Context, err error) Kind {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Unreachable
		}
		return Canceled
	}
	var ge *gcsError
	if errors.As(err, &ge) {
		if ge.bucketMissing() {
			return NoBucket
		}
		if k := statusKind(ge.Status); k != Other {
			return k
		}
	}
	// The token endpoint refused the credentials (revoked, expired, a
	// deleted service account key).
	var tokenErr *oauth2.RetrieveError
	if errors.As(err, &tokenErr) {
		return BadCredentials
	}
	var azErr *azcore.ResponseError
	if errors.As(err, &azErr) {
		if k := azureKind(azErr); k != Other {
			return k
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchBucket":
			return NoBucket
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AuthorizationHeaderMalformed",
			"XAdminUserNotFound": // VersityGW: no user has that access key ID
			return BadCredentials
		case "AccessDenied", "Forbidden", "AllAccessDisabled":
			return AccessDenied
		case "NoSuchKey", "NotFound":
			return NotFound
		}
	}
	msg := err.Error()
	if strings.Contains(msg, "get identity:") || strings.Contains(msg, "failed to retrieve credentials") ||
		strings.Contains(msg, "could not find default credentials") || strings.Contains(msg, "DefaultAzureCredential") {
		return NoCredentials
	}
	var re *awshttp.ResponseError
	// A 429, which the SDK has retried already, is left to the checks
	// below, unlike the other stores' (statusKind makes it Unreachable).
	if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusTooManyRequests {
		if k := statusKind(re.HTTPStatusCode()); k != Other {
			return k
		}
	}
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &sendErr) || errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		(errors.As(err, &netErr) && netErr.Timeout()) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, context.DeadlineExceeded) {
		return Unreachable
	}
	if errors.Is(err, os.ErrPermission) {
		return AccessDenied
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return NotFound
	case gcerrors.PermissionDenied:
		return AccessDenied
	case gcerrors.DeadlineExceeded:
		return Unreachable
	case gcerrors.Canceled:
		return Canceled
	}
	return Other
}

// azureKind classifies an Azure Storage error answer by its error code,
// then by its status.
func azureKind(e *azcore.ResponseError) Kind {
	switch e.ErrorCode {
	case "AuthenticationFailed", "InvalidAuthenticationInfo":
		return BadCredentials
	case "AuthorizationFailure":
		// Azure says this of a request its credentials may not make;
		// Azurite says it of a bad signature too, with Azure's wording
		// for AuthenticationFailed.
		if strings.Contains(e.Error(), "failed to authenticate") {
			return BadCredentials
		}
		return AccessDenied
	case "AuthorizationPermissionMismatch", "AuthorizationSourceIPMismatch", "AuthorizationProtocolMismatch",
		"InsufficientAccountPermissions", "AccountIsDisabled":
		return AccessDenied
	case "ContainerNotFound", "ContainerBeingDeleted", "ContainerDisabled":
		return NoBucket
	case "BlobNotFound":
		return NotFound
	}
	return statusKind(e.StatusCode)
}

// statusKind classifies an HTTP status a store answered, or returns
// Other.
func statusKind(c int) Kind {
	switch {
	case c == http.StatusUnauthorized:
		return BadCredentials
	case c == http.StatusForbidden:
		return AccessDenied
	case c == http.StatusNotFound:
		return NotFound
	case c == http.StatusTooManyRequests || c >= 500:
		return Unreachable
	}
	return Other
}
