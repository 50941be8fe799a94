package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestNoColorEveryCommand checks that every command takes the
// command-level -no-color that plan and apply take, and that it turns
// colour off on streams that are terminals, as the global one does.
func TestNoColorEveryCommand(t *testing.T) {
	tests := map[string][]string{
		"validate":     {"validate"},
		"plan":         {"plan"},
		"apply":        {"apply", "-auto-approve"},
		"fmt":          {"fmt", "-check"},
		"show":         {"show"},
		"state list":   {"state", "list"},
		"state rm":     {"state", "rm", "image.gone"},
		"lock merge":   {"lock", "merge", "base.json", "ours.json", "theirs.json"},
		"gallery":      {"gallery"},
		"pick":         {"pick", "image.gone", "2"},
		"approve":      {"approve", "-by", "ann", "image.gone"},
		"pull":         {"pull"},
		"push":         {"push"},
		"force-unlock": {"force-unlock", "some-id"},
		"version":      {"version"},
	}
	run := func(t *testing.T, dir string, args []string) (code int, stdout, stderr string) {
		var out, errb bytes.Buffer
		code = Main(context.Background(), append([]string{"-chdir=" + dir}, args...), Stdio{
			In: strings.NewReader(""), Out: &out, Err: &errb,
			OutTerminal: true, ErrTerminal: true,
			Environ: []string{"PATH=/nonexistent"},
		})
		return code, out.String(), errb.String()
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// The command's options follow its name (and subcommand).
			n := 1
			if args[0] == "state" || args[0] == "lock" {
				n = 2
			}
			withFlag := append(append(append([]string{}, args[:n]...), "-no-color"), args[n:]...)
			code, stdout, stderr := run(t, dir, withFlag)
			if strings.Contains(stderr, "not defined") || strings.Contains(stderr, "takes three files") {
				t.Fatalf("pixform %s refused -no-color (exit %d):\n%s", strings.Join(withFlag, " "), code, stderr)
			}
			if strings.Contains(stdout+stderr, "\x1b[") {
				t.Errorf("pixform %s wrote colour:\nstdout: %q\nstderr: %q", strings.Join(withFlag, " "), stdout, stderr)
			}
		})
	}
	// The control: without -no-color, a failure on a terminal is coloured,
	// so the test above can see colour.
	if _, _, stderr := run(t, t.TempDir(), []string{"pull"}); !strings.Contains(stderr, "\x1b[") {
		t.Fatalf("pixform pull on a terminal wrote no colour: %q", stderr)
	}
}
