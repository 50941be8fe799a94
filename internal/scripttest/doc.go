// Package scripttest holds the custom commands and the setup of pixform's
// testscript scripts (testdata/script/*.txtar at the module root): a fake
// Imagine API per script, commands to configure and question it, checks of
// the lockfile and the images it records, and background runs of pixform.
// It is imported only by tests; the pixform binary does not link it.
package scripttest
