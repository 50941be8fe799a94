package scripttest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// teamCmds are the test script commands of the team_*.txtar scripts:
//
//	exitcode N PROG ARG…   run PROG (as exec does) and require exit status N;
//	                       stdout and stderr are kept for the next checks
//	replace FILE OLD NEW   replace every OLD in FILE by NEW (Go-quoted
//	                       strings are unquoted first); OLD must occur
//	truncate FILE N        keep only the first N bytes of FILE
//	keepside ours|theirs FILE
//	                       resolve every git conflict block in FILE by
//	                       keeping one side, as a person editing it would
func teamCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"exitcode": teamExitcode,
		"replace":  teamReplace,
		"truncate": teamTruncate,
		"keepside": teamKeepside,
	}
}

func teamExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARG…] (no !)")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// teamUnquote lets scripts write strings with newlines or quotes ("a\nb").
func teamUnquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

func teamReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	name := ts.MkAbs(args[0])
	b, err := os.ReadFile(name)
	ts.Check(err)
	old, repl := []byte(teamUnquote(args[1])), []byte(teamUnquote(args[2]))
	if !bytes.Contains(b, old) {
		ts.Fatalf("replace: %q does not occur in %s", old, args[0])
	}
	ts.Check(os.WriteFile(name, bytes.ReplaceAll(b, old, repl), 0o644))
}

func teamTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate FILE N")
	}
	n, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || n < 0 {
		ts.Fatalf("truncate: bad size %q", args[1])
	}
	ts.Check(os.Truncate(ts.MkAbs(args[0]), n))
}

func teamKeepside(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || (args[0] != "ours" && args[0] != "theirs") {
		ts.Fatalf("usage: keepside ours|theirs FILE")
	}
	name := ts.MkAbs(args[1])
	b, err := os.ReadFile(name)
	ts.Check(err)
	var out []string
	side, blocks := "", 0
	for _, line := range strings.SplitAfter(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "<<<<<<<"):
			side = "ours"
			blocks++
			continue
		case strings.TrimRight(line, "\r\n") == "=======" && side != "":
			side = "theirs"
			continue
		case strings.HasPrefix(line, ">>>>>>>"):
			side = ""
			continue
		}
		if side == "" || side == args[0] {
			out = append(out, line)
		}
	}
	if blocks == 0 {
		ts.Fatalf("keepside: %s has no conflict block", args[1])
	}
	ts.Check(os.WriteFile(name, []byte(strings.Join(out, "")), 0o644))
}
