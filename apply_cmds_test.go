package main

import "github.com/rogpeppe/go-internal/testscript"

// applyCmds are the test script commands of the apply_*.txtar scripts.
func applyCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){}
}
