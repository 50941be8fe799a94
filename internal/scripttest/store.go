package scripttest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pixform/pixform/state"
)

// storeCmds are the test script commands of the store_*.txtar scripts,
// about a file:// image store in directory STORE:
//
//	storelock STORE VAR    set VAR to the ID of the lock held in STORE
//	                       (! storelock STORE: no lock is held)
//	storehas STORE [DIR]   every image the lockfile of DIR (default the
//	                       current directory) records, and every take of
//	                       a candidates image, is in STORE, whole
//	storekillloop KILLS IMAGES PARALLELISM STORE [RENDERS]
//	                       killloop with the store (RENDERS: the
//	                       requests the images cost, default IMAGES): after each kill the
//	                       dead holder's lock is removed with force-unlock
//	                       (as a person would), and at the end every
//	                       recorded image must be in STORE
//	storedamage STORE ADDR flip|truncate [DIR]
//	                       damage the object in STORE that ADDR's entry
//	                       in the lockfile of DIR (default the current
//	                       directory) names: flip one byte in the middle,
//	                       or cut it to half its length
//	storerestoreloop KILLS STORE
//	                       in a clone whose outputs are missing, apply
//	                       (restoring from STORE) killed with SIGKILL at
//	                       random moments: after each kill the lockfile
//	                       is unchanged and every recorded path holds
//	                       nothing or the whole recorded image; then a
//	                       last apply restores the rest, with no request
func storeCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"storelock":     cmdStorelock,
		"storehas":      cmdStorehas,
		"storekillloop": cmdStoreKillloop,
		"storedamage":   cmdStoredamage,

		"storerestoreloop": cmdStoreRestoreloop,
	}
}

// storeLockID returns the ID of the lock held in the store directory
// dir, or "" when none is.
func storeLockID(ts *testscript.TestScript, dir string) string {
	des, err := os.ReadDir(filepath.Join(dir, "locks"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	ts.Check(err)
	var ids []string
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "locks", de.Name()))
		ts.Check(err)
		var info struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &info); err != nil || info.ID == "" {
			ts.Fatalf("lock object %s does not parse: %v: %s", de.Name(), err, b)
		}
		ids = append(ids, info.ID)
	}
	if len(ids) > 1 {
		ts.Fatalf("%d lock objects in %s, want at most 1", len(ids), dir)
	}
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

func cmdStorelock(ts *testscript.TestScript, neg bool, args []string) {
	if (neg && len(args) != 1) || (!neg && len(args) != 2) {
		ts.Fatalf("usage: storelock STORE VAR | ! storelock STORE")
	}
	id := storeLockID(ts, ts.MkAbs(args[0]))
	if neg {
		if id != "" {
			ts.Fatalf("a lock is held in %s: %s", args[0], id)
		}
		return
	}
	if id == "" {
		ts.Fatalf("no lock is held in %s", args[0])
	}
	ts.Setenv(args[1], id)
}

// storeMissing lists the images the lockfile of dir records that the
// store directory store lacks.
func storeMissing(ts *testscript.TestScript, store, dir string) []string {
	lock, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
	ts.Check(err)
	var missing []string
	has := func(sum string, bytes int64) bool {
		b, err := os.ReadFile(filepath.Join(store, "sha256", sum[:2], sum))
		return err == nil && int64(len(b)) == bytes
	}
	for a, e := range lock.Images {
		if !has(e.SHA256, e.Bytes) {
			missing = append(missing, a.String())
		}
		// Every take of a candidates image is in the store too.
		for i, t := range e.Takes {
			if !has(t.SHA256, t.Bytes) {
				missing = append(missing, fmt.Sprintf("%s take %d", a, i+1))
			}
		}
	}
	return missing
}

func cmdStorehas(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: storehas STORE [DIR]")
	}
	dir := ts.MkAbs(".")
	if len(args) == 2 {
		dir = ts.MkAbs(args[1])
	}
	missing := storeMissing(ts, ts.MkAbs(args[0]), dir)
	if neg {
		if len(missing) == 0 {
			ts.Fatalf("the store holds every recorded image")
		}
		return
	}
	if len(missing) > 0 {
		ts.Fatalf("the store lacks %d recorded image(s): %v", len(missing), missing)
	}
}

