package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/pixform/pixform/internal/fsflush"
	"github.com/pixform/pixform/internal/umask"
	"github.com/pixform/pixform/internal/unnamed"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
)

// openCheckTimeout bounds Open's round trip to the server (credentials
// and bucket check) when the caller's context has no earlier deadline, so
// that a network that drops packets does not hang a command.
const openCheckTimeout = 30 * time.Second

// maxRecordBytes caps what GetInputs and the lock code read of a record:
// both are small JSON objects.
const maxRecordBytes = 64 << 10

// Store is an opened image store. Its methods are safe for concurrent use.
type Store struct {
	url    string       // canonical URL for messages, no credential
	bucket *blob.Bucket // under the prefix
	// dir is the store's directory for file:// URLs, "" otherwise. Writes
	// that must not replace an existing object go through the file system
	// directly there (see createFile): fileblob's IfNotExist is a stat
	// followed by a rename, which two processes can both pass.
	dir string
	// wholeUpload makes create hand the reader to the driver in one
	// Upload call instead of writing into it: gocloud v0.47.0's azureblob
	// writer panics (a nil io.PipeReader) in Close after a Write whose
	// upload failed, which every create of an existing object is.
	wholeUpload bool

	// made, durable, linked, synced and noUnnamed serve a file:// store's
	// writes (createFile): the directories known to exist, the shared
	// flushes of its file system, how many objects were linked, how many
	// of those a flush has made durable, and whether its file system makes
	// no unnamed files.
	made      madeDirs
	durable   *groupSync
	linked    atomic.Uint64
	synced    atomic.Uint64
	noUnnamed atomic.Bool
	procOnce  sync.Once
	// noEmptyPath says that linkat(2) with AT_EMPTY_PATH failed where
	// the /proc way worked: an older kernel (linkAt).
	noEmptyPath atomic.Bool
	// emptyPathLink replaces linkat(2) with AT_EMPTY_PATH in tests.
	emptyPathLink func(fd int, path string) error

	dirFile *os.File // the store's directory, open for durable's flushes
	// batch says that the store's uploads share flushes (durable): its
	// file system is a local one whose syncfs(2) writes back every file
	// (fsflush.Covers). Elsewhere (NFS, CIFS, FUSE) each upload syncs its
	// file and its directory, which asks the server to flush them.
	batch bool
	// fsync replaces (*os.File).Sync in tests.
	fsync func(*os.File) error
}

// Open opens the store at rawURL and checks that it can be reached: the
// credentials resolve and the bucket exists. It is bounded by ctx, and by
// openCheckTimeout when ctx has no earlier deadline.
//
// URLs: s3://BUCKET/PREFIX?region=..&endpoint=..&use_path_style=true&disable_https=true,
// gs://BUCKET/PREFIX, azblob://CONTAINER/PREFIX, file:///DIR, mem:// (a
// fresh empty store in memory, for tests). The path after the bucket is
// the prefix under which every object lives. A URL carrying a credential
// (user information, a secret-looking query parameter) is refused with an
// *Error of kind BadURL.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	return open(ctx, rawURL, openConfig{})
}

// openConfig is what tests change about Open: nothing a URL, a
// configuration or the environment can reach.
type openConfig struct {
	// gcsEndpoint replaces https://storage.googleapis.com (an emulator).
	gcsEndpoint string
	// gcsChunk replaces gcsChunk, so that tests reach resumable uploads
	// with small objects.
	gcsChunk int
	// tokenTimeout replaces gcsTokenTimeout.
	tokenTimeout time.Duration
}

func open(ctx context.Context, rawURL string, cfg openConfig) (*Store, error) {
	loc, err := parseLocation(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{url: loc.String()}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openCheckTimeout)
		defer cancel()
	}
	b, err := s.openBucket(ctx, loc, cfg)
	if err != nil {
		return nil, err
	}
	if loc.prefix != "" {
		b = blob.PrefixedBucket(b, loc.prefix)
	}
	s.bucket = b
	if err := s.check(ctx); err != nil {
		b.Close()
		s.closeDir()
		return nil, err
	}
	return s, nil
}

