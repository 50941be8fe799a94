package planner

import (
	"strings"
	"testing"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// TestDiffDerivedStore plans derived images whose source the image store
// restores: their source hash is the store's object, so they are
// restored from the store too when it holds their render, with no
// request, and only a render it lacks is paid.
func TestDiffDerivedStore(t *testing.T) {
	ok := func(sha string) FileFact { return FileFact{Exists: true, SHA256: sha} }
	chain := func(t *testing.T) []config.Image { return heroChain(t, "cat") }
	chainLock := heroChainLock
	lockDigest := func(a string) string { return chainLock()[a].Inputs.Digest() }
	type swant struct {
		addr       string
		action     Action
		store      string // StoreSHA256, "" for none
		req        int
		afterApply bool
		source     string
		reason     string
	}
	tests := map[string]struct {
		lock    map[string]state.Entry
		facts   map[string]FileFact
		inStore map[string]bool
		stored  map[string]string // digest → sha256
		want    []swant
		// check says whether plan -check accepts it: every change a
		// NoOp or a put-back of its recorded bytes from the store.
		check bool
	}{
		"a clone without outputs restores the whole chain": {
			lock:    chainLock(),
			inStore: map[string]bool{shaA: true, shaB: true, shaC: true},
			want: []swant{
				{addr: "image.hero", action: Replace, store: shaA},
				{addr: "image.hero_2x", action: Replace, store: shaB, source: shaA, reason: "file missing on disk"},
				{addr: "image.small", action: Replace, store: shaC, source: shaB, reason: "file missing on disk"},
			},
			check: true,
		},
		"a clone whose store lacks the derived object requests it": {
			lock:    chainLock(),
			inStore: map[string]bool{shaA: true, shaC: true},
			want: []swant{
				{addr: "image.hero", action: Replace, store: shaA},
				{addr: "image.hero_2x", action: Replace, req: 1, source: shaA, reason: "file missing on disk"},
				{addr: "image.small", action: Replace, afterApply: true, reason: "image.hero_2x is replaced"},
			},
		},
		"a clone with the source on disk restores the derived ones": {
			lock:    chainLock(),
			facts:   map[string]FileFact{"hero.png": ok(shaA)},
			inStore: map[string]bool{shaA: true, shaB: true, shaC: true},
			want: []swant{
				{addr: "image.hero", action: NoOp},
				{addr: "image.hero_2x", action: Replace, store: shaB, source: shaA},
				{addr: "image.small", action: Replace, store: shaC, source: shaB},
			},
			check: true,
		},
		"a create the store rendered restores the chain": {
			stored: map[string]string{
				lockDigest("image.hero"): shaA, lockDigest("image.hero_2x"): shaB, lockDigest("image.small"): shaC,
			},
			want: []swant{
				{addr: "image.hero", action: Create, store: shaA},
				{addr: "image.hero_2x", action: Create, store: shaB, source: shaA},
				{addr: "image.small", action: Create, store: shaC, source: shaB},
			},
		},
		"a create whose derived render the store lacks is requested": {
			stored: map[string]string{lockDigest("image.hero"): shaA},
			want: []swant{
				{addr: "image.hero", action: Create, store: shaA},
				{addr: "image.hero_2x", action: Create, req: 1, source: shaA},
				{addr: "image.small", action: Create, afterApply: true},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lock := state.NewLock()
			for k, e := range tc.lock {
				lock.Images[addr(t, k)] = e
			}
			in := Input{
				Images: chain(t), Lock: lock, Facts: tc.facts, Provider: providers.Imagine,
				NewSeed: func() int64 { return 1234 },
				InStore: func(sum string) bool { return tc.inStore[sum] },
				Stored: func(d, p string) (string, bool) {
					s, ok := tc.stored[d]
					return s, ok && p == providers.Imagine
				},
			}
			plan, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if len(plan.Changes) != len(tc.want) {
				t.Fatalf("%d changes, want %d: %+v", len(plan.Changes), len(tc.want), plan.Changes)
			}
			check := true
			for i, w := range tc.want {
				c := plan.Changes[i]
				if c.Addr.String() != w.addr || c.Action != w.action || c.StoreSHA256 != w.store || c.FromStore != (w.store != "") ||
					c.Requests != w.req || (c.AfterApply != "") != w.afterApply {
					t.Errorf("change %d = %s %s store %v %q req %d after-apply %q (reasons %q), want %+v",
						i, c.Addr, c.Action, c.FromStore, c.StoreSHA256, c.Requests, c.AfterApply, c.Reasons, w)
				}
				if c.Inputs.SourceSHA256 != w.source {
					t.Errorf("%s: source sha %q, want %q", c.Addr, c.Inputs.SourceSHA256, w.source)
				}
				if w.reason != "" && !strings.Contains(strings.Join(c.Reasons, "\n"), w.reason) {
					t.Errorf("%s: reasons %q lack %q", c.Addr, c.Reasons, w.reason)
				}
				putBack := c.Action == Replace && c.FromStore && c.Prior != nil && c.StoreSHA256 == c.Prior.SHA256
				check = check && (c.Action == NoOp || putBack)
			}
			if tc.check && !check {
				t.Errorf("plan -check would refuse the plan: %+v", plan.Changes)
			}
		})
	}
}