func cmdStoredamage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: storedamage STORE ADDR flip|truncate [DIR]")
	}
	dir := ts.MkAbs(".")
	if len(args) == 4 {
		dir = ts.MkAbs(args[3])
	}
	lock, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
	ts.Check(err)
	var e *state.Entry
	for a, en := range lock.Images {
		if a.String() == args[1] {
			e = &en
		}
	}
	if e == nil {
		ts.Fatalf("storedamage: the lockfile records no %s", args[1])
	}
	obj := filepath.Join(ts.MkAbs(args[0]), "sha256", e.SHA256[:2], e.SHA256)
	b, err := os.ReadFile(obj)
	ts.Check(err)
	switch args[2] {
	case "flip":
		b[len(b)/2] ^= 0xff
	case "truncate":
		b = b[:len(b)/2]
	default:
		ts.Fatalf("storedamage: say flip or truncate, not %q", args[2])
	}
	ts.Check(os.WriteFile(obj, b, 0o644))
}

// cmdStoreKillloop is killloop (see cmdKillloop) for an apply that
// uploads to a store: a kill -9 at any moment leaves a true lockfile,
// nothing is paid for twice beyond the requests in flight, and in the end
// every recorded image is in the store.
func cmdStoreKillloop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 || len(args) > 5 {
		ts.Fatalf("usage: storekillloop KILLS IMAGES PARALLELISM STORE [RENDERS]")
	}
	// RENDERS is the requests the images cost (more than IMAGES when
	// they have candidates).
	renders := args[1]
	if len(args) == 5 {
		renders = args[4]
	}
	kills, err1 := strconv.Atoi(args[0])
	images, err2 := strconv.Atoi(args[1])
	parallel, err3 := strconv.Atoi(args[2])
	cost, err4 := strconv.Atoi(renders)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		ts.Fatalf("storekillloop: %v", err)
	}
	store := ts.MkAbs(args[3])
	srv := fakeOf(ts)
	exe := pixformPath(ts)
	before := srv.Stats().Requests
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	ts.Logf("storekillloop: seed %d", seed)
	command := func(args ...string) (*exec.Cmd, *strings.Builder) {
		var out strings.Builder
		cmd := exec.Command(exe, args...)
		cmd.Dir = ts.MkAbs(".")
		cmd.Env = storeEnv(ts)
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}
	apply := func() (*exec.Cmd, *strings.Builder) {
		return command("apply", "-auto-approve", "-parallelism="+args[2])
	}
	killed, unlocked := 0, 0
	for i := 0; i < kills; i++ {
		cmd, out := apply()
		if killRun(ts, "storekillloop", i+1, cmd, out, srv, rng, parallel) {
			killed++
		}
		cmdLockcheck(ts, false, nil)
		checkWholeImages(ts)
		if id := storeLockID(ts, store); id != "" {
			// The dead holder's lock stays until a person removes it.
			cmd, out := command("force-unlock", id)
			if err := cmd.Run(); err != nil {
				ts.Fatalf("storekillloop: force-unlock %s: %v\n%s", id, err, out)
			}
			unlocked++
		}
	}
	cmd, out := apply()
	if err := cmd.Run(); err != nil {
		ts.Fatalf("storekillloop: the final apply failed: %v\n%s", err, out)
	}
	cmdLockcheck(ts, false, []string{args[1]})
	checkWholeImages(ts)
	if missing := storeMissing(ts, store, ts.MkAbs(".")); len(missing) > 0 {
		ts.Fatalf("storekillloop: after the final apply the store lacks %v\n%s", missing, out)
	}
	total := srv.Stats().Requests - before
	ts.Logf("storekillloop: %d kills, %d locks removed, %d requests for %d images", killed, unlocked, total, images)
	if limit := cost + killed*parallel; total > limit {
		ts.Fatalf("storekillloop: %d requests for %d images (%d renders) after %d kills at parallelism %d, want at most %d", total, images, cost, killed, parallel, limit)
	}
	if id := storeLockID(ts, store); id != "" {
		ts.Fatalf("storekillloop: the final apply left its lock %s", id)
	}
}

