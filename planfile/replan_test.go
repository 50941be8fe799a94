package planfile

import (
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// factsDisk is a Disk of planner facts.
type factsDisk map[string]planner.FileFact

func (d factsDisk) Holds(e state.Entry) bool {
	f := d[e.Path]
	return f.Exists && f.SHA256 == e.SHA256
}

func (d factsDisk) HoldsFile(path, sha string) bool {
	f := d[path]
	return f.Exists && f.SHA256 == sha
}

// TestCheckAgainstPlanned: every plan the planner makes passes
// CheckAgainst, whatever its actions (kept, moved from a path or an
// address, replaced for a change, a -replace, a drifted file or a draft
// render, created, deleted, derived images after their source), and the
// same plan with one change's action edited does not, but for a replace of
// a drifted file made a no-op: that leaves the file as it is and spends
// nothing, as leaving the change out (-target) would, and telling it from
// a no-op as planned would take a read of every file kept.
func TestCheckAgainstPlanned(t *testing.T) {
	sum := func(c byte) string { return strings.Repeat(string(c), 64) }
	entry := func(prompt string, seed int64, path, sha string) state.Entry {
		return state.Entry{Inputs: state.Inputs{Prompt: prompt, Style: "flux-dev", AspectRatio: "16:9", Seed: seed},
			Provider: providers.Imagine, Path: path, SHA256: sha, Bytes: 10, MediaType: media.PNG, Width: 16, Height: 9}
	}
	hero, avatar, small, old := addrs.Addr{Name: "hero"}, addrs.Addr{Name: "avatar"}, addrs.Addr{Name: "small"}, addrs.Addr{Name: "old"}
	baseLock := func() *state.Lock {
		smallEntry := state.Entry{Inputs: state.Inputs{Source: "image.hero", SourceSHA256: sum('a'), Resize: "640x0"},
			Provider: providers.Imagine, Path: "small.png", SHA256: sum('c'), Bytes: 10, MediaType: media.PNG, Width: 640, Height: 360}
		return &state.Lock{Images: map[addrs.Addr]state.Entry{
			hero:   entry("a fox", 42, "hero.png", sum('a')),
			avatar: entry("a robot", 7, "avatar.png", sum('b')),
			small:  smallEntry,
			old:    entry("a cat", 5, "old.png", sum('d')),
		}}
	}
	baseImages := func() []config.Image {
		return []config.Image{
			{Addr: avatar, Prompt: "a robot", Style: "flux-dev", AspectRatio: "16:9", Path: "avatar.png"},
			{Addr: hero, Prompt: "a fox", Style: "flux-dev", AspectRatio: "16:9", Seed: 42, Path: "hero.png"},
			{Addr: small, From: hero, Resize: config.Resize{Width: 640}, Path: "small.png"},
		}
	}
	baseFacts := func(lock *state.Lock) map[string]planner.FileFact {
		facts := map[string]planner.FileFact{}
		for _, e := range lock.Images {
			facts[e.Path] = planner.FileFact{Exists: true, SHA256: e.SHA256, MediaType: e.MediaType}
		}
		return facts
	}
	tests := []struct {
		name    string
		edit    func(imgs *[]config.Image, lock *state.Lock, facts map[string]planner.FileFact, in *planner.Input)
		actions string // of avatar, hero, old, small (and others, by address)
	}{
		{"unchanged", nil, "noop noop delete noop"},
		{"prompt changed", func(imgs *[]config.Image, _ *state.Lock, _ map[string]planner.FileFact, _ *planner.Input) {
			(*imgs)[1].Prompt = "a wolf"
		}, "noop replace delete replace"},
		{"path changed", func(imgs *[]config.Image, _ *state.Lock, _ map[string]planner.FileFact, _ *planner.Input) {
			(*imgs)[1].Path = "hero2.png"
		}, "noop move delete noop"},
		{"address moved", func(imgs *[]config.Image, _ *state.Lock, _ map[string]planner.FileFact, _ *planner.Input) {
			*imgs = append(*imgs, config.Image{Addr: addrs.Addr{Name: "cat"}, Prompt: "a cat", Style: "flux-dev", AspectRatio: "16:9", Path: "old.png"})
		}, "noop move noop noop"},
		{"address moved, seed changed", func(imgs *[]config.Image, _ *state.Lock, _ map[string]planner.FileFact, _ *planner.Input) {
			*imgs = append(*imgs, config.Image{Addr: addrs.Addr{Name: "cat"}, Prompt: "a cat", Style: "flux-dev", AspectRatio: "16:9", Seed: 6, Path: "old.png"})
		}, "noop create noop delete noop"},
		{"address moved, format changed", func(imgs *[]config.Image, _ *state.Lock, _ map[string]planner.FileFact, _ *planner.Input) {
			*imgs = append(*imgs, config.Image{Addr: addrs.Addr{Name: "cat"}, Prompt: "a cat", Style: "flux-dev", AspectRatio: "16:9", Path: "cat.jpg"})
		}, "noop replace noop noop"},
		{"created", func(imgs *[]config.Image, _ *state.Lock, _ map[string]planner.FileFact, _ *planner.Input) {
			*imgs = append(*imgs, config.Image{Addr: addrs.Addr{Name: "dog"}, Prompt: "a dog", Style: "flux-dev", AspectRatio: "16:9", Path: "dog.png"})
		}, "noop create noop delete noop"},
		{"-replace", func(_ *[]config.Image, _ *state.Lock, _ map[string]planner.FileFact, in *planner.Input) {
			in.Replace = []addrs.Addr{avatar}
		}, "replace noop delete noop"},
		{"-replace of a pinned seed", func(_ *[]config.Image, _ *state.Lock, _ map[string]planner.FileFact, in *planner.Input) {
			in.Replace = []addrs.Addr{hero}
		}, "noop replace delete replace"},
		{"file drifted", func(_ *[]config.Image, _ *state.Lock, facts map[string]planner.FileFact, _ *planner.Input) {
			facts["avatar.png"] = planner.FileFact{Exists: true, SHA256: sum('e'), MediaType: media.PNG}
		}, "replace noop delete noop"},
		{"file missing", func(_ *[]config.Image, _ *state.Lock, facts map[string]planner.FileFact, _ *planner.Input) {
			delete(facts, "avatar.png")
		}, "replace noop delete noop"},
		{"draft keeps an imagine render", func(imgs *[]config.Image, _ *state.Lock, facts map[string]planner.FileFact, in *planner.Input) {
			in.Provider = providers.Draft
			(*imgs)[0].Path = "avatar2.png"
			delete(facts, "avatar.png")
		}, "noop noop delete noop"},
		{"draft render in an imagine run", func(_ *[]config.Image, lock *state.Lock, _ map[string]planner.FileFact, _ *planner.Input) {
			e := lock.Images[avatar]
			e.Provider = providers.Draft
			lock.Images[avatar] = e
		}, "replace noop delete noop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imgs, lock := baseImages(), baseLock()
			facts := baseFacts(lock)
			in := planner.Input{Provider: providers.Imagine, NewSeed: func() int64 { return 1234 }}
			if tt.edit != nil {
				tt.edit(&imgs, lock, facts, &in)
			}
			slices.SortFunc(imgs, func(a, b config.Image) int { return a.Addr.Compare(b.Addr) })
			in.Images, in.Lock, in.Facts = imgs, lock, facts
			p, diags := planner.Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var got []string
			for _, c := range p.Changes {
				got = append(got, c.Action.String())
			}
			if strings.Join(got, " ") != tt.actions {
				t.Fatalf("planned %q, want %q", strings.Join(got, " "), tt.actions)
			}
			cfg := &config.Config{Images: imgs}
			if err := CheckAgainst(p, cfg, lock, in.Replace, factsDisk(facts)); err != nil {
				t.Fatalf("CheckAgainst of the plan as made: %v", err)
			}
			// Each non-delete change edited to another action is refused.
			for i, c := range p.Changes {
				if c.Action == planner.Delete || c.Action == planner.Create {
					continue
				}
				for _, a := range []planner.Action{planner.NoOp, planner.Replace, planner.Move} {
					if a == c.Action || a == planner.NoOp && strings.HasPrefix(tt.name, "file ") {
						continue
					}
					edited := *p
					edited.Changes = slices.Clone(p.Changes)
					edited.Changes[i].Action = a
					if err := CheckAgainst(&edited, cfg, lock, in.Replace, factsDisk(facts)); err == nil {
						t.Errorf("%s edited from %s to %s: accepted", c.Addr, c.Action, a)
					}
				}
			}
			// A render -replace forces, edited to be one apply may
			// restore from the content cache, is refused.
			for i, c := range p.Changes {
				if !c.Forced {
					continue
				}
				edited := *p
				edited.Changes = slices.Clone(p.Changes)
				edited.Changes[i].Forced = false
				if err := CheckAgainst(&edited, cfg, lock, in.Replace, factsDisk(facts)); err == nil || !strings.Contains(err.Error(), "is not forced") {
					t.Errorf("%s edited to be not forced: %v", c.Addr, err)
				}
			}
		})
	}
}
