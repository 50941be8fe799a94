package s3test

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// Cmd returns the `s3server` script command; register it in
// testscript.Params.Cmds under that name:
//
//	s3server start     start a VersityGW for this script (skips the script
//	                   without a binary outside CI) and set, in the script's
//	                   environment, STORE_URL (the bucket under prefix
//	                   "pixform"), S3_ENDPOINT, S3_DIR (the posix root; the
//	                   objects are files under $S3_DIR/pixform-test/pixform)
//	                   and the AWS_* variables of Server.Env
//	s3server nocreds   clear the credentials from the environment
//	s3server badcreds  set a secret the server does not accept
//	s3server pause     stop it answering (SIGSTOP), as a dead network would
//	s3server resume    let it answer again
//	s3server stop      end it
//
// The server is stopped when the script ends. A script cannot skip itself
// from a custom command, so scripts begin with the Condition:
//
//	[!s3server] skip 'versitygw is not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0'
//	s3server start
//
// and without a binary, `s3server start` fails (which it reaches only in CI).
func Cmd() func(ts *testscript.TestScript, neg bool, args []string) {
	var mu sync.Mutex
	servers := map[*testscript.TestScript]*Server{}
	get := func(ts *testscript.TestScript) *Server {
		mu.Lock()
		defer mu.Unlock()
		s := servers[ts]
		if s == nil {
			ts.Fatalf("s3server: no server; run `s3server start` first")
		}
		return s
	}
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg {
			ts.Fatalf("s3server does not take !")
		}
		if len(args) != 1 {
			ts.Fatalf("usage: s3server start|nocreds|badcreds|pause|resume|stop")
		}
		switch args[0] {
		case "start":
			s := Start(scriptTB{ts}, "")
			mu.Lock()
			servers[ts] = s
			mu.Unlock()
			ts.Defer(func() {
				s.Stop()
				mu.Lock()
				delete(servers, ts)
				mu.Unlock()
			})
			setenv(ts, s.Env())
			ts.Setenv("STORE_URL", s.URL("pixform"))
			ts.Setenv("S3_ENDPOINT", s.Endpoint)
			ts.Setenv("S3_DIR", s.Dir)
		case "nocreds":
			get(ts)
			setenv(ts, NoCredentialsEnv())
		case "badcreds":
			get(ts)
			ts.Setenv("AWS_SECRET_ACCESS_KEY", "pxf-wrong-secret-0000")
		case "pause":
			ts.Check(get(ts).Pause())
		case "resume":
			ts.Check(get(ts).Resume())
		case "stop":
			get(ts).Stop()
		default:
			ts.Fatalf("usage: s3server start|nocreds|badcreds|pause|resume|stop")
		}
	}
}

func setenv(ts *testscript.TestScript, env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
}

// Condition is the script condition "s3server": true when a versitygw
// binary is there, or in CI (CI=true), where `s3server start` must then
// fail rather than the script skip. Use it from testscript.Params.Condition.
func Condition(cond string) (bool, error) {
	if cond != "s3server" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	bin, _, fail := Find(os.Getenv("CI") == "true")
	return bin != "" || fail, nil
}

// scriptTB lets Start report through a script: a missing binary fails the
// script (the Condition skipped it before, where that is allowed).
type scriptTB struct{ ts *testscript.TestScript }

func (s scriptTB) Fatalf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s scriptTB) Skip(args ...any)                  { s.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (s scriptTB) Logf(format string, args ...any)   { s.ts.Logf(format, args...) }
