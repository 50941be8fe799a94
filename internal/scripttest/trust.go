package scripttest

import (
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pixform/pixform/state"
)

// trustCmds are the test script commands of the trust_*.txtar scripts:
//
//	notelock ADDR [LOCKFILE]
//	                note the file of ADDR's entry in LOCKFILE (default
//	                pixform.lock.json) for removal, as an apply does
//	                before it removes the entry
func trustCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"notelock": cmdNotelock,
	}
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
	e, ok := lock.Images[args[0]]
	if !ok {
		ts.Fatalf("%s is not in the lockfile", args[0])
	}
	ts.Check(state.IntendRemovals(dir, []state.Removal{{Path: e.Path, SHA256: e.SHA256}}))
}
