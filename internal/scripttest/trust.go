package scripttest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/fakeapi"
	"github.com/pixform/pixform/state"
)

// trustCmds are the test script commands of the trust_*.txtar scripts:
//
//	notelock ADDR [LOCKFILE]
//	                note the file of ADDR's entry in LOCKFILE (default
//	                pixform.lock.json) for removal, as an apply does
//	                before it removes the entry
//	plantbomb ADDR W H
//	                write a small PNG declaring W×H pixels at ADDR's path
//	                and record its hash and size in pixform.lock.json, as a
//	                pull request could
func trustCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"notelock":  cmdNotelock,
		"plantbomb": cmdPlantbomb,
	}
}

func cmdPlantbomb(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: plantbomb ADDR W H")
	}
	w, errW := strconv.Atoi(args[1])
	h, errH := strconv.Atoi(args[2])
	if errW != nil || errH != nil {
		ts.Fatalf("plantbomb: bad size %s×%s", args[1], args[2])
	}
	lockPath := ts.MkAbs(state.LockFileName)
	raw, err := os.ReadFile(lockPath)
	ts.Check(err)
	// Edited as JSON, so that every field the lockfile holds is kept.
	var lock map[string]any
	ts.Check(json.Unmarshal(raw, &lock))
	images, _ := lock["images"].(map[string]any)
	e, ok := images[args[0]].(map[string]any)
	if !ok {
		ts.Fatalf("%s is not in the lockfile", args[0])
	}
	path, _ := e["path"].(string)
	data := fakeapi.BombPNG(w, h)
	ts.Check(os.WriteFile(ts.MkAbs(filepath.FromSlash(path)), data, 0o644))
	sum := sha256.Sum256(data)
	e["sha256"], e["bytes"] = hex.EncodeToString(sum[:]), len(data)
	out, err := json.MarshalIndent(lock, "", "  ")
	ts.Check(err)
	ts.Check(os.WriteFile(lockPath, append(out, '\n'), 0o644))
}

func cmdNotelock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: notelock ADDR [LOCKFILE]")
	}
	dir := ts.MkAbs(".")
	lockPath := filepath.Join(dir, state.LockFileName)
	if len(args) == 2 {
		lockPath = ts.MkAbs(args[1])
	}
	lock, err := state.ReadLock(lockPath)
	ts.Check(err)
	a, err := addrs.Parse(args[0])
	ts.Check(err)
	e, ok := lock.Images[a]
	if !ok {
		ts.Fatalf("%s is not in the lockfile", args[0])
	}
	ts.Check(state.IntendRemovals(dir, []state.Removal{{Path: e.Path, SHA256: e.SHA256}}))
}
