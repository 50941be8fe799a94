package planfile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

func derivedPlan(credits int, known bool) *File {
	changes := []planner.Change{
		{Addr: addrs.Addr{Name: "hero"}, Action: planner.Create, Inputs: state.Inputs{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 4},
			Path: "images/hero.png", Requests: 1, Credits: 15, CreditsKnown: true},
		{Addr: addrs.Addr{Name: "hero_2x"}, Action: planner.Create, Inputs: state.Inputs{Operation: "upscale", Source: "image.hero"},
			AfterApply: "image.hero is created", Path: "images/hero_2x.png", Requests: 1, Credits: credits, CreditsKnown: known},
		{Addr: addrs.Addr{Name: "small"}, Action: planner.Create, Inputs: state.Inputs{Source: "image.hero_2x", Resize: "64x0"},
			AfterApply: "image.hero_2x is created", Path: "images/small.png"},
	}
	return &File{
		PixformVersion: "test", ConfigDigest: hexA, LockDigest: strings.Repeat("c", 64),
		Plan: &planner.Plan{Provider: providers.Imagine, Changes: changes, Summary: planner.Summarize(changes)},
	}
}

func TestDerivedRoundTrip(t *testing.T) {
	want := derivedPlan(2, true)
	b, err := Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b, "plan.bin")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got.Plan, want.Plan)
	}
	dir := t.TempDir()
	src := "provider \"imagine\" {\n  prices = { upscale = 2 }\n}\n" +
		"image \"hero\" {\n  prompt = \"a fox\"\n  seed = 4\n}\n" +
		"image \"hero_2x\" {\n  from = image.hero\n  operation = \"upscale\"\n}\n" +
		"image \"small\" {\n  from = image.hero_2x\n  resize = { width = 64 }\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(dir, config.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := CheckAgainst(got.Plan, cfg, state.NewLock(), nil, nil); err != nil {
		t.Errorf("CheckAgainst: %v", err)
	}
	// A plan that understates the price the configuration sets is refused.
	cheap, _ := Marshal(derivedPlan(0, true))
	p, err := Parse(cheap, "plan.bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAgainst(p.Plan, cfg, state.NewLock(), nil, nil); err == nil || !strings.Contains(err.Error(), "credits") {
		t.Errorf("CheckAgainst of an understated price: %v", err)
	}
}

// Only a text-to-image block renders candidates: a plan file with
// candidates on a derived or transparent image is refused by name.
func TestDerivedCandidatesRefused(t *testing.T) {
	for name, in := range map[string]state.Inputs{
		"transparent": {Prompt: "a fox", AspectRatio: "1:1", Seed: 4, Transparent: true, Candidates: 3},
		"derived":     {Source: "images/a.png", SourceSHA256: hexA, Resize: "64x0", Candidates: 3},
	} {
		f := derivedPlan(2, true)
		f.Plan.Changes = []planner.Change{{Addr: addrs.Addr{Name: "x"}, Action: planner.Create, Inputs: in, Path: "images/x.png"}}
		f.Plan.Summary = planner.Summarize(f.Plan.Changes)
		b, err := Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b, "p.plan"); err == nil || !strings.Contains(err.Error(), "candidates apply to a text-to-image") {
			t.Errorf("%s: Parse: %v", name, err)
		}
	}
}
