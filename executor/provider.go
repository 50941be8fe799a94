package executor

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// Request is one image to render: the inputs the lockfile records for it
// (prompt, style, aspect ratio, seed), and how to write it.
type Request struct {
	Addr addrs.Addr // for logs and the draft placeholder
	state.Inputs
	// MediaType is what the output path's extension asks for: "image/png"
	// or "image/jpeg". A provider may write another format; the executor
	// transcodes.
	MediaType string
	// SourceBytes and MaskBytes are the encoded source image and mask of a
	// derived image (Inputs.Source, Inputs.Mask), read and verified
	// against their recorded hashes; nil otherwise.
	SourceBytes, MaskBytes []byte
}

// Provider renders images. Render writes the encoded image to w and returns
// nil only when it wrote one whole response. Errors that callers branch on
// are *Error values (use errors.As); any other error is treated as
// transient. Render must honour ctx and must be safe for concurrent use.
type Provider interface {
	Name() string
	Render(ctx context.Context, req Request, w io.Writer) error
}

// Class says how the executor treats a failed render.
type Class int

// Failure classes: how a run treats each kind of provider failure.
const (
	// Transient failures are retried with backoff up to max_retries.
	Transient Class = iota
	// Throttled failures (429) wait, cut the run's rate and are retried
	// without counting against max_retries.
	Throttled
	// Invalid fails this image only, without retry.
	Invalid
	// Fatal stops the run: nothing new starts, in-flight work is recorded.
	Fatal
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Throttled:
		return "throttled"
	case Invalid:
		return "invalid"
	case Fatal:
		return "fatal"
	}
	return "unknown"
}

// Error is a classified provider failure.
type Error struct {
	Class Class
	// RetryAfter is the server's requested wait (Retry-After), zero when absent.
	RetryAfter time.Duration
	// Msg says what happened and, for Fatal and Invalid, what to do. It must
	// never contain the API token.
	Msg string
	Err error // underlying cause, may be nil
	// NotSent says the provider refused the request before sending it
	// (a request it could not build or that failed its checks): no
	// request is counted as sent.
	NotSent bool
	// Paid says the server made and sent an image for the request that
	// was refused on arrival (larger than accepted, or outside the
	// provider's bounds): its price is counted as spent, and a Transient
	// one is retried at most paidRetries times, not max_retries: the
	// server makes the same image for the same seed.
	Paid bool
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err: that of an *Error in its chain, else
// Transient.
func ClassOf(err error) Class {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Class
	}
	return Transient
}
