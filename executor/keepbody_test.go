package executor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pixform/pixform/planner"
)

// errUnwanted is the failure of an answer that arrived whole and that the
// provider does not want placed (watch: a newer save superseded it).
var errUnwanted = errors.New("not wanted")

// keepingProvider is a fakeProvider that keeps the answers it fails:
// what KeepBody was handed, read from the file the executor wrote them to.
type keepingProvider struct {
	*fakeProvider
	mu   sync.Mutex
	kept [][]byte
	sums []string
}

func (p *keepingProvider) KeepBody(req Request, err error, body *os.File, size int64, sum string) error {
	if !errors.Is(err, errUnwanted) {
		return err
	}
	b, rerr := io.ReadAll(io.NewSectionReader(body, 0, size))
	if rerr != nil {
		return rerr
	}
	p.mu.Lock()
	p.kept, p.sums = append(p.kept, b), append(p.sums, sum)
	p.mu.Unlock()
	return &Error{Class: Invalid, Paid: true, Err: err, Msg: "not wanted, but kept"}
}

// A provider that fails an answer which arrived whole is handed the
// executor's own temporary file holding it, with its size and hash,
// before the file is given up: watch keeps a superseded render from it
// rather than from a second copy held in memory as it arrived. Its error
// is the one reported; nothing is placed or recorded.
func TestKeepBody(t *testing.T) {
	e := newEnv(t)
	body := pngOf(t, 64, 64, 7)
	p := &keepingProvider{fakeProvider: &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
		if _, err := w.Write(body); err != nil {
			return err
		}
		if req.Addr == addr("unwanted") {
			return &Error{Class: Invalid, Paid: true, Err: errUnwanted, Msg: "not wanted"}
		}
		return nil
	}}}
	var msgs []string
	var mu sync.Mutex
	e.prov = p.fakeProvider
	res, _ := e.apply(t, context.Background(), false, []planner.Change{
		create("unwanted", "images/unwanted.png", 1),
		create("wanted", "images/wanted.png", 2),
	}, func(o *Options) {
		o.Provider = p
		o.Hooks = &failMsgs{recHooks: e.hooks, msgs: &msgs, mu: &mu}
	})
	if res.Generated != 1 || res.Failed != 1 {
		t.Errorf("generated %d, failed %d; want the wanted image made and the other failed", res.Generated, res.Failed)
	}
	if len(p.kept) != 1 || !bytes.Equal(p.kept[0], body) || p.sums[0] != sumOf(body) {
		t.Fatalf("KeepBody was handed %d answers, want the unwanted one's %d bytes with their hash", len(p.kept), len(body))
	}
	if len(msgs) != 1 || msgs[0] != "not wanted, but kept" {
		t.Errorf("failures reported: %q, want KeepBody's error", msgs)
	}
	if _, ok := e.rec.snapshot()[addr("unwanted").String()]; ok {
		t.Error("the unwanted answer was recorded")
	}
	if _, err := os.Stat(e.dir + "/images/unwanted.png"); !os.IsNotExist(err) {
		t.Errorf("the unwanted answer was placed: %v", err)
	}
}

// failMsgs records the message of every failure besides recHooks'.
type failMsgs struct {
	*recHooks
	mu   *sync.Mutex
	msgs *[]string
}

func (h *failMsgs) Failed(c *planner.Change, err error) {
	h.mu.Lock()
	*h.msgs = append(*h.msgs, strings.TrimSpace(err.Error()))
	h.mu.Unlock()
	h.recHooks.Failed(c, err)
}
