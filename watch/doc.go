// Package watch turns file-system notifications in a pixform working
// directory into debounced change events for `pixform watch`: saves of the
// configuration and variable files (however an editor saves them: in
// place, by rename, or through a temporary file), and outputs removed or
// renamed away by hand. It ignores pixform's own temporary files, and
// outputs being written, so that an apply does not trigger itself.
package watch
