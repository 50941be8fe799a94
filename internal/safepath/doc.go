// Package safepath owns the one rule for a path that pixform reads, writes
// or deletes on behalf of a configuration or a lockfile, neither of which
// it trusts: a clean, relative, slash-separated path inside the working
// directory, outside pixform's own files and version control's (.git),
// with no symbolic link anywhere on the way (Check lexically, Disk against
// the file system), compared with other paths case-folded (Key).
package safepath