// openBucket opens loc's bucket with its scheme's gocloud driver, called
// directly rather than through a URL mux that blank imports fill.
func (s *Store) openBucket(ctx context.Context, loc location, cfg openConfig) (*blob.Bucket, error) {
	switch loc.scheme {
	case "mem":
		return memblob.OpenBucket(nil), nil
	case "file":
		fi, err := os.Stat(loc.bucket)
		if err != nil || !fi.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			return nil, &Error{Kind: NoBucket, URL: s.url, Err: err}
		}
		s.dir = loc.bucket
		// The directory stays open for the store's life, before any
		// write, so that every flush is told of every write-back error
		// since (syncFS).
		d, err := os.Open(loc.bucket)
		if err != nil {
			return nil, &Error{Kind: kindOf(ctx, err), URL: s.url, Err: err}
		}
		s.dirFile = d
		s.batch = batchDurable && fsflush.Covers(int(d.Fd()))
		s.durable = newGroupSync(loc.bucket, func(string) error { return syncFS(d) })
		b, err := fileblob.OpenBucket(loc.bucket, &fileblob.Options{
			// No .attrs sidecar files: objects are named by their hash and
			// need no metadata. Temp files beside the object, not in
			// os.TempDir, so that the rename stays within one file system.
			Metadata:  fileblob.MetadataDontWrite,
			NoTempDir: true,
		})
		if err != nil {
			s.closeDir()
			return nil, &Error{Kind: kindOf(ctx, err), URL: s.url, Err: err}
		}
		return b, nil
	case "s3":
		b, err := openS3(ctx, loc)
		if err != nil {
			return nil, &Error{Kind: BadURL, URL: s.url, Err: err}
		}
		return b, nil
	}
	s.wholeUpload = loc.scheme == "azblob"
	return openCloudBucket(ctx, s.url, loc, cfg)
}

// openS3 opens an S3 bucket as s3blob's URL opener does (the same
// parameters, the SDK's standard credential chain), but with pixform's
// HTTP client, which follows no redirect.
func openS3(ctx context.Context, loc location) (*blob.Bucket, error) {
	q := url.Values{}
	var s3opts []func(*s3.Options)
	bopts := &s3blob.Options{}
	for k, vs := range loc.query {
		v := vs[0]
		switch k {
		case "use_path_style", "s3ForcePathStyle", "disable_https", "accelerate":
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%s=%q is not true or false", k, v)
			}
			s3opts = append(s3opts, func(o *s3.Options) {
				switch k {
				case "disable_https":
					o.EndpointOptions.DisableHTTPS = on
				case "accelerate":
					o.UseAccelerate = on
				default:
					o.UsePathStyle = on
				}
			})
		case "ssetype":
			switch t := s3types.ServerSideEncryption(v); t {
			case s3types.ServerSideEncryptionAes256, s3types.ServerSideEncryptionAwsKms, s3types.ServerSideEncryptionAwsKmsDsse:
				bopts.EncryptionType = t
			default:
				return nil, fmt.Errorf("ssetype=%q is not AES256, aws:kms or aws:kms:dsse", v)
			}
		case "kmskeyid":
			bopts.KMSEncryptionID = v
		default:
			q.Set(k, v)
		}
	}
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := quietS3(ctx, &cfg, q); err != nil {
		return nil, err
	}
	cfg.HTTPClient = httpClient()
	client := s3.NewFromConfig(cfg, s3opts...)
	bopts.RequestChecksumCalculation = cfg.RequestChecksumCalculation
	return s3blob.OpenBucket(ctx, client, loc.bucket, bopts)
}

// httpClient is the HTTP client of S3 and GCS stores: it follows no
// redirect (a server's answer never sends a signed request elsewhere),
// keeps enough idle connections for parallel transfers, and gives up on
// a server that accepts a request but never answers it.
func httpClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.ResponseHeaderTimeout = time.Minute
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// check makes one round trip: the credentials resolve and the bucket
// exists and answers. It tells "no credentials" and "bucket missing" apart
// from later object failures, which S3 cannot (a HEAD of a key in a missing
// bucket is a bare 404).
func (s *Store) check(ctx context.Context) error {
	var client *s3.Client
	if s.bucket.As(&client) {
		if creds := client.Options().Credentials; creds != nil && !aws.IsCredentialsProvider(creds, aws.AnonymousCredentials{}) {
			if _, err := creds.Retrieve(ctx); err != nil {
				k := kindOf(ctx, err)
				if ctx.Err() == nil && noRoleFound(err) {
					// The chain found none, the metadata service
					// last: whether it answered or not, the store
					// was not asked.
					return &Error{Kind: NoCredentials, URL: s.url, Err: noS3Credentials(err)}
				}
				if k == Other {
					k = NoCredentials
				}
				return &Error{Kind: k, URL: s.url, Err: err}
			}
		}
	}
	ok, err := s.bucket.IsAccessible(ctx)
	if err != nil {
		return s.classify(ctx, "", err)
	}
	if !ok {
		return &Error{Kind: NoBucket, URL: s.url, Err: errors.New("the bucket does not exist")}
	}
	return nil
}

