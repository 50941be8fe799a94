package main

import "github.com/rogpeppe/go-internal/testscript"

// teamCmds are the test script commands of the team_*.txtar scripts.
func teamCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){}
}
