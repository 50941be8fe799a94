package scripttest

import (
	"errors"
	"image"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pixform/pixform/internal/fakeapi"
	"github.com/pixform/pixform/media"
)

// applyCmds are the test script commands of the apply_*.txtar scripts:
//
//	applybg …               a background pixform (see background), with
//	                        output in apply.out and apply.err
//	killloop KILLS IMAGES PARALLELISM [REQUESTS]
//	                        crash test of apply -auto-approve (see below)
//	fakeexpired TOKEN…      configure the fake to answer 406/1002 for TOKEN
//	fakestat KEY N|<=N      a statistic of the fake: maxinflight, code=NNNN,
//	                        attempts=PROMPT
//	notmp                   fail if a .pixform-tmp-* file is anywhere outside
//	                        .pixform/ (! notmp: if there is none)
func applyCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"applybg":     newBackground("apply").cmd,
		"killloop":    cmdKillloop,
		"fakeexpired": cmdFakeExpired,
		"fakestat":    cmdFakestat,
		"notmp":       cmdNotmp,
	}
}

// pixformPath finds the pixform test binary on the script's PATH.
func pixformPath(ts *testscript.TestScript) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, "pixform")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	ts.Fatalf("pixform is not on the script's PATH")
	return ""
}

// cmdKillloop is the crash test of apply's guarantee that a kill -9 at any
// moment leaves a true lockfile and repeats at most the requests that were
// in flight. KILLS times it starts `pixform apply -auto-approve` in the
// work directory and sends it SIGKILL after a random delay; after each kill the lockfile must parse, every
// entry's file must exist with its hash (lockcheck), and every file at an
// image path must be a whole image. Then it runs apply to completion and
// checks that the whole test sent at most REQUESTS (default IMAGES) + kills × PARALLELISM
// requests (only requests in flight at a kill are repeated), that the
// lockfile records IMAGES images, and that one more apply sends no request.
// The fake should have some latency so that kills land mid-request.
func cmdKillloop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 && len(args) != 4 {
		ts.Fatalf("usage: killloop KILLS IMAGES PARALLELISM [REQUESTS]")
	}
	kills, err1 := strconv.Atoi(args[0])
	images, err2 := strconv.Atoi(args[1])
	parallel, err3 := strconv.Atoi(args[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		ts.Fatalf("killloop: %v", err)
	}
	// REQUESTS is what a run without kills sends, when images cost none
	// (made locally from others) or several (candidates render a request
	// a take); it defaults to IMAGES.
	requests := images
	if len(args) == 4 {
		var err error
		if requests, err = strconv.Atoi(args[3]); err != nil {
			ts.Fatalf("killloop: %v", err)
		}
	}
	srv := fakeOf(ts)
	exe := pixformPath(ts)
	before := srv.Stats().Requests
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	ts.Logf("killloop: seed %d", seed)
	run := func() (*exec.Cmd, *strings.Builder) {
		var out strings.Builder
		cmd := exec.Command(exe, "apply", "-auto-approve", "-parallelism="+args[2])
		cmd.Dir = ts.MkAbs(".")
		cmd.Env = childEnv(ts)
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}
	killed := 0
	for i := 0; i < kills; i++ {
		cmd, out := run()
		if killRun(ts, "killloop", i+1, cmd, out, srv, rng, parallel) {
			killed++
		}
		cmdLockcheck(ts, false, nil)
		checkWholeImages(ts)
	}
	cmd, out := run()
	if err := cmd.Run(); err != nil {
		ts.Fatalf("killloop: the final apply failed: %v\n%s", err, out)
	}
	cmdLockcheck(ts, false, []string{args[1]})
	checkWholeImages(ts)
	total := srv.Stats().Requests - before
	ts.Logf("killloop: %d kills, %d requests for %d images", killed, total, images)
	if limit := requests + killed*parallel; total > limit {
		ts.Fatalf("killloop: %d requests for %d images (%d requests without kills) after %d kills at parallelism %d, want at most %d", total, images, requests, killed, parallel, limit)
	}
	cmd, out = run()
	if err := cmd.Run(); err != nil {
		ts.Fatalf("killloop: the apply after the final one failed: %v\n%s", err, out)
	}
	if n := srv.Stats().Requests - before; n != total {
		ts.Fatalf("killloop: an apply after a complete one sent %d requests, want 0\n%s", n-total, out)
	}
}

// afterRequests returns a channel that fires delay after srv has seen n
// requests in all. Its goroutine ends on its own within waitLimit.
func afterRequests(srv *fakeapi.Server, n int, delay time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		deadline := time.Now().Add(waitLimit)
		for srv.Stats().Requests < n && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(delay)
		ch <- time.Now()
	}()
	return ch
}

