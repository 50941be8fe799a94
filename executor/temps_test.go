package executor

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

func TestIsTempOf(t *testing.T) {
	bases := map[string]bool{"a.png": true, "tile-3.png": true, "pixform.lock.json": true}
	tests := map[string]struct {
		name string
		want bool
	}{
		"temp of a target":           {".pixform-tmp-a.png-123456", true},
		"temp of a dashed target":    {".pixform-tmp-tile-3.png-42", true},
		"temp of the lockfile":       {".pixform-tmp-pixform.lock.json-7", true},
		"the target itself":          {"a.png", false},
		"temp of another file":       {".pixform-tmp-b.png-123", false},
		"no random suffix":           {".pixform-tmp-a.png-", false},
		"suffix not digits":          {".pixform-tmp-a.png-12x", false},
		"prefix of a longer base":    {".pixform-tmp-tile-3.png.bak-1", false},
		"someone else's temp":        {".tmp-a.png-123", false},
		"no dash at all":             {".pixform-tmp-a.png", false},
		"target named like the temp": {".pixform-tmp-tile-3.png", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := isTempOf(tc.name, bases); got != tc.want {
				t.Errorf("isTempOf(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// A run killed in the middle of writing leaves temporary files; the next
// Apply removes those beside the plan's paths, whatever their action, and
// nothing else.
func TestApplyRemovesStaleTemps(t *testing.T) {
	tests := map[string]struct {
		changes func(e *env, t *testing.T) []planner.Change
		files   []string // written before Apply
		want    []string // files outside .pixform/ after Apply
	}{
		"beside a create, in a subdirectory": {
			changes: func(e *env, t *testing.T) []planner.Change {
				return []planner.Change{create("a", "img/a.png", 1)}
			},
			files: []string{"img/.pixform-tmp-a.png-111", "img/.pixform-tmp-a.png-222", "img/notes.txt", "img/.pixform-tmp-zz.png-1"},
			want:  []string{"img/.pixform-tmp-zz.png-1", "img/a.png", "img/notes.txt"},
		},
		"beside a no-op, a prior path and the lockfile": {
			changes: func(e *env, t *testing.T) []planner.Change {
				k := e.had(t, "keep", "k.png", 1)
				m := e.had(t, "m", "old/m.png", 2)
				return []planner.Change{
					withPrior(create("keep", "k.png", 1), planner.NoOp, k, "image.keep"),
					withPrior(create("m", "new/m.png", 2), planner.Move, m, "image.m"),
				}
			},
			files: []string{".pixform-tmp-k.png-5", "old/.pixform-tmp-m.png-6", ".pixform-tmp-pixform.lock.json-7", "k.png.pixform-tmp-1"},
			want:  []string{"k.png", "k.png.pixform-tmp-1", "new/m.png"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			changes := tc.changes(e, t)
			for _, f := range tc.files {
				p := filepath.Join(e.dir, filepath.FromSlash(f))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("half an ima"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Not e.apply: its check for temporary files would object to
			// the unrelated ones this test keeps on purpose.
			_, err := Apply(context.Background(), &planner.Plan{Provider: providers.Imagine, Changes: changes}, Options{
				Dir: e.dir, Provider: &fakeProvider{render: renderPNG(t)}, Recorder: newFakeRecorder(t, e.dir, e.prior),
				Limiter: e.lim, Parallelism: 2, Clock: e.clock,
			})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got := listFiles(t, e.dir); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("files after Apply = %v, want %v", got, tc.want)
			}
		})
	}
}
