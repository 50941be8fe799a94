// Package state owns everything pixform keeps on disk besides the
// configuration: the lockfile (codec, group-committing Recorder, three-way
// Merge for git), the process lock, the stat and content caches under
// .pixform/, and the atomic writer through which every image and the
// lockfile reach disk.
//
// Crash safety rests on one discipline, which the executor follows: an
// image reaches its path atomically (WriteFileAtomic or CreateTemp and
// CommitTemp) before the Recorder records it, and replacing an image whose
// entry exists first deletes that entry (Recorder.Delete), so that at no
// moment does the lockfile name a hash its file no longer has.
package state
