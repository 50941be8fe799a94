package fakeapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Unlimited is the Config.Credits value that never runs out.
const Unlimited = -1

// RetryAfterMode says what Retry-After header a 429 carries.
type RetryAfterMode int

// Retry-After modes.
const (
	// RetryAfterSeconds sends the whole seconds until a request would be
	// admitted again (at least 1).
	RetryAfterSeconds RetryAfterMode = iota
	// RetryAfterNone sends no Retry-After header.
	RetryAfterNone
	// RetryAfterDate sends the same moment as an HTTP date.
	RetryAfterDate
	// RetryAfterHuge sends "99999" (more than a day) whatever the wait.
	RetryAfterHuge
)

// HugeRetryAfter is the Retry-After, in seconds, of RetryAfterHuge.
const HugeRetryAfter = 99999

func (m RetryAfterMode) String() string {
	switch m {
	case RetryAfterNone:
		return "none"
	case RetryAfterDate:
		return "date"
	case RetryAfterHuge:
		return "huge"
	}
	return "seconds"
}

// ParseRetryAfterMode parses "seconds", "none", "date" or "huge".
func ParseRetryAfterMode(s string) (RetryAfterMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "seconds", "":
		return RetryAfterSeconds, nil
	case "none":
		return RetryAfterNone, nil
	case "date":
		return RetryAfterDate, nil
	case "huge":
		return RetryAfterHuge, nil
	}
	return 0, fmt.Errorf("unknown Retry-After mode %q: want seconds, none, date or huge", s)
}

// Config is how the fake behaves. The zero value accepts any bearer token
// but has no credits: set Credits to Unlimited for an endless account.
type Config struct {
	// Token is the bearer token the fake accepts; empty accepts any
	// non-empty token that is not expired.
	Token string
	// ExpiredTokens answer 406/1002, as does any token starting with "expired:".
	ExpiredTokens []string
	// Credits is the account's balance; Unlimited (-1) never runs out.
	// Each success costs its style's price (see Cost).
	Credits int
	// RatePerSec and Burst shape a token bucket that admits requests; a
	// request finding it empty gets 429/1202. RatePerSec 0 means no limit;
	// Burst 0 means max(1, RatePerSec).
	RatePerSec float64
	Burst      int
	// Shape is the rate limit's algorithm: the token bucket above
	// (ShapeBucket, the zero value), a leaky bucket (ShapeGCRA) or a
	// sliding window that counts refused requests (ShapeWindow).
	Shape Shape
	// MaxInFlight caps concurrent requests; one beyond it gets 429/1202.
	// 0 means no cap.
	MaxInFlight int
	// RetryAfter says what Retry-After header a 429 carries.
	RetryAfter RetryAfterMode
	// Latency is added to every successful request (and to scripted
	// faults that answer), and ends early when the client gives up.
	Latency time.Duration
	// Faults are applied, one each, to the next requests that pass the
	// token, form, concurrency and rate checks.
	Faults []Fault
	// CodeAsNumber sends error codes as JSON numbers instead of strings.
	CodeAsNumber bool
	// JPEG makes every success a JPEG instead of a PNG.
	JPEG bool
	// Now is the clock of the token bucket and the log; nil means time.Now.
	Now func() time.Time
}

// Fault is a scripted failure of one request.
type Fault int

// Scripted faults. Each names the HTTP status and vendor code it answers
// with, or how it breaks the response.
const (
	FaultNone           Fault = iota
	Fault503ServiceDown       // 503/1200
	Fault503Redis             // 503/1201
	Fault503Database          // 503/1203
	Fault504Timeout           // 504/1204
	Fault500Unexpected        // 500/1205
	Fault500Internal          // 500/1300
	Fault503Unsupported       // 503/1206
	Fault429                  // 429/1202
	Fault400Invalid           // 400/1100
	Fault402Credits           // 402/1101
	Fault401Token             // 401/1001
	FaultTruncate             // 200 whose body stops short of its Content-Length
	FaultHang                 // no answer until the client gives up
	FaultReset                // TCP reset instead of an answer
	FaultJSON200              // 200 with a JSON body instead of an image
	FaultBadGateway           // 502 with an HTML body, as a proxy sends

	// Hostile answers: a server that misbehaves on purpose.

	FaultEcho       // 200 with the bearer token in Content-Type (text/<token>), other headers and the body
	FaultEcho429    // 429 with the bearer token in Retry-After and in every field of the JSON error
	FaultBomb       // 200 with a small PNG whose header declares BombSide×BombSide pixels
	FaultTiny       // 200 with a 1×1 PNG
	FaultWrongRatio // 200 with a 100×300 PNG, whatever aspect ratio was asked for
	FaultHuge       // 200 with a PNG-headed body that goes on until the client hangs up (at most HugeBytes)
	FaultRedirect   // 307 to the same path on another port (Server.ElsewhereURL), with a query
	FaultStall      // 200 with headers and half the image, then silence until the client gives up
)

