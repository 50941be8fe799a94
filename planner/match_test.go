package planner

import (
	"testing"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/state"
)

func TestInputsMatch(t *testing.T) {
	in := state.Inputs{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 7}
	tests := []struct {
		name string
		img  config.Image
		want bool
	}{
		{"same", config.Image{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 7}, true},
		{"seed left out", config.Image{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1"}, true},
		{"path is not an input", config.Image{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Path: "elsewhere.png"}, true},
		{"prompt", config.Image{Prompt: "a wolf", Style: "flux-dev", AspectRatio: "1:1"}, false},
		{"style", config.Image{Prompt: "a fox", Style: "anime", AspectRatio: "1:1"}, false},
		{"ratio", config.Image{Prompt: "a fox", Style: "flux-dev", AspectRatio: "16:9"}, false},
		{"declared seed", config.Image{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 8}, false},
	}
	for _, tt := range tests {
		if got := InputsMatch(&tt.img, in); got != tt.want {
			t.Errorf("%s: InputsMatch = %v, want %v", tt.name, got, tt.want)
		}
	}
}