// String is the store's URL for messages: canonical, never a credential.
func (s *Store) String() string { return s.url }

// Local reports whether the store is a directory of the file system
// (file://): its requests cost no network.
func (s *Store) Local() bool { return s.dir != "" }

// Instant reports whether the store is a directory of a local file
// system (file://, on a file system that is not a network or FUSE one):
// its requests are system calls that need no network and answer at once.
func (s *Store) Instant() bool { return s.dir != "" && s.batch }

// Close releases the store's connections.
func (s *Store) Close() error {
	s.closeDir()
	return s.bucket.Close()
}

// closeDir closes a file:// store's directory, which its flushes use,
// and the descriptors of its subdirectories.
func (s *Store) closeDir() {
	if s.dirFile != nil {
		s.dirFile.Close()
	}
	s.made.closeAll()
}

// ObjectKey is the key of the image bytes with that SHA-256, under the
// store's prefix: sha256/<first 2 hex>/<64 hex>.
func ObjectKey(sha256hex string) string {
	return "sha256/" + sha256hex[:2] + "/" + sha256hex
}

// validHex reports whether s is 64 lower-case hex digits.
func validHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *Store) badKey(what, v string) error {
	if len(v) > 80 {
		v = v[:80] + "..."
	}
	return &Error{Kind: BadKey, URL: s.url, Err: fmt.Errorf("%s %q is not 64 lower-case hex digits", what, v)}
}

// Has reports whether the store holds the object with that SHA-256. It does
// not read or verify the bytes.
func (s *Store) Has(ctx context.Context, sha256hex string) (bool, error) {
	if !validHex(sha256hex) {
		return false, s.badKey("sha256", sha256hex)
	}
	key := ObjectKey(sha256hex)
	if s.dir != "" {
		return s.hasFile(ctx, key)
	}
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, s.classify(ctx, key, err)
	}
	return ok, nil
}

// Put stores the bytes of r under sha256/<ab>/<sha256hex>, only if no
// object is there. It streams r (no full buffering), hashes it on the way,
// and aborts the write when the bytes do not hash to sha256hex (an *Error
// of kind Corrupt), so a wrong object is never published. When the object
// already exists, written by someone else at the same time or before,
// Put succeeds if its size matches: the name is the content's hash.
func (s *Store) Put(ctx context.Context, sha256hex string, r io.Reader) error {
	if !validHex(sha256hex) {
		return s.badKey("sha256", sha256hex)
	}
	key := ObjectKey(sha256hex)
	var n int64
	cr, verify := s.hashing(key, sha256hex, r, &n)
	err := s.create(ctx, key, "application/octet-stream", cr, verify)
	if !errors.Is(err, errExists) {
		return err
	}
	return s.existing(ctx, key, n)
}

// hashing returns r, counting into *n and hashing what is read, and the
// check that those bytes hash to sha256hex, the name of the object key:
// nothing may be written under it otherwise.
func (s *Store) hashing(key, sha256hex string, r io.Reader, n *int64) (*countingHash, func() error) {
	h := sha256.New()
	verify := func() error {
		if got := hex.EncodeToString(h.Sum(nil)); got != sha256hex {
			return &Error{Kind: Corrupt, URL: s.url, Object: key,
				Err: fmt.Errorf("the %d bytes given hash to %s, not to the object's name; nothing was written", *n, got)}
		}
		return nil
	}
	return &countingHash{r: r, h: h, n: n}, verify
}

// existing is Put's answer when the object key is already there: success
// if its size is n, the size of the content Put was given.
func (s *Store) existing(ctx context.Context, key string, n int64) error {
	attrs, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return s.classify(ctx, key, err)
	}
	if attrs.Size != n {
		return &Error{Kind: Corrupt, URL: s.url, Object: key,
			Err: fmt.Errorf("the object already exists with %d bytes, but its content has %d", attrs.Size, n)}
	}
	return nil
}