// BombSide is each side, in pixels, of FaultBomb's image.
const BombSide = 30000

// HugeBytes bounds FaultHuge's body: more than any client cap.
const HugeBytes = 256 << 20

// vendorError is one row of the vendor's error table.
type vendorError struct {
	Status  int
	Code    int
	Name    string
	Message string
}

// vendorErr returns the row of the vendor's error table for code.
func vendorErr(code int) (vendorError, bool) {
	switch code {
	case 1000:
		return vendorError{http.StatusBadRequest, 1000, "missing_bearer_token", "The bearer token is missing from the header."}, true
	case 1001:
		return vendorError{http.StatusUnauthorized, 1001, "invalid_bearer_token", "The bearer token passed is invalid."}, true
	case 1002:
		return vendorError{http.StatusNotAcceptable, 1002, "expired_bearer_token", "The bearer token has expired."}, true
	case 1003:
		return vendorError{http.StatusBadRequest, 1003, "captcha_invalid", "Error validating the captcha."}, true
	case 1004:
		return vendorError{http.StatusBadRequest, 1004, "captcha_required", "The captcha is required."}, true
	case 1005:
		return vendorError{http.StatusUnauthorized, 1005, "application_invalid", "Application could not be validated."}, true
	case 1006:
		return vendorError{http.StatusUnauthorized, 1006, "device_invalid", "Device validation failed."}, true
	case 1007:
		return vendorError{http.StatusUnauthorized, 1007, "account_invalid", "Account could not be validated."}, true
	case 1100:
		return vendorError{http.StatusBadRequest, 1100, "invalid_request", "The request is invalid."}, true
	case 1101:
		return vendorError{http.StatusPaymentRequired, 1101, "not_enough_tokens", "Not enough tokens."}, true
	case 1200:
		return vendorError{http.StatusServiceUnavailable, 1200, "service_unavailable", "Service not available."}, true
	case 1201:
		return vendorError{http.StatusServiceUnavailable, 1201, "redis_unavailable", "Unable to connect to Redis."}, true
	case 1202:
		return vendorError{http.StatusTooManyRequests, 1202, "too_many_requests", "Excessive requests."}, true
	case 1203:
		return vendorError{http.StatusServiceUnavailable, 1203, "database_unavailable", "Database connection failed."}, true
	case 1204:
		return vendorError{http.StatusGatewayTimeout, 1204, "request_timeout", "Request timed out."}, true
	case 1205:
		return vendorError{http.StatusInternalServerError, 1205, "unexpected_service_response", "Unexpected service response."}, true
	case 1206:
		return vendorError{http.StatusServiceUnavailable, 1206, "unsupported_service", "Unsupported service."}, true
	case 1300:
		return vendorError{http.StatusInternalServerError, 1300, "internal_server_error", "Internal server error."}, true
	}
	return vendorError{}, false
}

// faultCode returns the vendor code a fault answers with, or 0 for the
// faults that break the response instead.
func faultCode(f Fault) int {
	switch f {
	case Fault503ServiceDown:
		return 1200
	case Fault503Redis:
		return 1201
	case Fault503Database:
		return 1203
	case Fault504Timeout:
		return 1204
	case Fault500Unexpected:
		return 1205
	case Fault500Internal:
		return 1300
	case Fault503Unsupported:
		return 1206
	case Fault429:
		return 1202
	case Fault400Invalid:
		return 1100
	case Fault402Credits:
		return 1101
	case Fault401Token:
		return 1001
	}
	return 0
}

// Cost returns what one image of style costs in credits, as the vendor
// prices it, and whether the style exists.
func Cost(style string) (int, bool) {
	switch style {
	case "imagine-turbo":
		return 1, true
	case "realistic", "anime", "flux-schnell", "flux-dev-fast", "sdxl-1.0":
		return 5, true
	case "flux-dev":
		return 15, true
	}
	return 0, false
}

// ratio returns the width and height terms of an accepted aspect ratio.
func ratio(ar string) (w, h int, ok bool) {
	switch ar {
	case "1:1":
		return 1, 1, true
	case "3:2":
		return 3, 2, true
	case "4:3":
		return 4, 3, true
	case "3:4":
		return 3, 4, true
	case "16:9":
		return 16, 9, true
	case "9:16":
		return 9, 16, true
	}
	return 0, 0, false
}
