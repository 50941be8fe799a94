package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestJSONFlagErrors: with -json anywhere in a command's arguments, a flag
// error (an unknown flag, a bad value) is one JSON document on stdout, in
// the shape of the command's other JSON failures, besides the text on
// stderr, with the exit code flag errors have (1). Without -json, stdout
// stays empty.
func TestJSONFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		// key is a top-level field the document must hold: "error" for
		// plan's, show's and version's documents, "type" for apply's
		// error event, "diagnostics" for validate's.
		key, message string
	}{
		{"plan unknown flag", []string{"plan", "-json", "-bogus"}, "error", "flag provided but not defined: -bogus"},
		{"plan -json after the bad flag", []string{"plan", "-bogus", "-json"}, "error", "flag provided but not defined: -bogus"},
		{"plan bad value", []string{"plan", "-detailed-exitcode=maybe", "-json"}, "error", "invalid boolean value"},
		// plan -check -json reports as one document too.
		{"plan -check -json", []string{"plan", "-check", "-json", "-bogus"}, "error", "-bogus"},
		{"plan -json -check", []string{"plan", "-json", "-check", "-bogus"}, "error", "-bogus"},
		{"plan -check -format=json", []string{"plan", "-check", "-format=json", "-bogus"}, "error", "-bogus"},
		{"plan -json=true", []string{"plan", "-bogus", "-json=true"}, "error", "-bogus"},
		{"apply bad parallelism", []string{"apply", "-json", "-parallelism=many"}, "type", "-parallelism=many: not a whole number"},
		{"apply unknown flag, plan file", []string{"apply", "-bogus", "plan.bin", "-json"}, "type", "-bogus"},
		{"validate", []string{"validate", "-json", "-bogus"}, "diagnostics", "-bogus"},
		{"show", []string{"show", "-bogus", "-json"}, "error", "-bogus"},
		{"version", []string{"version", "-json", "-bogus"}, "error", "-bogus"},
		{"unknown global option", []string{"-bogus", "plan", "-json"}, "error", "unknown global option -bogus"},
		{"-chdir missing", []string{"-chdir=/nonexistent/pixform", "apply", "-json"}, "type", "does not exist"},
		// -chdir DIR (no equals sign) is refused; the line still asks
		// for JSON: DIR is not the command.
		{"-chdir without =", []string{"-chdir", "/tmp", "plan", "-json"}, "error", "takes its directory after an equals sign"},
		{"--chdir without =, apply", []string{"--chdir", "/tmp", "apply", "-json"}, "type", "takes its directory after an equals sign"},
		// -chdir after the command: it is a global option.
		{"-chdir after the command", []string{"plan", "-chdir=/tmp", "-json"}, "error", "-chdir is a global option: it goes before the command: pixform -chdir=DIR plan"},
		{"-chdir after the command, apply", []string{"apply", "-json", "-chdir", "/tmp"}, "type", "pixform -chdir=DIR apply"},
		{"plan argument", []string{"plan", "-json", "extra"}, "error", "plan takes no arguments"},
		{"validate argument", []string{"validate", "-json", "extra"}, "diagnostics", "validate takes no arguments"},
		{"show -format json", []string{"show", "-format", "json", "-bogus"}, "error", "-bogus"},
		// -json before the command is not a global option: the error,
		// one document as the line asks, says where it goes.
		{"-json before the command", []string{"-json", "plan"}, "error", "-json goes after the command: pixform plan -json"},
		{"-json before the command, apply", []string{"-json", "apply"}, "type", "pixform apply -json"},
		// A value after a flag that takes one is not -json.
		{"-var's value, then -json", []string{"plan", "-var", "-json", "-bogus", "-json"}, "error", "-bogus"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(context.Background(), append([]string{"-chdir=" + t.TempDir()}, tt.args...), Stdio{
				In: strings.NewReader(""), Out: &out, Err: &errb, Environ: []string{"PATH=/nonexistent"},
			})
			if code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			if !strings.Contains(errb.String(), tt.message) {
				t.Errorf("stderr lacks %q:\n%s", tt.message, errb.String())
			}
			var doc map[string]any
			dec := json.NewDecoder(&out)
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("stdout is not a JSON document (%v):\n%s", err, out.String())
			}
			if dec.More() {
				t.Errorf("stdout holds more than one document")
			}
			if _, ok := doc[tt.key]; !ok {
				t.Errorf("the document lacks %q: %v", tt.key, doc)
			}
			b, _ := json.Marshal(doc)
			if !strings.Contains(string(b), strings.ReplaceAll(tt.message, `"`, `\"`)) {
				t.Errorf("the document does not say %q: %s", tt.message, b)
			}
		})
	}
	// A flag error is text on stderr only without -json, and where -json
	// is the value of a flag that takes one.
	for _, args := range [][]string{
		{"plan", "-var", "-json", "-bogus"},
		{"validate", "-var-file", "-json", "-bogus"},
		{"show", "-format", "-json", "-bogus"},
	} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), append([]string{"-chdir=" + t.TempDir()}, args...), Stdio{
			In: strings.NewReader(""), Out: &out, Err: &errb,
		}); code != ExitError || out.Len() != 0 || !strings.Contains(errb.String(), "-bogus") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
	}
	// Without -json, a flag error is text on stderr only.
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"-chdir=" + t.TempDir(), "plan", "-bogus"}, Stdio{
		In: strings.NewReader(""), Out: &out, Err: &errb,
	}); code != ExitError || out.Len() != 0 {
		t.Errorf("plan -bogus: exit %d, stdout %q", code, out.String())
	}
}

// Only apply and watch let a first interrupt finish their work in flight.
func TestStopsGracefully(t *testing.T) {
	for args, want := range map[string]bool{
		"apply": true, "-chdir=x apply -auto-approve": true, "-no-color watch": true,
		"plan": false, "pull": false, "-chdir=x gallery": false, "": false, "-chdir=x": false,
	} {
		if got := StopsGracefully(strings.Fields(args)); got != want {
			t.Errorf("StopsGracefully(%q) = %v, want %v", args, got, want)
		}
	}
}