func cmdStoreRestoreloop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: storerestoreloop KILLS STORE")
	}
	kills, err := strconv.Atoi(args[0])
	ts.Check(err)
	srv := fakeOf(ts)
	exe := pixformPath(ts)
	dir := ts.MkAbs(".")
	lockPath := filepath.Join(dir, state.LockFileName)
	before := srv.Stats().Requests
	recorded, err := os.ReadFile(lockPath)
	ts.Check(err)
	lock, err := state.ParseLock(recorded, lockPath)
	ts.Check(err)
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	ts.Logf("storerestoreloop: seed %d", seed)
	apply := func() (*exec.Cmd, *strings.Builder) {
		var out strings.Builder
		cmd := exec.Command(exe, "apply", "-auto-approve")
		cmd.Dir = dir
		cmd.Env = storeEnv(ts)
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}
	// edited marks the paths this loop ever wrote its edit at, which a
	// run replaces with the recorded image.
	const edit = "edited by hand"
	edited := map[string]bool{}
	// placed counts the recorded paths that hold their image; any other
	// file at a recorded path (but the loop's own edit) fails the test.
	placed := func(when string) int {
		n := 0
		for a, e := range lock.Images {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			ts.Check(err)
			if edited[e.Path] && string(b) == edit {
				continue
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != e.SHA256 {
				ts.Fatalf("storerestoreloop: %s: %s holds %d bytes that are not the recorded image of %s", when, e.Path, len(b), a)
			}
			n++
		}
		return n
	}
	killed := 0
	for i := 0; i < kills; i++ {
		// Each run has work: about half of the images in place are
		// removed, and a few edited by hand (an edit a killed run did
		// not replace stays).
		for _, e := range lock.Images {
			p := filepath.Join(dir, filepath.FromSlash(e.Path))
			switch rng.IntN(6) {
			case 0, 1, 2:
				os.Remove(p)
			case 3:
				if _, err := os.Stat(p); err == nil {
					ts.Check(os.WriteFile(p, []byte(edit), 0o644))
					edited[e.Path] = true
				}
			}
		}
		cmd, out := apply()
		ts.Check(cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			ts.Logf("storerestoreloop: run %d finished before its kill (%v):\n%s", i+1, err, out)
		case <-time.After(time.Duration(rng.Int64N(int64(300 * time.Millisecond)))):
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			killed++
		}
		if b, err := os.ReadFile(lockPath); err != nil || !bytes.Equal(b, recorded) {
			ts.Fatalf("storerestoreloop: after kill %d the lockfile changed (%v)", i+1, err)
		}
		n := placed(fmt.Sprintf("after kill %d", i+1))
		ts.Logf("storerestoreloop: run %d: %d of %d images in place", i+1, n, len(lock.Images))
		if id := storeLockID(ts, ts.MkAbs(args[1])); id != "" {
			cmd := exec.Command(exe, "force-unlock", id)
			cmd.Dir, cmd.Env = dir, storeEnv(ts)
			if out, err := cmd.CombinedOutput(); err != nil {
				ts.Fatalf("storerestoreloop: force-unlock %s: %v\n%s", id, err, out)
			}
		}
	}
	cmd, out := apply()
	if err := cmd.Run(); err != nil {
		ts.Fatalf("storerestoreloop: the final apply failed: %v\n%s", err, out)
	}
	if n := placed("after the final apply"); n != len(lock.Images) {
		ts.Fatalf("storerestoreloop: %d of %d images in place after the final apply\n%s", n, len(lock.Images), out)
	}
	if b, err := os.ReadFile(lockPath); err != nil || !bytes.Equal(b, recorded) {
		ts.Fatalf("storerestoreloop: the final apply changed the lockfile (%v)", err)
	}
	if got := srv.Stats().Requests - before; got != 0 {
		ts.Fatalf("storerestoreloop: %d requests sent, want none", got)
	}
	ts.Logf("storerestoreloop: %d kills", killed)
}

// storeEnv is childEnv with the script's store settings.
func storeEnv(ts *testscript.TestScript) []string {
	env := childEnv(ts)
	for _, k := range []string{"PIXFORM_STORE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_EC2_METADATA_DISABLED"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}
