package objstore

import (
	"context"
	"errors"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestKindOfAWSStatus pins how an S3 answer with no error code the
// classifier knows is classified by its HTTP status: as statusKind has
// it, except 429, which the SDK retries itself and which stays Other.
func TestKindOfAWSStatus(t *testing.T) {
	for status, want := range map[int]Kind{
		http.StatusBadRequest:          Other,
		http.StatusUnauthorized:        BadCredentials,
		http.StatusForbidden:           AccessDenied,
		http.StatusNotFound:            NotFound,
		http.StatusConflict:            Other,
		http.StatusTooManyRequests:     Other,
		http.StatusInternalServerError: Unreachable,
		http.StatusServiceUnavailable:  Unreachable,
	} {
		err := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      errors.New("an answer"),
		}}
		if got := kindOf(context.Background(), err); got != want {
			t.Errorf("status %d: kind %v, want %v", status, got, want)
		}
	}
}