// checkWholeImages fails unless every .png/.jpg/.jpeg file outside
// .pixform/ and outside temporary files decodes as a whole image: no half
// image is ever at an output path.
func checkWholeImages(ts *testscript.TestScript) {
	err := walkOutsideWorkDir(ts.MkAbs("."), func(p string, fi os.FileInfo) error {
		_, isImage := media.OfExt(strings.ToLower(filepath.Ext(p)))
		if fi.IsDir() || strings.HasPrefix(fi.Name(), ".pixform-tmp-") || !isImage {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, _, err := image.Decode(f); err != nil {
			ts.Fatalf("%s is not a whole image: %v", p, err)
		}
		return nil
	})
	ts.Check(err)
}

// cmdFakeExpired configures the fake as Setup does, with the given
// tokens expired (406/1002).
func cmdFakeExpired(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: fakeexpired TOKEN…")
	}
	fakeOf(ts).SetConfig(fakeapi.Config{Token: testToken, Credits: fakeapi.Unlimited, ExpiredTokens: args})
}

// cmdFakestat checks one statistic of the fake: "fakestat maxinflight <=4",
// "fakestat code=1202 0", "fakestat attempts=PROMPT 3".
func cmdFakestat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: fakestat maxinflight|code=N|attempts=PROMPT N|<=N")
	}
	st := fakeOf(ts).Stats()
	key, arg, _ := strings.Cut(args[0], "=")
	var got int
	switch key {
	case "maxinflight":
		got = st.MaxInFlightSeen
	case "code":
		c, err := strconv.Atoi(arg)
		ts.Check(err)
		got = st.ByCode[c]
	case "attempts":
		got = st.Attempts[arg]
	default:
		ts.Fatalf("fakestat: unknown statistic %q", args[0])
	}
	atMost := strings.HasPrefix(args[1], "<=")
	want, err := strconv.Atoi(strings.TrimPrefix(args[1], "<="))
	ts.Check(err)
	ok := got == want || (atMost && got <= want)
	if ok == neg {
		ts.Fatalf("fakestat %s: got %d, want %s%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}

// cmdNotmp fails if a temporary file of pixform is left anywhere in the
// work directory outside .pixform/.
func cmdNotmp(ts *testscript.TestScript, neg bool, args []string) {
	var found []string
	err := walkOutsideWorkDir(ts.MkAbs("."), func(p string, fi os.FileInfo) error {
		if strings.HasPrefix(fi.Name(), ".pixform-tmp-") {
			found = append(found, p)
		}
		return nil
	})
	ts.Check(err)
	if len(found) > 0 && !neg {
		ts.Fatalf("temporary files left: %s", strings.Join(found, ", "))
	}
	if len(found) == 0 && neg {
		ts.Fatalf("no temporary file found")
	}
}

// walkOutsideWorkDir calls fn for every file and directory under root
// except those in a .pixform/ directory, which pixform keeps for itself.
func walkOutsideWorkDir(root string, fn func(p string, fi os.FileInfo) error) error {
	return filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() && fi.Name() == ".pixform" {
			return filepath.SkipDir
		}
		return fn(p, fi)
	})
}

// killRun starts cmd and kills it with SIGKILL at a random moment: a third
// of the kills land at a random moment of the start (the process start
// itself takes a while under -race); the others once the fake has seen a
// random number of this run's requests, and a random moment after, so
// that they land with requests in flight or with images being committed.
// It reports whether the kill landed (else the run finished first).
func killRun(ts *testscript.TestScript, name string, run int, cmd *exec.Cmd, out *strings.Builder, srv *fakeapi.Server, rng *rand.Rand, parallel int) bool {
	r0 := srv.Stats().Requests
	ts.Check(cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var fire <-chan time.Time
	if rng.IntN(3) == 0 {
		fire = time.After(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
	} else {
		fire = afterRequests(srv, r0+1+rng.IntN(2*parallel), time.Duration(rng.Int64N(int64(200*time.Millisecond))))
	}
	select {
	case err := <-exited:
		ts.Logf("%s: run %d finished before its kill (%v):\n%s", name, run, err, out)
		return false
	case <-fire:
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		return true
	case <-time.After(waitLimit):
		cmd.Process.Kill()
		<-exited
		ts.Fatalf("%s: run %d neither finished nor reached its kill within %s:\n%s", name, run, waitLimit, out)
	}
	return false
}
