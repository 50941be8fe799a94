package scripttest

import (
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// reviewCmds are the test script commands of the candidates_*.txtar
// scripts:
//
//	takes ADDR N [PICKED]   the entry of ADDR records N takes, every one in
//	                        the content cache with its recorded hash, and
//	                        take PICKED (0: none picked) at its path
//	takeseed ADDR N         sets $SEED to the seed of take N of ADDR
//	distinct ADDR           the takes of ADDR are all different images
//	killcmd KILLS ARGS…     runs pixform ARGS KILLS times, each killed with
//	                        SIGKILL after a random delay; after each the
//	                        lockfile must be true (lockcheck) and every
//	                        output a whole image
func reviewCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"takes":    cmdTakes,
		"takeseed": cmdTakeseed,
		"killcmd":  cmdKillcmd,
		"distinct": cmdDistinct,
	}
}

func cmdTakes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: takes ADDR N [PICKED]")
	}
	dir := ts.MkAbs(".")
	lock, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
	ts.Check(err)
	a, err := addrs.Parse(args[0])
	ts.Check(err)
	e, ok := lock.Images[a]
	if !ok {
		ts.Fatalf("%s is not in the lockfile", a)
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	if len(e.Takes) != n {
		ts.Fatalf("%s records %d takes, want %d", a, len(e.Takes), n)
	}
	cache := state.OpenCache(dir)
	for i, t := range e.Takes {
		info, ok := cache.Info(e.Inputs.Take(t.Seed).Digest(), e.Provider)
		if !ok || info.SHA256 != t.SHA256 {
			ts.Fatalf("take %d of %s (seed %d) is not in the content cache with its hash", i+1, a, t.Seed)
		}
	}
	if len(args) == 3 {
		p, err := strconv.Atoi(args[2])
		ts.Check(err)
		if e.Picked != p {
			ts.Fatalf("%s: picked %d, want %d", a, e.Picked, p)
		}
		if p > 0 && e.SHA256 != e.Takes[p-1].SHA256 {
			ts.Fatalf("%s: the file is not take %d", a, p)
		}
	}
}

func cmdTakeseed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: takeseed ADDR N")
	}
	lock, err := state.ReadLock(filepath.Join(ts.MkAbs("."), state.LockFileName))
	ts.Check(err)
	a, err := addrs.Parse(args[0])
	ts.Check(err)
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	e := lock.Images[a]
	if n < 1 || n > len(e.Takes) {
		ts.Fatalf("%s has no take %d", a, n)
	}
	ts.Setenv("SEED", strconv.FormatInt(e.Takes[n-1].Seed, 10))
}

func cmdDistinct(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: distinct ADDR")
	}
	lock, err := state.ReadLock(filepath.Join(ts.MkAbs("."), state.LockFileName))
	ts.Check(err)
	a, err := addrs.Parse(args[0])
	ts.Check(err)
	seen := map[string]bool{}
	for _, t := range lock.Images[a].Takes {
		if seen[t.SHA256] {
			ts.Fatalf("two takes of %s are the same image", a)
		}
		seen[t.SHA256] = true
	}
}

func cmdKillcmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: killcmd KILLS ARGS…")
	}
	kills, err := strconv.Atoi(args[0])
	ts.Check(err)
	exe := pixformPath(ts)
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	ts.Logf("killcmd: seed %d", seed)
	for i := 0; i < kills; i++ {
		var out strings.Builder
		cmd := exec.Command(exe, args[1:]...)
		cmd.Dir = ts.MkAbs(".")
		cmd.Env = childEnv(ts)
		cmd.Stdout, cmd.Stderr = &out, &out
		ts.Check(cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			ts.Logf("killcmd: run %d finished before its kill (%v): %s", i+1, err, out.String())
		case <-time.After(time.Duration(rng.Int64N(int64(400 * time.Millisecond)))):
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		}
		cmdLockcheck(ts, false, nil)
		checkWholeImages(ts)
	}
}
