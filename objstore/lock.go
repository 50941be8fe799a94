package objstore

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/pixform/pixform/internal/safepath"
)

// LockInfo is what a lock object holds: who holds it (Holder, a user
// name), where (Host, PID), doing what (Operation: "apply", "push"), since
// when, under which ID (what force-unlock takes).
type LockInfo struct {
	ID        string    `json:"id"`
	Holder    string    `json:"holder"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Operation string    `json:"operation"`
	Created   time.Time `json:"created"`
	// PIDSpace names the process IDs PID is one of (on Linux the boot
	// and the PID namespace; see pidSpace): a holder on this host is
	// known dead only when it is this process's too. Lock fills it in for
	// an info of this process.
	PIDSpace string `json:"pid_space,omitempty"`
	// StartTicks is when the process PID started, in clock ticks since
	// the boot PIDSpace names (/proc/PID/stat field 22 on Linux), 0 when
	// not known (older pixform, or not Linux). Lock fills it in for an
	// info of this process.
	StartTicks uint64 `json:"start_ticks,omitempty"`
}

// holderEnded says why the pixform that holds a lock is known to have
// ended (killed, crashed), or "" when it is not known: it ran on this
// host, in this process's PID space, and its process is gone or its ID
// now belongs to a process started at another tick since boot than the
// holder's (see processEnded). A holder on another machine, or in
// another container, is never known dead.
func holderEnded(h LockInfo) string {
	if h.PID <= 0 || h.Host == "" || h.PIDSpace == "" {
		return ""
	}
	if host, err := os.Hostname(); err != nil || host != h.Host || pidSpace() != h.PIDSpace {
		return ""
	}
	if h.PID == os.Getpid() {
		return ""
	}
	return processEnded(h.PID, h.StartTicks)
}

// describe is the holder in a few words, for messages.
func (i LockInfo) describe() string {
	v := safepath.Visible // the lock object is anyone's with write access to the store
	return fmt.Sprintf("ID %s (%s on %s, pid %d, %s, since %s)", v(i.ID), v(i.Holder), v(i.Host), i.PID, v(i.Operation), i.Created.UTC().Format(time.RFC3339))
}

// Lock is a lock object this process created.
type Lock struct {
	s    *Store
	key  string // locks/<key>
	info LockInfo
}

// Info is what the lock object holds.
func (l *Lock) Info() LockInfo { return l.info }

// LockKey is the object key of the lock named key: locks/<key>.
func LockKey(key string) string { return "locks/" + key }

// validLockKey reports whether key is usable as a lock name: 1 to 200
// characters of [A-Za-z0-9._-], not starting with '.'.
func validLockKey(key string) bool {
	if key == "" || len(key) > 200 || key[0] == '.' {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Polling of a held lock: the first retry after lockPollMin, then up to
// lockPollMax apart, with jitter so that waiters do not retry in step.
const (
	lockPollMin = 100 * time.Millisecond
	lockPollMax = 2 * time.Second
)

// Lock creates the lock object locks/<key> holding info, only if it does
// not exist (S3 If-None-Match: *, GCS DoesNotExist, a hard link for
// file://). While someone else holds it, Lock retries until timeout has
// passed (0: once) and then returns a *LockedError naming the holder; ctx
// ends the wait early. An empty info.ID gets a random one, a zero
// info.Created the current time.
func (s *Store) Lock(ctx context.Context, key string, info LockInfo, timeout time.Duration) (*Lock, error) {
	if !validLockKey(key) {
		return nil, &Error{Kind: BadKey, URL: s.url, Err: fmt.Errorf("lock name %q is not 1 to 200 of [A-Za-z0-9._-]", key)}
	}
	if info.ID == "" {
		info.ID = newLockID()
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC().Truncate(time.Second)
	}
	if info.PID == os.Getpid() && info.PIDSpace == "" {
		info.PIDSpace = pidSpace()
	}
	if info.PID == os.Getpid() && info.StartTicks == 0 {
		info.StartTicks, _ = processStartTicks(info.PID)
	}
	body, err := json.Marshal(info)
	if err != nil {
		return nil, &Error{Kind: Other, URL: s.url, Err: err}
	}
	object := LockKey(key)
	start := time.Now()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	poll := lockPollMin
	// holder is the holder last read, once known: a wait that ctx ends,
	// between two looks or during one, names it.
	var holder *LockInfo
	waitEnded := func() error {
		return &Error{Kind: kindOf(ctx, ctx.Err()), URL: s.url, Object: object, Err: fmt.Errorf("waiting for the lock held by %s: %w", holder.describe(), ctx.Err())}
	}
	folderRaces := 0
	for {
		err := s.createOne(ctx, object, "application/json", bytes.NewReader(body))
		if err == nil {
			return &Lock{s: s, key: object, info: info}, nil
		}
		if createRaced(err) && folderRaces < maxFolderRaces {
			// A release or another create raced ours: try again once
			// the operation it met has had a moment to end.
			folderRaces++
			t := time.NewTimer(rand.N(lockPollMin / 4))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, &Error{Kind: kindOf(ctx, ctx.Err()), URL: s.url, Object: object, Err: fmt.Errorf("taking the lock: %w", ctx.Err())}
			case <-t.C:
			}
			continue
		}
		if !errors.Is(err, errExists) {
			if holder != nil && ctx.Err() != nil {
				return nil, waitEnded()
			}
			return nil, err
		}
		h, _, err := s.readLock(ctx, object)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Kind == NotFound {
				continue // released between our create and our read: try again now
			}
			if holder != nil && ctx.Err() != nil {
				return nil, waitEnded()
			}
			return nil, err
		}
		holder = &h
		folderRaces = 0 // the bound is of races in a row
		if timeout <= 0 {
			return nil, &LockedError{URL: s.url, Object: object, Info: h, Ended: holderEnded(h)}
		}
		// A holder known dead never lets go: waiting out the timeout
		// would only delay the same answer. Its lock is not removed
		// here, as force-unlock removes it: that is the user's call.
		if why := holderEnded(h); why != "" {
			return nil, &LockedError{URL: s.url, Object: object, Info: h, Ended: why}
		}
		t := time.NewTimer(poll/2 + rand.N(poll/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, waitEnded()
		case <-deadline:
			t.Stop()
			return nil, &LockedError{URL: s.url, Object: object, Info: h, Waited: time.Since(start)}
		case <-t.C:
		}
		if poll = poll * 2; poll > lockPollMax {
			poll = lockPollMax
		}
	}
}

// maxFolderRaces bounds how many times in a row Lock tries a create again
// that createRaced explains: a key that is a folder for good (objects
// under locks/KEY/) fails all the same.
const maxFolderRaces = 5

// createRaced reports whether err is a conditional create's refusal that
// a concurrent operation on the key explains, which the same create
// again resolves: the 409 "ExistingObjectIsDirectory" that the posix
// backend of VersityGW answers a create whose folder it removed
// meanwhile, having deleted the folder's last object (another lock's
// release: it made the folder, then found it gone when it named the
// object), and Amazon S3's 409 "ConditionalRequestConflict", a create
// that raced a DELETE of the key or another conditional create, which
// AWS says to retry. The create again is as conditional: a lock taken
// meanwhile still refuses it.
func createRaced(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ExistingObjectIsDirectory", "ConditionalRequestConflict":
		return true
	}
	return false
}

// newLockID is a random version-4 UUID, the form Terraform's lock IDs have.
func newLockID() string {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic(err) // crypto/rand.Read does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// version identifies one write of an object, for a conditional delete:
// its ETag (S3, Azure) and, on GCS, its generation. Zero where the driver
// gives neither.
type version struct {
	etag       string
	generation int64
}

// readLock reads a lock object and its version. The version is read
// first: if the object is replaced between the two reads, the content is
// the newer one and a delete conditional on the older version fails.
func (s *Store) readLock(ctx context.Context, object string) (LockInfo, version, error) {
	var ver version
	if s.dir == "" {
		attrs, err := s.bucket.Attributes(ctx, object)
		if err != nil {
			return LockInfo{}, ver, s.classify(ctx, object, err)
		}
		ver.etag = attrs.ETag
		var g gcsGeneration
		if attrs.As(&g) {
			ver.generation = int64(g)
		}
	}
	b, err := s.readSmall(ctx, object)
	if err != nil {
		return LockInfo{}, ver, err
	}
	var info LockInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return LockInfo{}, ver, &Error{Kind: Corrupt, URL: s.url, Object: object, Err: fmt.Errorf("the lock object does not parse: %w", err)}
	}
	return info, ver, nil
}

// Unlock deletes the lock object if it is still the one this Lock created
// (same ID). Where the driver takes a precondition (S3 If-Match on the
// ETag, GCS generation, Azure If-Match), the delete is conditional on the
// object read; for file:// it is read, compared, then removed, which leaves
// a window in which a force-unlock and a new lock by someone else could
// both happen unnoticed. A lock object that is gone or holds another ID is
// an *Error of kind LockLost.
func (l *Lock) Unlock(ctx context.Context) error {
	s := l.s
	holder, ver, err := s.readLock(ctx, l.key)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == NotFound {
			return &Error{Kind: LockLost, URL: s.url, Object: l.key, Err: fmt.Errorf("our lock %s was removed by someone else", l.info.ID)}
		}
		return err
	}
	if holder.ID != l.info.ID {
		return &Error{Kind: LockLost, URL: s.url, Object: l.key, Err: fmt.Errorf("our lock %s was replaced by %s", l.info.ID, holder.describe())}
	}
	if err := s.deleteIfMatch(ctx, l.key, ver); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == NotFound {
			return &Error{Kind: LockLost, URL: s.url, Object: l.key, Err: fmt.Errorf("our lock %s was removed by someone else", l.info.ID)}
		}
		return err
	}
	return nil
}

// ForceUnlock removes the lock object locks/<key> if it holds id, and
// returns what it held. When it holds another ID, nothing is removed, and
// the holder comes back with an *Error of kind LockMismatch; when there is
// no lock, an *Error of kind NotFound.
func (s *Store) ForceUnlock(ctx context.Context, key, id string) (LockInfo, error) {
	if !validLockKey(key) {
		return LockInfo{}, &Error{Kind: BadKey, URL: s.url, Err: fmt.Errorf("lock name %q is not 1 to 200 of [A-Za-z0-9._-]", key)}
	}
	object := LockKey(key)
	holder, ver, err := s.readLock(ctx, object)
	if err != nil {
		return LockInfo{}, err
	}
	if holder.ID != id {
		return holder, &Error{Kind: LockMismatch, URL: s.url, Object: object, Err: fmt.Errorf("the lock is held by %s, not by ID %q; nothing was removed", holder.describe(), id)}
	}
	if err := s.deleteIfMatch(ctx, object, ver); err != nil {
		return holder, err
	}
	return holder, nil
}

// deleteIfMatch deletes key if it is still at version ver, where the
// driver can say so; a changed object is an *Error of kind LockLost.
func (s *Store) deleteIfMatch(ctx context.Context, key string, ver version) error {
	if s.dir != "" {
		if err := os.Remove(filepath.Join(s.dir, filepath.FromSlash(key))); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return &Error{Kind: NotFound, URL: s.url, Object: key, Err: err}
			}
			return s.classify(ctx, key, err)
		}
		return nil
	}
	opts := &blob.DeleteOptions{BeforeDelete: func(as func(any) bool) error {
		if ver.etag == "" && ver.generation == 0 {
			return nil
		}
		var in *s3.DeleteObjectInput
		if as(&in) {
			in.IfMatch = &ver.etag
			return nil
		}
		return conditionOther(as, ver.etag, ver.generation)
	}}
	err := s.bucket.DeleteWithOptions(ctx, key, opts)
	if err == nil {
		return nil
	}
	if gcerrors.Code(err) == gcerrors.FailedPrecondition {
		return &Error{Kind: LockLost, URL: s.url, Object: key, Err: fmt.Errorf("the lock object changed while it was being removed; nothing was removed")}
	}
	return s.classify(ctx, key, err)
}
