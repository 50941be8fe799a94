package main

import (
	"flag"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/term"

	"github.com/pixform/pixform/internal/s3test"
	"github.com/pixform/pixform/internal/scripttest"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/script/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"pixform": main, "pixform-tty": mainTTY})
}

// mainTTY is pixform with its stdin taken for a terminal, so that scripts
// can answer its prompts from a file.
func mainTTY() {
	os.Exit(run(func(fd int) bool { return fd == int(os.Stdin.Fd()) || term.IsTerminal(fd) }))
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Setup:               scripttest.Setup,
		Cmds:                scripttest.Cmds(),
		Condition:           s3test.Condition,
	})
}
