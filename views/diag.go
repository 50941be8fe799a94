package views

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints diagnostics with file:line:col and the source
// snippet, as HCL's diagnostic writer lays them out.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File, color bool) error {
	if len(diags) == 0 {
		return nil
	}
	dw := hcl.NewDiagnosticTextWriter(w, files, 100, color)
	return dw.WriteDiagnostics(diags)
}

// Hinted is an error that carries advice for the user, printed as hint:
// lines below it.
type Hinted struct {
	Err   error
	Hints []string
}

func (h *Hinted) Error() string { return h.Err.Error() }

func (h *Hinted) Unwrap() error { return h.Err }

// WithHint wraps err with hints.
func WithHint(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &Hinted{Err: err, Hints: hints}
}

// WriteError prints err as "pixform: error: …" followed by any hint: lines
// found in its chain.
func WriteError(w io.Writer, err error, color bool) {
	pal := palette{color}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(w, "%s %s\n", pal.red("pixform: error:"), msg)
	var h *Hinted
	if errors.As(err, &h) {
		for _, hint := range h.Hints {
			fmt.Fprintf(w, "%s %s\n", pal.yellow("hint:"), hint)
		}
	}
}