// PutWithInputs is Put of r as the object sha256hex, then PutInputs of
// rec under each of inputDigests, with the same guarantees: the object is
// named before any record that names it, each only if absent. In a
// file:// store whose writes share flushes, the object's bytes and the
// records' are made durable by one flush, not one each.
func (s *Store) PutWithInputs(ctx context.Context, sha256hex string, r io.Reader, inputDigests []string, rec Record) error {
	if s.dir == "" {
		if err := s.Put(ctx, sha256hex, r); err != nil {
			return err
		}
		for _, d := range inputDigests {
			if err := s.PutInputs(ctx, d, rec); err != nil {
				return err
			}
		}
		return nil
	}
	if !validHex(sha256hex) {
		return s.badKey("sha256", sha256hex)
	}
	for _, d := range inputDigests {
		if !validHex(d) {
			return s.badKey("input digest", d)
		}
	}
	var b []byte
	if len(inputDigests) > 0 {
		key := InputsKey(inputDigests[0])
		if err := rec.check(); err != nil {
			return &Error{Kind: BadKey, URL: s.url, Object: key, Err: fmt.Errorf("record: %w", err)}
		}
		var err error
		if b, err = json.Marshal(rec); err != nil {
			return &Error{Kind: Other, URL: s.url, Object: key, Err: err}
		}
	}
	key := ObjectKey(sha256hex)
	var n int64
	cr, verify := s.hashing(key, sha256hex, r, &n)
	obj, err := s.stageFile(ctx, key, cr, verify)
	if err != nil {
		return err
	}
	defer obj.discard()
	files := []*staged{obj}
	for _, d := range inputDigests {
		f, err := s.stageFile(ctx, InputsKey(d), bytes.NewReader(b), nil)
		if err != nil {
			return err
		}
		defer f.discard()
		files = append(files, f)
	}
	if err := s.settleStaged(ctx, files...); err != nil {
		return err
	}
	if err := s.publish(ctx, obj); errors.Is(err, errExists) {
		if err := s.existing(ctx, key, n); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	for _, f := range files[1:] {
		if err := s.publish(ctx, f); err != nil && !errors.Is(err, errExists) {
			return err
		}
	}
	return nil
}

// countingHash passes reads through to a hash and counts them.
type countingHash struct {
	r io.Reader
	h hash.Hash
	n *int64
}

func (c *countingHash) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	*c.n += int64(n)
	return n, err
}

// errExists is create's answer when the object already exists.
var errExists = errors.New("object exists")

