package scripttest

import (
	"os"
	"regexp"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// waitLimit bounds every wait of the watch commands. It is not a timing
// assertion: a wait normally ends in seconds (a derived chain under the race
// detector, on a busy machine, in tens of them), and the limit
// only turns a hang into a failure with a message.
const waitLimit = 2 * time.Minute

// watchCmds are the test script commands for `pixform watch`:
//
//	watchbg …             a background pixform (see background), with
//	                      output in watch.out and watch.err
//	waitfor FILE [REGEXP] wait until FILE exists (and its contents match);
//	                      ! waitfor: until it is gone (or stops matching)
func watchCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"watchbg": newBackground("watch").cmd,
		"waitfor": cmdWaitfor,
	}
}

func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 && len(args) != 2 {
		ts.Fatalf("usage: waitfor FILE [REGEXP]")
	}
	var re *regexp.Regexp
	if len(args) == 2 {
		var err error
		re, err = regexp.Compile(args[1])
		ts.Check(err)
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(waitLimit)
	for {
		b, err := os.ReadFile(path)
		ok := err == nil && (re == nil || re.Match(b))
		if ok != neg {
			return
		}
		if time.Now().After(deadline) {
			if neg {
				ts.Fatalf("waitfor: %s still exists (or matches) after %s", args[0], waitLimit)
			}
			ts.Logf("%s:\n%s", args[0], b)
			ts.Fatalf("waitfor: %s did not appear (or match %v) within %s", args[0], args[1:], waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
