package limiter

import (
	"testing"
	"time"
)

// The history at a rate 429 of a simulated token bucket of 10/s with a
// burst of 5 (lat 900 ms, 20 ms transit jitter, seed 5): four starts at
// 3.916124 s, which reached the server in another order than their
// sequence (the second took the last token). Every answer is what the
// 10/s bucket gave, yet the replay fits only a burst of 2 at 13.64-13.83/s,
// narrow: the limiter paces 36% above the server's rate.
func TestBucketFitStartsReordered(t *testing.T) {
	starts := []struct {
		at float64
		ok bool
	}{{0.000000, true}, {0.000000, true}, {0.922302, true}, {1.229736, true}, {1.460311, true}, {1.690886, true}, {1.921462, true}, {2.104408, true}, {2.287355, true}, {2.439810, true}, {2.570486, true}, {2.701162, true}, {2.814933, true}, {2.928705, true}, {3.029835, true}, {3.120852, true}, {3.211869, true}, {3.294612, true}, {3.377355, true}, {3.453203, true}, {3.529050, true}, {3.599064, true}, {3.669077, true}, {3.734089, true}, {3.794767, true}, {3.855445, true}, {3.916124, false}, {3.916124, true}, {3.916124, false}, {3.916124, false}, {3.942501, true}, {4.059565, true}, {4.133779, false}}
	l := New(16, SystemClock{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.firstStart = t0
	for _, s := range starts {
		l.seq++
		at := t0.Add(time.Duration(s.at * float64(time.Second)))
		e := event{seq: l.seq, at: at, fate: succeeded, lat: 900 * time.Millisecond, sent: at}
		if !s.ok {
			e.fate, e.lat = throttled, 26377857*time.Nanosecond
		}
		l.history.push(e)
	}
	upTo := t0.Add(4133779 * time.Microsecond)
	fits, ok := l.bucketFitsLocked(upTo, upTo)
	lo, hi, narrow := narrowFit(fits)
	if ok && narrow && lo > 10 {
		t.Errorf("bucketFitsLocked = %+v: narrow fit %.2f-%.2f/s, above the server's 10/s", fits, lo, hi)
	}
}

// TestReplayRefusalAfterRefusal: two accepted starts reach a bucket of
// burst 2 at 10/s up to 50 ms late and empty it; the refused starts at
// 120 and 140 ms find 0.7 and 0.9 tokens. The second refusal's allowance
// counts from the last accepted start, not from the refusal before it,
// so the true bucket is not ruled out.
func TestReplayRefusalAfterRefusal(t *testing.T) {
	rs := []replayStart{{0, true}, {0, true}, {0.12, false}, {0.14, false}}
	if _, refusalsOK := replayBucket(rs, 2, 10, 0.05); !refusalsOK {
		t.Errorf("the refusals rule out the bucket of burst 2 at 10/s that gives them")
	}
	if rmin, rmax := bucketBounds(rs, 2, 0.05); rmin > 10 || rmax < 10 {
		t.Errorf("bucketBounds = %.3f-%.3f, want a range holding 10/s", rmin, rmax)
	}
}
