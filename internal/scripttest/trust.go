package scripttest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
//	takesfromstore PLANFILE
//	                edit each change of PLANFILE whose prior entry has
//	                takes into a restore of those takes from the image
//	                store by their recorded sha256 (store_takes), with no
//	                request, as someone altering a saved plan could
func trustCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"notelock":       cmdNotelock,
		"plantbomb":      cmdPlantbomb,
		"takesfromstore": cmdTakesFromStore,
	}
}

func cmdTakesFromStore(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: takesfromstore PLANFILE")
	}
	path := ts.MkAbs(args[0])
	raw, err := os.ReadFile(path)
	ts.Check(err)
	var plan map[string]any
	ts.Check(json.Unmarshal(raw, &plan))
	edited := 0
	var walk func(v any)
	walk = func(v any) {
		switch o := v.(type) {
		case map[string]any:
			if pr, ok := o["prior"].(map[string]any); ok {
				if takes, ok := pr["takes"].([]any); ok && len(takes) > 0 {
					sums := make([]any, len(takes))
					for i, t := range takes {
						sums[i] = t.(map[string]any)["sha256"]
					}
					o["from_store"], o["store_sha256"], o["store_takes"] = true, pr["sha256"], sums
					o["requests"], o["credits"], o["credits_known"] = 0, 0, false
					o["reasons"] = []any{fmt.Sprintf("%d candidates, every take restored from the image store, no request", len(takes))}
					edited++
					return
				}
			}
			for _, x := range o {
				walk(x)
			}
		case []any:
			for _, x := range o {
				walk(x)
			}
		}
	}
	walk(plan)
	if edited == 0 {
		ts.Fatalf("takesfromstore: no change with prior takes in %s", args[0])
	}
	out, err := json.MarshalIndent(plan, "", "  ")
	ts.Check(err)
	ts.Check(os.WriteFile(path, out, 0o644))
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
