package views

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// JSONDiagnostic is a configuration diagnostic in the JSON outputs: as
// Terraform's -json outputs give them, with the range's file, line and
// column.
type JSONDiagnostic struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *JSONRange `json:"range,omitempty"`
}

// JSONRange is where in a file a diagnostic is.
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONPos is a position in a file: line and column from 1, byte from 0.
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// NewJSONDiagnostics converts diagnostics for the JSON outputs, and
// counts the errors and warnings among them.
func NewJSONDiagnostics(diags hcl.Diagnostics) (ds []JSONDiagnostic, errs, warnings int) {
	ds = []JSONDiagnostic{}
	for _, d := range diags {
		jd := JSONDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			warnings++
		} else {
			errs++
		}
		if r := d.Subject; r != nil {
			jd.Range = &JSONRange{
				Filename: r.Filename,
				Start:    JSONPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:      JSONPos{r.End.Line, r.End.Column, r.End.Byte},
			}
		}
		ds = append(ds, jd)
	}
	return ds, errs, warnings
}

// JSONValidation is validate -json's document.
type JSONValidation struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Images        int              `json:"images"`
	Diagnostics   []JSONDiagnostic `json:"diagnostics"`
}

// WriteValidationJSON writes validate -json's document: whether the
// configuration is valid, how many images it declares, and its
// diagnostics.
func WriteValidationJSON(w io.Writer, diags hcl.Diagnostics, images int) error {
	ds, errs, warnings := NewJSONDiagnostics(diags)
	return writeJSONLine(w, JSONValidation{
		FormatVersion: PlanFormatVersion, Valid: errs == 0, ErrorCount: errs, WarningCount: warnings,
		Images: images, Diagnostics: ds,
	})
}

// JSONFailure is why a command with -json failed: the message and hints
// it prints as text, and the configuration's diagnostics when they are
// the reason.
type JSONFailure struct {
	Message     string           `json:"message"`
	Hints       []string         `json:"hints,omitempty"`
	Diagnostics []JSONDiagnostic `json:"diagnostics,omitempty"`
}

// NewJSONFailure describes err, with diags when the configuration's
// diagnostics are the reason.
func NewJSONFailure(err error, diags hcl.Diagnostics) JSONFailure {
	f := JSONFailure{Message: strings.TrimSpace(err.Error()), Hints: hintsOf(err)}
	if len(diags) > 0 {
		f.Diagnostics, _, _ = NewJSONDiagnostics(diags)
	}
	return f
}

// WriteValidationFailureJSON writes validate -json's document when the
// configuration was not validated (a bad option, say): not valid, with
// the failure as its first diagnostic, its hints as the detail.
func WriteValidationFailureJSON(w io.Writer, f JSONFailure) error {
	ds := append([]JSONDiagnostic{{Severity: "error", Summary: f.Message, Detail: strings.Join(f.Hints, "; ")}}, f.Diagnostics...)
	errs := 0
	for _, d := range ds {
		if d.Severity == "error" {
			errs++
		}
	}
	return writeJSONLine(w, JSONValidation{
		FormatVersion: PlanFormatVersion, ErrorCount: errs, WarningCount: len(ds) - errs, Diagnostics: ds,
	})
}

// WritePlanFailureJSON writes plan -json's document when no plan was
// made: {"format_version": "1", "error": {...}}.
func WritePlanFailureJSON(w io.Writer, f JSONFailure) error {
	return writeJSONLine(w, struct {
		FormatVersion string      `json:"format_version"`
		Error         JSONFailure `json:"error"`
	}{PlanFormatVersion, f})
}

// WriteFailureEvent writes apply -json's error event: the run stopped, or
// never began, for the reason f gives.
func WriteFailureEvent(w io.Writer, f JSONFailure, now time.Time) error {
	return writeJSONLine(w, struct {
		Type string `json:"type"`
		Time string `json:"time"`
		JSONFailure
	}{"error", now.UTC().Format(time.RFC3339Nano), f})
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