// create writes r to key only if key does not exist, returning errExists
// if it does. verify runs after r is drained and before the object is
// published; its error aborts the write and is returned as is.
func (s *Store) create(ctx context.Context, key, contentType string, r io.Reader, verify func() error) error {
	if s.dir != "" {
		return s.createFile(ctx, key, r, verify)
	}
	if s.wholeUpload {
		return s.createUpload(ctx, key, contentType, r, verify)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{IfNotExist: true, ContentType: contentType})
	if err != nil {
		return s.classify(ctx, key, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		w.Close()
		if gcerrors.Code(err) == gcerrors.FailedPrecondition {
			return errExists
		}
		return s.classify(ctx, key, err)
	}
	if verify != nil {
		if err := verify(); err != nil {
			// Canceling the writer's context before Close aborts the write.
			cancel()
			w.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		if gcerrors.Code(err) == gcerrors.FailedPrecondition {
			return errExists
		}
		return s.classify(ctx, key, err)
	}
	return nil
}

// createUpload is create through the driver's Upload: the driver reads r
// itself, and verify runs when r ends, its error taking the place of
// io.EOF, so that the driver aborts the upload instead of publishing it.
func (s *Store) createUpload(ctx context.Context, key, contentType string, r io.Reader, verify func() error) error {
	vr := &verifyAtEOF{r: r, verify: verify}
	err := s.bucket.Upload(ctx, key, vr, &blob.WriterOptions{IfNotExist: true, ContentType: contentType})
	switch {
	case vr.err != nil:
		return vr.err
	case err == nil:
		return nil
	case gcerrors.Code(err) == gcerrors.FailedPrecondition:
		return errExists
	}
	return s.classify(ctx, key, err)
}

// verifyAtEOF reads r; at r's end it calls verify, whose error it returns
// instead of io.EOF (and keeps in err).
type verifyAtEOF struct {
	r      io.Reader
	verify func() error
	err    error
}

func (v *verifyAtEOF) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	if err == io.EOF && v.verify != nil {
		if verr := v.verify(); verr != nil {
			v.err = verr
			return n, verr
		}
	}
	return n, err
}

// createFile is create for a file:// store: the bytes go to a temporary
// file in the object's directory (unnamed where the file system makes
// them), which is made durable and then hard-linked to the object's name.
// link(2) fails if the name exists, atomically across processes and
// machines sharing the directory (also over NFS, where O_EXCL was
// historically not), and the object appears only whole.
//
// Where there is syncfs(2) and the store's file system is a local one
// (batchable), the file is made durable by a flush of the
// store's file system shared with every upload waiting for one at the
// time (groupSync), and the new name by the next such flush: Sync, which
// the caller runs before it counts the object as stored. Elsewhere the
// file and its directory are synced here, one upload at a time.
func (s *Store) createFile(ctx context.Context, key string, r io.Reader, verify func() error) error {
	f, err := s.stageFile(ctx, key, r, verify)
	if err != nil {
		return err
	}
	defer f.discard()
	if err := s.settleStaged(ctx, f); err != nil {
		return err
	}
	return s.publish(ctx, f)
}

// createOne is create of a small object written on its own, not among
// uploads (a lock). In a file:// store whose writes share flushes of the
// file system, its file is synced by itself before it is named, rather
// than by a flush of the whole file system, which costs as much as
// everything dirty on it (another process's writes included) and would
// make a command wait for it before its first step. The name becomes
// durable at the next shared flush (Sync), as an upload's does: a crash
// before it loses the lock with its holder, never leaves a lock object
// that does not parse.
func (s *Store) createOne(ctx context.Context, key, contentType string, r io.Reader) error {
	if s.dir == "" || !s.batch {
		return s.create(ctx, key, contentType, r, nil)
	}
	f, err := s.stageFile(ctx, key, r, nil)
	if err != nil {
		return err
	}
	defer f.discard()
	if err := s.syncStaged(f); err != nil {
		return s.classify(ctx, key, err)
	}
	return s.publish(ctx, f)
}

// link gives f's temporary file the object's name.
func (s *Store) link(f *staged) error {
	switch {
	case f.fd >= 0:
		err := s.linkAt(f)
		if errors.Is(err, os.ErrNotExist) {
			// The directory was moved away or removed since its
			// descriptor was opened (the file was made there): make it
			// again at its path, with a descriptor opened anew next
			// time, and name the file there.
			dir := filepath.Dir(f.path)
			s.made.forget(dir)
			if err := s.made.ensure(dir); err != nil {
				return err
			}
			err = s.linkAt(f)
		}
		return err
	case f.unnamed:
		return unnamed.Link(f.tmp, f.path, false)
	}
	return os.Link(f.tmp.Name(), f.path)
}

// clearDir handles a name that f.link found taken. A directory there is
// no object (reads find none, as hasFile and openFile have it), so an
// empty one is removed and the link made again, instead of the object
// or record being counted as stored for good while no read can find it;
// a directory that holds anything is left to the user, as an error of
// kind Corrupt. Anything else there is returned as os.ErrExist.
func (s *Store) clearDir(ctx context.Context, f *staged) error {
	fi, err := os.Lstat(f.path)
	if err != nil || !fi.IsDir() {
		return os.ErrExist
	}
	if err := removeEmptyDir(f.path); err != nil {
		switch err {
		case os.ErrNotExist:
			return s.link(f)
		case os.ErrExist: // a file, not ENOTEMPTY
			return os.ErrExist
		}
		return &Error{Kind: Corrupt, URL: s.url, Object: f.key, Err: fmt.Errorf("a directory stands under its name, and could not be removed (%v): remove %s, then run the command again", err, f.path)}
	}
	return s.link(f)
}

// removeEmptyDir removes the empty directory at name with rmdir, never
// unlink: another process may have removed the directory and linked its
// own object or lock there since the caller looked, and that file must
// stay. A file there now is os.ErrExist, nothing there os.ErrNotExist,
// exactly; a directory with entries is rmdir's own error.
func removeEmptyDir(name string) error {
	err := syscall.Rmdir(name)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist):
		return os.ErrNotExist
	case errors.Is(err, errNotDir):
		return os.ErrExist
	}
	return err
}

