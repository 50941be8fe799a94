// Package state owns everything pixform keeps on disk besides the
// configuration: the lockfile (codec, group-committing Recorder, three-way
// Merge for git), the process lock, the stat and content caches and the
// removal and directory notes under .pixform/, the atomic writer, and the
// Store, the one writer of outputs and of the lockfile.
//
// Crash safety rests on one discipline, which the Store keeps: an image
// reaches its path atomically (CreateTemp, then PlaceTemp) before the
// Recorder records it; replacing an image whose entry exists first deletes
// that entry, so that at no moment does the lockfile name a hash its file
// no longer has; and a file is removed only after its entry, under a
// durable removal note, so that no kill leaves an orphan. A file at a path
// that no entry records is never overwritten (OccupiedError) unless it
// holds the very bytes written, or the durable placing note says that an
// earlier apply left it there unrecorded.
package state
