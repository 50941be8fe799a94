// Package watch is `pixform watch`. The Watcher turns file-system
// notifications in a working directory into debounced change events: saves
// of the configuration and variable files, and of the files images are made
// from (from = "FILE") or masked with (however an editor saves them: in
// place, by rename, or through a temporary file), and outputs removed or
// renamed away by hand. It ignores pixform's own temporary files, and
// outputs being written, so that an apply does not trigger itself. A
// Session plans and applies on each event through the same apply path as
// `pixform apply` (package run). Superseding wraps a provider so that a
// save can cancel the requests it made obsolete without stopping the rest
// of the run.
//
// A save is reported once the full debounce has passed since its last
// notification (100 ms while the session's plans render drafts; 1 s while
// they render with the Imagine API, where every save planned sends paid
// requests: a burst of quick saves is one request, not one a save), or, while the session's plans render drafts, as soon
// as it has settled, after 10 ms of quiet: the last event of every file it
// touched is a close by its writer (or a rename into place), and the file
// lexes whole. Settled is not finished: a file written in pieces and
// closed between them, one of several files saved together, a checkout of
// many, is whole and closed after its first part. So such an Early save is
// applied only when the plan of the rest of the save can undo it at no
// cost and with nothing lost: it renders drafts (free, and the same bytes
// again for the same inputs), and neither deletes nor moves an image, nor
// replaces one that records a review or a paid render. Any other (a plan
// that deletes, moves, or cannot be made) is not applied and prints
// nothing; the save waits the full debounce and is planned again, as every
// save was before. The Imagine API's saves always wait the debounce: a
// render of half a save would be paid for, and its renders take seconds,
// beside which the debounce is little.
//
// On Linux each Watcher uses two inotify instances (counted against
// fs.inotify.max_user_instances, 128 by default): fsnotify's, and one of
// its own for the closes, which fsnotify does not export. Its events (a
// configuration file's writes, closes, renames, creations and deletions)
// are in one ordered queue, read by the Watcher's goroutine when it looks,
// so that a close that a later write followed never counts. When no
// second instance is free, the session says so once and every save waits
// the full debounce.
package watch
