package storesync

import (
	"context"
	"io"
)

// Remote is the image store as storesync uses it; *objstore.Store
// satisfies it through Adapt. Every method takes ctx first and returns
// the store's own errors, which name the URL and the object.
type Remote interface {
	// String is the store's URL for messages, without credentials.
	String() string
	// Has reports whether the object sha256/<sum> exists.
	Has(ctx context.Context, sum string) (bool, error)
	// Put uploads r as the object sum, only if absent; an object already
	// there is success. It verifies that r's bytes hash to sum.
	Put(ctx context.Context, sum string, r io.Reader) error
	// Get writes the object sum to w, at most maxBytes, verified.
	Get(ctx context.Context, sum string, w io.Writer, maxBytes int64) error
	// PutInputs records which object a render of the inputs with this
	// digest produced; GetInputs reads that record.
	PutInputs(ctx context.Context, digest string, rec Record) error
	GetInputs(ctx context.Context, digest string) (Record, bool, error)
}

// Record says which object a render of some inputs produced.
type Record struct {
	SHA256, Provider, MediaType string
	Bytes                       int64
	Width, Height               int
}
