// Command fakeapi runs the fake Imagine API (package internal/fakeapi) on a
// local address, for benchmarks and for comparing pixform with a curl loop.
// It prints the endpoint URL on its first line of output and serves until
// interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/pixform/pixform/internal/fakeapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakeapi:", err)
		os.Exit(1)
	}
}

// run parses args into a Config and serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakeapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg fakeapi.Config
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (host:port; port 0 picks one)")
	fs.StringVar(&cfg.Token, "token", "", "bearer token to accept (empty: any non-expired token)")
	expired := fs.String("expired-tokens", "", "comma-separated tokens that answer 406/1002")
	fs.IntVar(&cfg.Credits, "credits", fakeapi.Unlimited, "credit balance (-1: unlimited)")
	fs.Float64Var(&cfg.RatePerSec, "rate", 0, "requests admitted per second (0: no limit)")
	fs.IntVar(&cfg.Burst, "burst", 0, "token bucket size (0: max(1, rate))")
	fs.IntVar(&cfg.MaxInFlight, "max-inflight", 0, "concurrent requests allowed (0: no cap)")
	shape := fs.String("shape", "bucket", "rate limiter: bucket (token bucket), gcra (leaky bucket, -burst more at once) or window (-rate per sliding second, refused requests counted)")
	retry := fs.String("retry-after", "seconds", "Retry-After on 429s: seconds, date, none or huge (99999)")
	fs.DurationVar(&cfg.Latency, "latency", 0, "latency of each request")
	fs.BoolVar(&cfg.CodeAsNumber, "code-as-number", false, "send error codes as JSON numbers")
	fs.BoolVar(&cfg.JPEG, "jpeg", false, "answer JPEGs instead of PNGs")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	mode, err := fakeapi.ParseRetryAfterMode(*retry)
	if err != nil {
		return err
	}
	cfg.RetryAfter = mode
	if cfg.Shape, err = fakeapi.ParseShape(*shape); err != nil {
		return err
	}
	if *expired != "" {
		cfg.ExpiredTokens = strings.Split(*expired, ",")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	fmt.Fprintf(stdout, "http://%s/v2/image/generations\n", ln.Addr())
	return fakeapi.Serve(ctx, ln, cfg)
}