// staged is an object of a file:// store written to a temporary file in
// its directory, not yet made durable nor named: createFile's first step.
type staged struct {
	key, path string
	// fd is the unnamed file made relative to its directory's
	// descriptor (stageUnnamedAt), -1 when tmp is the file instead: a
	// named temporary file, or an unnamed one made by path.
	fd      int
	tmp     *os.File
	unnamed bool
}

// discard closes f's temporary file, and removes it if it has a name:
// once published, the object's own name keeps its bytes.
func (f *staged) discard() {
	if f.fd >= 0 {
		closeFD(f.fd)
		return
	}
	if !f.unnamed {
		os.Remove(f.tmp.Name())
	}
	f.tmp.Close()
}

// Write writes p to f's temporary file.
func (f *staged) Write(p []byte) (int, error) {
	if f.fd >= 0 {
		return writeFD(f.fd, p)
	}
	return f.tmp.Write(p)
}

// syncStaged syncs f's temporary file by itself.
func (s *Store) syncStaged(f *staged) error {
	if f.fd < 0 {
		return s.syncFile(f.tmp)
	}
	if s.fsync != nil {
		// The test's sync takes a file: one of f's own descriptor, which
		// f keeps (and discard closes) from then on.
		f.tmp = os.NewFile(uintptr(f.fd), filepath.Join(filepath.Dir(f.path), ".tmp-unnamed"))
		f.fd = -1
		return s.syncFile(f.tmp)
	}
	return syncFD(f.fd)
}

// newStaged makes the temporary file of key, the file p in the
// directory dir: an unnamed file made relative to dir's descriptor where
// that can be, else by path (createTemp).
func (s *Store) newStaged(key, p, dir string) (*staged, error) {
	s.checkProc()
	if f, ok, err := s.stageUnnamedAt(key, p, dir); ok {
		return f, err
	}
	tmp, isUnnamed, err := s.createTemp(dir)
	if err != nil {
		return nil, err
	}
	return &staged{key: key, path: p, fd: -1, tmp: tmp, unnamed: isUnnamed}, nil
}

// stageFile writes r to a temporary file in key's directory (unnamed
// where the file system makes them) and runs verify once r is drained.
// On an error nothing is left behind.
func (s *Store) stageFile(ctx context.Context, key string, r io.Reader, verify func() error) (*staged, error) {
	p := s.filePath(key)
	dir := filepath.Dir(p)
	fail := func(err error) error { return s.classify(ctx, key, err) }
	if err := s.made.ensure(dir); err != nil {
		return nil, fail(err)
	}
	f, err := s.newStaged(key, p, dir)
	if errors.Is(err, os.ErrNotExist) {
		// The directory was removed since: make it again.
		s.made.forget(dir)
		if err := s.made.ensure(dir); err != nil {
			return nil, fail(err)
		}
		f, err = s.newStaged(key, p, dir)
	}
	if err != nil {
		return nil, fail(err)
	}
	buf := copyBufs.Get().(*[]byte)
	_, err = io.CopyBuffer(struct{ io.Writer }{f}, ctxReader{ctx, r}, *buf)
	copyBufs.Put(buf)
	if err != nil {
		f.discard()
		return nil, fail(err)
	}
	if verify != nil {
		if err := verify(); err != nil {
			f.discard()
			return nil, err
		}
	}
	return f, nil
}

// settleStaged makes the bytes of the staged files durable: one flush of
// the store's file system shared with every upload waiting for one
// (batch), else a sync of each file.
func (s *Store) settleStaged(ctx context.Context, fs ...*staged) error {
	if s.batch {
		if err := s.durable.wait(); err != nil {
			return s.classify(ctx, fs[0].key, err)
		}
		return nil
	}
	for _, f := range fs {
		if err := s.syncStaged(f); err != nil {
			return s.classify(ctx, f.key, err)
		}
	}
	return nil
}

// publish gives the staged file, made durable, its object's name, only
// if that name is free (errExists otherwise). Where writes share flushes
// (batch), the name becomes durable at the next one (Sync); elsewhere
// its directory is synced here.
func (s *Store) publish(ctx context.Context, f *staged) error {
	err := s.link(f)
	if errors.Is(err, os.ErrExist) {
		err = s.clearDir(ctx, f)
	}
	if err != nil && !errors.Is(err, os.ErrExist) {
		var e *Error
		if errors.As(err, &e) {
			return err
		}
		return s.classify(ctx, f.key, err)
	}
	// An existing name: another process may have linked the object and
	// not yet flushed it; the caller counts it as stored after Sync,
	// which must flush then.
	if s.batch {
		s.linked.Add(1)
	} else if derr := s.syncDir(filepath.Dir(f.path)); derr != nil {
		return s.classify(ctx, f.key, derr)
	}
	if err != nil {
		return errExists
	}
	return nil
}

