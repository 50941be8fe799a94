package objstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLockHeldAndReleased(t *testing.T) {
	ctx := context.Background()
	for name, be := range backends() {
		t.Run(name, func(t *testing.T) {
			s, again := be.open(t)
			info := LockInfo{Holder: "ann", Host: "laptop", PID: 42, Operation: "apply"}
			l, err := s.Lock(ctx, "site", info, 0)
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			if l.Info().ID == "" || l.Info().Created.IsZero() {
				t.Fatalf("Lock did not fill ID and Created: %+v", l.Info())
			}
			other := again(t)
			_, err = other.Lock(ctx, "site", LockInfo{Holder: "bob"}, 0)
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("second Lock: %v, want *LockedError", err)
			}
			if le.Info.ID != l.Info().ID || le.Info.Holder != "ann" || le.Info.Host != "laptop" || le.Info.PID != 42 || le.Info.Operation != "apply" {
				t.Errorf("LockedError names %+v, want the holder %+v", le.Info, l.Info())
			}
			for _, want := range []string{l.Info().ID, "ann", "laptop", "pid 42", "apply", "locks/site", s.String()} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			// Another key is independent.
			l2, err := other.Lock(ctx, "other-dir", LockInfo{Holder: "bob"}, 0)
			if err != nil {
				t.Fatalf("Lock of another key: %v", err)
			}
			if err := l2.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
			if err := l.Unlock(ctx); err != nil {
				t.Fatalf("Unlock: %v", err)
			}
			l3, err := other.Lock(ctx, "site", LockInfo{Holder: "bob"}, 0)
			if err != nil {
				t.Fatalf("Lock after Unlock: %v", err)
			}
			// The first holder's Unlock again must not remove bob's lock.
			if err := l.Unlock(ctx); kind(err) != LockLost {
				t.Errorf("stale Unlock: %v, want kind LockLost", err)
			}
			if _, err := s.Lock(ctx, "site", LockInfo{}, 0); !errors.As(err, &le) || le.Info.Holder != "bob" {
				t.Errorf("bob's lock was removed by a stale Unlock: %v", err)
			}
			if err := l3.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLockWaits(t *testing.T) {
	ctx := context.Background()
	for name, be := range backends() {
		t.Run(name, func(t *testing.T) {
			s, again := be.open(t)
			l, err := s.Lock(ctx, "k", LockInfo{Holder: "ann"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			released := make(chan error, 1)
			got := make(chan error, 1)
			go func() {
				l2, err := again(t).Lock(ctx, "k", LockInfo{Holder: "bob"}, time.Minute)
				if err == nil {
					err = l2.Unlock(ctx)
				}
				got <- err
			}()
			// The waiter must still be waiting: it cannot have the lock
			// before ann releases it. Release, then it must get it.
			select {
			case err := <-got:
				t.Fatalf("the waiter finished while the lock was held: %v", err)
			case <-time.After(300 * time.Millisecond):
			}
			go func() { released <- l.Unlock(ctx) }()
			if err := <-released; err != nil {
				t.Fatal(err)
			}
			if err := <-got; err != nil {
				t.Fatalf("the waiter: %v", err)
			}
		})
	}
}

func TestLockTimeoutAndContext(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "mem://")
	if _, err := s.Lock(ctx, "k", LockInfo{Holder: "ann"}, 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.Lock(ctx, "k", LockInfo{Holder: "bob"}, 250*time.Millisecond)
	var le *LockedError
	if !errors.As(err, &le) || le.Waited < 250*time.Millisecond || !strings.Contains(err.Error(), "still after waiting") {
		t.Errorf("Lock with a timeout: %v, want *LockedError after waiting", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err = s.Lock(cctx, "k", LockInfo{Holder: "bob"}, time.Hour)
	if !errors.Is(err, context.Canceled) || kind(err) != Canceled || !strings.Contains(err.Error(), "ann") {
		t.Errorf("Lock with a canceled context: %v, want kind Canceled naming the holder", err)
	}
}

// TestLockExclusive races many Stores (separate processes as far as the
// store is concerned) for one lock: exactly one wins each round.
func TestLockExclusive(t *testing.T) {
	ctx := context.Background()
	for name, be := range backends() {
		if !be.shared {
			continue
		}
		t.Run(name, func(t *testing.T) {
			_, again := be.open(t)
			var stores []*Store
			for range 8 {
				stores = append(stores, again(t))
			}
			for round := range 5 {
				var wins atomic.Int32
				var wg sync.WaitGroup
				locks := make(chan *Lock, len(stores))
				for _, s := range stores {
					wg.Add(1)
					go func() {
						defer wg.Done()
						l, err := s.Lock(ctx, "race", LockInfo{Holder: "racer"}, 0)
						var le *LockedError
						switch {
						case err == nil:
							wins.Add(1)
							locks <- l
						case !errors.As(err, &le):
							t.Errorf("Lock: %v", err)
						}
					}()
				}
				wg.Wait()
				close(locks)
				if n := wins.Load(); n != 1 {
					t.Fatalf("round %d: %d stores took the lock, want exactly 1", round, n)
				}
				for l := range locks {
					if err := l.Unlock(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

func TestForceUnlock(t *testing.T) {
	ctx := context.Background()
	for name, be := range backends() {
		t.Run(name, func(t *testing.T) {
			s, again := be.open(t)
			if _, err := s.ForceUnlock(ctx, "k", "nobody"); kind(err) != NotFound {
				t.Errorf("ForceUnlock without a lock: %v, want kind NotFound", err)
			}
			l, err := s.Lock(ctx, "k", LockInfo{Holder: "ann", Host: "ci-7", PID: 9, Operation: "apply"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			other := again(t)
			info, err := other.ForceUnlock(ctx, "k", "not-the-id")
			if kind(err) != LockMismatch || info.ID != l.Info().ID || info.Holder != "ann" {
				t.Errorf("ForceUnlock with the wrong ID: %+v, %v; want the holder and kind LockMismatch", info, err)
			}
			if err != nil && !strings.Contains(err.Error(), l.Info().ID) {
				t.Errorf("error %q does not name the holder's ID", err)
			}
			if _, err := other.Lock(ctx, "k", LockInfo{}, 0); err == nil {
				t.Fatal("a mismatched ForceUnlock removed the lock")
			}
			info, err = other.ForceUnlock(ctx, "k", l.Info().ID)
			if err != nil || info.Host != "ci-7" || info.PID != 9 {
				t.Fatalf("ForceUnlock = %+v, %v", info, err)
			}
			if err := l.Unlock(ctx); kind(err) != LockLost {
				t.Errorf("Unlock after a force-unlock: %v, want kind LockLost", err)
			}
			l2, err := other.Lock(ctx, "k", LockInfo{Holder: "bob"}, 0)
			if err != nil {
				t.Fatalf("Lock after ForceUnlock: %v", err)
			}
			l2.Unlock(ctx)
		})
	}
}

func TestCorruptLockObject(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "mem://")
	if err := s.bucket.WriteAll(ctx, LockKey("k"), []byte("{not json"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(ctx, "k", LockInfo{}, 0); kind(err) != Corrupt {
		t.Errorf("Lock over a corrupt lock object: %v, want kind Corrupt", err)
	}
}

// TestLockBesideARelease: a lock taken while another lock of the same
// store is released (two working copies' applies ending and starting) is
// taken, whatever the server does with the locks/ folder meanwhile: the
// posix backend of VersityGW removes a folder that its last object left,
// and a create in that moment was answered 409 "Existing Object is a
// directory".
func TestLockBesideARelease(t *testing.T) {
	ctx := context.Background()
	for name, be := range backends() {
		if !be.shared {
			continue
		}
		t.Run(name, func(t *testing.T) {
			_, again := be.open(t)
			var wg sync.WaitGroup
			for _, key := range []string{"dir-a", "dir-b"} {
				s := again(t)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 50 {
						l, err := s.Lock(ctx, key, LockInfo{Holder: key}, 0)
						if err != nil {
							t.Errorf("Lock %s, round %d: %v", key, i, err)
							return
						}
						if err := l.Unlock(ctx); err != nil {
							t.Errorf("Unlock %s, round %d: %v", key, i, err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
