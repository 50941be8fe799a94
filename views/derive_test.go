package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

func TestPlanDerived(t *testing.T) {
	changes := []planner.Change{
		{Addr: addrs.MustParse("image.hero"), Action: planner.Replace, Reasons: []string{"prompt changed: a → b"}, Path: "hero.png",
			Inputs: state.Inputs{Prompt: "b", Style: "flux-dev", AspectRatio: "1:1", Seed: 1}, Requests: 1, Credits: 15, CreditsKnown: true},
		{Addr: addrs.MustParse("image.hero_2x"), Action: planner.Replace, Reasons: []string{"image.hero is replaced"}, Path: "hero_2x.png",
			Inputs: state.Inputs{Operation: "upscale", Source: "image.hero"}, AfterApply: "image.hero is replaced", Requests: 1},
		{Addr: addrs.MustParse("image.hero_640"), Action: planner.Create, Path: "hero_640.jpg",
			Inputs: state.Inputs{Source: "image.hero", Resize: "640x0"}, AfterApply: "image.hero is replaced"},
	}
	p := &planner.Plan{Provider: "imagine", Changes: changes, Summary: planner.Summarize(changes)}
	var b bytes.Buffer
	if err := WritePlan(&b, p, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"~ image.hero_2x will be replaced\n",
		"because image.hero is replaced\n",
		"from:   image.hero (sha256 known after apply)",
		"render: upscale\n",
		"render: resize 640x0, made locally, no request",
		"text-to-image 1 request 15 credits; upscale 1 request unpriced",
		"prices = { upscale = N }",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := WritePlanJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"after_unknown":["source_sha256"]`, `"endpoint":"upscale"`, `"endpoint":"local"`, `"unpriced":true`, `"source":"image.hero"`,
		`"endpoints":[{"endpoint":"text-to-image","requests":1,"credits":15},{"endpoint":"upscale","requests":1,"credits":0,"unpriced_requests":1}]`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("JSON plan lacks %s:\n%s", want, b.String())
		}
	}
}

func TestEntryDerived(t *testing.T) {
	var b bytes.Buffer
	WriteEntry(&b, "image.up", state.Entry{Path: "up.png", Inputs: state.Inputs{Operation: "upscale", Source: "image.hero", SourceSHA256: "ab"}}, false)
	out := b.String()
	for _, want := range []string{"from:         image.hero\n", "from sha256:  ab\n", "operation:    upscale\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("entry lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "style") || strings.Contains(out, "prompt") {
		t.Errorf("entry shows fields the operation does not take:\n%s", out)
	}
}
