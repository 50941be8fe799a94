package scripttest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pixform/pixform/internal/fakeapi"
)

// fakeKey is where Setup keeps each script's fake Imagine API.
type fakeKey struct{}

// Setup starts a fake Imagine API for every script and points
// pixform at it: IMAGINE_API_URL and IMAGINE_API_TOKEN are set, so scripts
// that must run without a token unset it themselves.
func Setup(env *testscript.Env) error {
	srv := fakeapi.New(fakeapi.Config{Token: testToken, Credits: fakeapi.Unlimited})
	env.Defer(srv.Close)
	env.Values[fakeKey{}] = srv
	env.Setenv("IMAGINE_API_URL", srv.URL())
	env.Setenv("IMAGINE_API_TOKEN", testToken)
	env.Setenv("NO_COLOR", "1")
	// Under -race every process sleeps a second as it exits; scripts run
	// pixform hundreds of times.
	env.Setenv("GORACE", "atexit_sleep_ms=0")
	return nil
}

func fakeOf(ts *testscript.TestScript) *fakeapi.Server {
	return ts.Value(fakeKey{}).(*fakeapi.Server)
}

// fakeCmds is the `fake` command of the test scripts:
//
//	fake set KEY=VALUE…   configure the fake: rate=10 burst=2 inflight=4
//	                      latency=300ms retryafter=seconds|none|date|huge
//	                      credits=N (-1 unlimited) codes=number jpeg=true
//	fake inject FAULT…    queue faults for the next requests: 503 504 500
//	                      1300 1206 429 1100 402 401 truncate hang reset
//	                      json200 502, and the hostile answers echo
//	                      echo429 bomb tiny wrongratio huge redirect stall
//	fake elsewhere N      exactly N requests reached the server that a
//	                      redirect points at
//	fake reset            forget the statistics
//	fake requests N       the fake has received exactly N requests
//	                      (also: successes, throttled; "<=N" for at most)
//	fake requests N PATH  exactly N of them went to the endpoint PATH
//	                      (/image/enhance, /image/generations, …)
//	fake await N          wait until the fake has received N requests
//	fake hold             hold every answer until release: requests stay
//	                      in flight however slow the machine (a latency
//	                      only bounds how long they would)
//	fake release [DELAY]  let the held answers go, after DELAY if given
//	                      (the script goes on at once)
func fakeCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){"fake": cmdFake}
}

var faultNames = map[string]fakeapi.Fault{
	"503": fakeapi.Fault503ServiceDown, "504": fakeapi.Fault504Timeout, "500": fakeapi.Fault500Internal,
	"1205": fakeapi.Fault500Unexpected, "1300": fakeapi.Fault500Internal, "1206": fakeapi.Fault503Unsupported,
	"429": fakeapi.Fault429, "1100": fakeapi.Fault400Invalid, "402": fakeapi.Fault402Credits,
	"401": fakeapi.Fault401Token, "truncate": fakeapi.FaultTruncate, "hang": fakeapi.FaultHang,
	"reset": fakeapi.FaultReset, "json200": fakeapi.FaultJSON200, "502": fakeapi.FaultBadGateway,
	"echo": fakeapi.FaultEcho, "echo429": fakeapi.FaultEcho429, "bomb": fakeapi.FaultBomb, "tiny": fakeapi.FaultTiny,
	"wrongratio": fakeapi.FaultWrongRatio, "huge": fakeapi.FaultHuge, "redirect": fakeapi.FaultRedirect, "stall": fakeapi.FaultStall,
}

func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: fake set|inject|reset|requests|successes|throttled …")
	}
	srv := fakeOf(ts)
	switch args[0] {
	case "set":
		cfg := fakeapi.Config{Token: testToken, Credits: fakeapi.Unlimited}
		for _, kv := range args[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var err error
			switch k {
			case "rate":
				cfg.RatePerSec, err = strconv.ParseFloat(v, 64)
			case "burst":
				cfg.Burst, err = strconv.Atoi(v)
			case "inflight":
				cfg.MaxInFlight, err = strconv.Atoi(v)
			case "latency":
				cfg.Latency, err = time.ParseDuration(v)
			case "retryafter":
				cfg.RetryAfter, err = fakeapi.ParseRetryAfterMode(v)
			case "credits":
				cfg.Credits, err = strconv.Atoi(v)
			case "codes":
				cfg.CodeAsNumber = v == "number"
			case "jpeg":
				cfg.JPEG = v == "true"
			case "token":
				cfg.Token = v
			default:
				err = fmt.Errorf("unknown key")
			}
			if err != nil {
				ts.Fatalf("fake set %s: %v", kv, err)
			}
		}
		srv.SetConfig(cfg)
	case "inject":
		var faults []fakeapi.Fault
		for _, name := range args[1:] {
			f, ok := faultNames[name]
			if !ok {
				ts.Fatalf("fake inject: unknown fault %q", name)
			}
			faults = append(faults, f)
		}
		srv.Inject(faults...)
	case "reset":
		srv.ResetStats()
	case "await":
		if len(args) != 2 {
			ts.Fatalf("usage: fake await N")
		}
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		deadline := time.Now().Add(waitLimit)
		for srv.Stats().Requests < n {
			if time.Now().After(deadline) {
				ts.Fatalf("fake await: %d requests after %s, want %d", srv.Stats().Requests, waitLimit, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	case "hold":
		if len(args) != 1 {
			ts.Fatalf("usage: fake hold")
		}
		srv.Hold()
	case "release":
		if len(args) > 2 {
			ts.Fatalf("usage: fake release [DELAY]")
		}
		if len(args) == 1 {
			srv.Release()
			break
		}
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		t := time.AfterFunc(d, srv.Release)
		ts.Defer(func() { t.Stop() })
	case "elsewhere":
		if len(args) != 2 {
			ts.Fatalf("usage: fake elsewhere N")
		}
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		got, withToken := srv.Elsewhere()
		if (got == n) == neg {
			ts.Fatalf("fake elsewhere: %d requests (%d with the token), want %s%d", got, withToken, map[bool]string{true: "not ", false: ""}[neg], n)
		}
	case "requests", "successes", "throttled":
		if len(args) != 2 && (len(args) != 3 || args[0] != "requests") {
			ts.Fatalf("usage: fake %s N|<=N", args[0])
		}
		st := srv.Stats()
		got := map[string]int{"requests": st.Requests, "successes": st.Successes, "throttled": st.Throttled}[args[0]]
		if len(args) == 3 {
			got = st.ByEndpoint[args[2]]
		}
		want := strings.TrimPrefix(args[1], "<=")
		n, err := strconv.Atoi(want)
		if err != nil {
			ts.Fatalf("fake %s: bad number %q", args[0], args[1])
		}
		ok := got == n
		if strings.HasPrefix(args[1], "<=") {
			ok = got <= n
		}
		if ok == neg {
			ts.Fatalf("fake %s: got %d, want %s%s", strings.Join(append(args[:1:1], args[2:]...), " "), got, map[bool]string{true: "not ", false: ""}[neg], args[1])
		}
	default:
		ts.Fatalf("fake: unknown subcommand %q", args[0])
	}
}
