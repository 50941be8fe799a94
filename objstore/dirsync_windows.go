package objstore

// dirsSync is false on Windows: FlushFileBuffers wants a handle open for
// writing, which os.Open never gives a directory, so a directory is not
// flushed, and an object's name may be lost to a crash after its upload
// was counted (SECURITY.md, Windows); its bytes are fsynced.
const dirsSync = false