// syncDir makes the names in dir durable. A file system that does not
// flush directories (EINVAL, ENOTSUP) has nothing more to do; any other
// failure means the name may not survive a crash, and is an error. On
// Windows, which cannot flush a directory, it does nothing (dirsSync).
func (s *Store) syncDir(dir string) error {
	if !dirsSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := s.syncFile(d); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

// syncFile is f.Sync(), or the test's.
func (s *Store) syncFile(f *os.File) error {
	if s.fsync != nil {
		return s.fsync(f)
	}
	return f.Sync()
}

// createTemp makes the file createFile writes an object into, in dir: an
// unnamed one where the file system makes them (isUnnamed true), else a
// named temporary file.
func (s *Store) createTemp(dir string) (f *os.File, isUnnamed bool, err error) {
	s.checkProc()
	if !s.noUnnamed.Load() {
		// Mode 0644 less the umask, so that the team sharing the store can
		// read the object; no one can open it before it is named.
		f, err := unnamed.Create(dir, 0o644, filepath.Join(dir, ".tmp-unnamed"))
		if err == nil {
			return f, true, nil
		}
		if !errors.Is(err, unnamed.ErrUnsupported) {
			return nil, false, err
		}
		s.noUnnamed.Store(true)
	}
	f, err = os.CreateTemp(dir, ".tmp-*")
	if err == nil {
		// Readable by the team, as an unnamed file is made (the umask
		// still narrows it): a shared store is read under other users.
		if err = f.Chmod(0o644 &^ processUmask()); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, false, err
		}
	}
	return f, false, err
}

// checkProc makes no unnamed files where there is no /proc: an unnamed
// file is named through /proc/self/fd where linkat(2) takes no
// AT_EMPTY_PATH, and without /proc (a chroot, a bare container) it
// could not be named.
func (s *Store) checkProc() {
	s.procOnce.Do(func() {
		if _, err := os.Stat("/proc/self/fd"); err != nil {
			s.noUnnamed.Store(true)
		}
	})
}

// processUmask is the process's umask, 022 where it cannot be read.
func processUmask() os.FileMode {
	if m, ok := umask.Get(); ok {
		return m
	}
	return 0o022
}

// copyBufs are the buffers of createFile's copies.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// Sync makes every object this Store has written durable, when that was
// left to it (an object whose Put found its name already there counts as
// written: another process may not have flushed it yet): the names of a
// file:// store's new objects, where their
// writes share flushes of the file system (Put and PutInputs return once
// the object is whole under its name, and other processes see it).
// Elsewhere it does nothing: a cloud store's write is durable when it
// returns. A caller that counts an object as stored, or reports that it
// is, calls Sync first.
func (s *Store) Sync(ctx context.Context) error {
	if s.dir == "" || !s.batch {
		return nil
	}
	n := s.linked.Load()
	if s.synced.Load() >= n {
		return nil
	}
	if err := s.durable.wait(); err != nil {
		return s.classify(ctx, "", err)
	}
	s.markSynced(n)
	return nil
}

// Flush makes every object in a file:// store durable, whoever wrote it:
// one flush of its file system, shared with the uploads waiting for one.
// Has may find the name of an object that another process (a working
// copy sharing the store) linked and has not flushed yet; a caller that
// counts such an object as stored calls Flush first. Elsewhere (a cloud
// store, or a file system where each upload syncs itself) it does
// nothing.
func (s *Store) Flush(ctx context.Context) error {
	if s.dir == "" || !s.batch {
		return nil
	}
	n := s.linked.Load()
	if err := s.durable.wait(); err != nil {
		return s.classify(ctx, "", err)
	}
	s.markSynced(n)
	return nil
}

