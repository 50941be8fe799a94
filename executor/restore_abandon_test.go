package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// cutDownload is an image store's download (storesync.Cache) that the
// second Ctrl-C cuts off: its bytes stop once the run's ctx is
// cancelled, with the store client's error, which wraps ctx.Err() and
// not its cause.
type cutDownload struct {
	opened chan struct{}
	cut    chan struct{}
}

func (d *cutDownload) Has(string, string) bool { return true }

func (d *cutDownload) Open(string, string) (io.ReadCloser, error) {
	close(d.opened)
	return io.NopCloser(d), nil
}

func (d *cutDownload) Read([]byte) (int, error) {
	<-d.cut
	return 0, fmt.Errorf("get sha256/ab/cd from s3://bucket: %w", context.Canceled)
}

func (d *cutDownload) CopyTo(string, string, io.Writer) error {
	close(d.opened)
	<-d.cut
	return fmt.Errorf("get sha256/ab/cd from s3://bucket: %w", context.Canceled)
}

// Session 16: a restore from the image store cut off by the second
// Ctrl-C is abandoned in flight, as a request is, not failed.
func TestApplyStoreRestoreAbandoned(t *testing.T) {
	tests := map[string]struct {
		// putBack: the change only puts its recorded bytes back
		// (PutBack), else it is restored the common way.
		putBack bool
	}{
		"restore":  {},
		"put back": {putBack: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := create("hero", "hero.png", 1)
			if tt.putBack {
				p := e.had(t, "hero", "hero.png", 1)
				os.Remove(filepath.Join(e.dir, "hero.png"))
				c = withPrior(c, planner.Replace, p, "image.hero")
				c.StoreSHA256 = p.SHA256
			} else {
				c.StoreSHA256 = fmt.Sprintf("%064x", 1)
			}
			c.FromStore, c.Requests, c.Credits = true, 0, 0
			d := &cutDownload{opened: make(chan struct{}), cut: make(chan struct{})}
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			go func() {
				<-d.opened
				cancel(errors.New("second interrupt"))
				close(d.cut)
			}()
			var failed []string
			e.hooks.onFailed = func(c *planner.Change) { failed = append(failed, c.Addr.String()) }
			res, _ := e.apply(t, ctx, false, []planner.Change{c}, func(o *Options) {
				o.Cache = d
				o.Store = e.rec.store((state.Putter)(nil))
			})
			if res.Failed != 0 || res.Skipped != 1 || res.Abandoned != 1 || len(failed) != 0 {
				t.Errorf("counts %+v, abandoned %d, failed hooks %v; want 1 skipped, abandoned in flight", countsOf(res), res.Abandoned, failed)
			}
		})
	}
}
