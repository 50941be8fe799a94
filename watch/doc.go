// Package watch is `pixform watch`. The Watcher turns file-system
// notifications in a working directory into debounced change events: saves
// of the configuration and variable files (however an editor saves them: in
// place, by rename, or through a temporary file), and outputs removed or
// renamed away by hand. A save is reported after a short quiet time when
// every file it touched was closed by its writer (or renamed into place),
// is unchanged since and lexes whole; any other (a file still open, missing
// in the middle of a rename-style save, empty or cut short) only once the
// full debounce has passed, as every save was before. It ignores pixform's
// own temporary files, and outputs being written, so that an apply does not
// trigger itself. A Session plans and applies on each event through the
// same apply path as `pixform apply` (package run). Superseding wraps a
// provider so that a save can cancel the requests it made obsolete without
// stopping the rest of the run.
package watch
