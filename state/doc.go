// Package state owns everything pixform keeps on disk besides the
// configuration: the lockfile, the journal of an apply in progress, the
// process lock, the stat and content caches under .pixform/, and the atomic
// writer through which every image and the lockfile reach disk.
package state
