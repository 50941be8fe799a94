// Package nofollow opens a file at a name without following a symbolic
// link there: the one open that every file pixform reads or writes under
// .pixform/, and every output it hashes, goes through.
package nofollow