// markSynced notes that a flush made the first n objects linked durable.
func (s *Store) markSynced(n uint64) {
	for {
		old := s.synced.Load()
		if old >= n || s.synced.CompareAndSwap(old, n) {
			return
		}
	}
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get copies the object with that SHA-256 to w, at most maxBytes of it,
// hashing while it streams. An object larger than maxBytes (kind TooLarge)
// or whose bytes do not hash to its name (kind Corrupt) is an error, as is
// any read failure. On any error, w has received bytes that must be
// discarded: callers write to a temp file and rename it into place only
// when Get returns nil. A missing object is an *Error of kind NotFound.
func (s *Store) Get(ctx context.Context, sha256hex string, w io.Writer, maxBytes int64) error {
	if !validHex(sha256hex) {
		return s.badKey("sha256", sha256hex)
	}
	key := ObjectKey(sha256hex)
	r, err := s.newReader(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	if r.Size() > maxBytes {
		return &Error{Kind: TooLarge, URL: s.url, Object: key, Err: fmt.Errorf("the object has %d bytes, more than the %d allowed", r.Size(), maxBytes)}
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(ctxReader{ctx, r}, maxBytes+1))
	if err != nil {
		return s.classify(ctx, key, err)
	}
	if n > maxBytes {
		return &Error{Kind: TooLarge, URL: s.url, Object: key, Err: fmt.Errorf("the object has more than the %d bytes allowed", maxBytes)}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha256hex {
		return &Error{Kind: Corrupt, URL: s.url, Object: key, Err: fmt.Errorf("its %d bytes hash to %s, not to its name", n, got)}
	}
	return nil
}

// Record says which object a render of some inputs produced: the bytes'
// SHA-256 (the object's name), the provider that rendered them, and what
// the lockfile records about them.
type Record struct {
	SHA256    string `json:"sha256"`
	Provider  string `json:"provider"`
	MediaType string `json:"media_type"`
	Bytes     int64  `json:"bytes"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

// check says what is wrong with a record, or nil.
func (r Record) check() error {
	switch {
	case !validHex(r.SHA256):
		return errors.New("sha256 is not 64 lower-case hex digits")
	case r.Bytes < 0 || r.Width < 0 || r.Height < 0:
		return errors.New("a size is negative")
	case len(r.Provider) > 256 || len(r.MediaType) > 256:
		return errors.New("a field is too long")
	}
	return nil
}

// InputsKey is the key of the record for an input digest: inputs/<digest>.
func InputsKey(inputDigest string) string { return "inputs/" + inputDigest }

// PutInputs records under inputs/<inputDigest> which object a render of
// those inputs produced, only if no record is there: a record someone else
// wrote first names an equally valid render, so that is success. Put the
// object first; the record is a promise that it is in the store.
func (s *Store) PutInputs(ctx context.Context, inputDigest string, rec Record) error {
	if !validHex(inputDigest) {
		return s.badKey("input digest", inputDigest)
	}
	key := InputsKey(inputDigest)
	if err := rec.check(); err != nil {
		return &Error{Kind: BadKey, URL: s.url, Object: key, Err: fmt.Errorf("record: %w", err)}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return &Error{Kind: Other, URL: s.url, Object: key, Err: err}
	}
	err = s.create(ctx, key, "application/json", bytes.NewReader(b), nil)
	if errors.Is(err, errExists) {
		return nil
	}
	return err
}

// GetInputs reads the record under inputs/<inputDigest>; false when there
// is none. A record that does not parse or names no valid object is an
// *Error of kind Corrupt.
func (s *Store) GetInputs(ctx context.Context, inputDigest string) (Record, bool, error) {
	if !validHex(inputDigest) {
		return Record{}, false, s.badKey("input digest", inputDigest)
	}
	key := InputsKey(inputDigest)
	b, err := s.readSmall(ctx, key)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == NotFound {
			return Record{}, false, nil
		}
		return Record{}, false, err
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, false, &Error{Kind: Corrupt, URL: s.url, Object: key, Err: fmt.Errorf("the record does not parse: %w", err)}
	}
	if err := rec.check(); err != nil {
		return Record{}, false, &Error{Kind: Corrupt, URL: s.url, Object: key, Err: fmt.Errorf("the record is invalid: %w", err)}
	}
	return rec, true, nil
}

// readSmall reads a whole small object, at most maxRecordBytes.
func (s *Store) readSmall(ctx context.Context, key string) ([]byte, error) {
	r, err := s.newReader(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxRecordBytes+1))
	if err != nil {
		return nil, s.classify(ctx, key, err)
	}
	if len(b) > maxRecordBytes {
		return nil, &Error{Kind: TooLarge, URL: s.url, Object: key, Err: fmt.Errorf("more than %d bytes", maxRecordBytes)}
	}
	return b, nil
}
