package gallery

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// State is where one image stands, as the gallery shows it.
type State string

// States of a card.
const (
	// UpToDate: the file on disk is the render of the declared inputs.
	UpToDate State = "up-to-date"
	// Queued: the image will be rendered (or moved) by the current run.
	Queued State = "queued"
	// Rendering: a request for it is in flight.
	Rendering State = "rendering"
	// Throttled: the API rate-limited its request; it will be retried.
	Throttled State = "throttled"
	// Failed: its render failed for good; Card.Reason says why.
	Failed State = "failed"
	// OutOfDate: declared, but what is on disk was made from other inputs
	// (or is missing); the next apply renders it.
	OutOfDate State = "out-of-date"
	// NotRendered: declared, never rendered.
	NotRendered State = "not-rendered"
	// Recorded: in the lockfile; the configuration could not be read to
	// compare.
	Recorded State = "recorded"
)

// Label is the state as people read it.
func (s State) Label() string {
	switch s {
	case UpToDate:
		return "up to date"
	case OutOfDate:
		return "out of date"
	case NotRendered:
		return "not rendered"
	}
	return string(s)
}

// Card is one image in the gallery. The desired fields (prompt, ratio,
// style, seed, path) come from the configuration when it is known, else
// from the lockfile; the file fields describe what is on disk now.
type Card struct {
	Addr        string `json:"addr"`
	Sort        string `json:"sort"` // orders cards as addresses sort
	Prompt      string `json:"prompt"`
	AspectRatio string `json:"aspect_ratio"`
	Style       string `json:"style"`
	Seed        int64  `json:"seed"` // 0: chosen when first rendered
	Path        string `json:"path"`

	// File is the lockfile entry of the file on disk, nil when there is
	// none yet.
	File *state.Entry `json:"file,omitempty"`

	State  State  `json:"state"`
	Label  string `json:"label"`
	Reason string `json:"reason,omitempty"`

	// Source is what a derived image is made from (an image's address or
	// a file's path) and Made how ("upscale", "resize 640x0"); Dependents
	// are the images made from this one, in address order. A card links
	// to each of them that is an image.
	Source     string   `json:"source,omitempty"`
	Made       string   `json:"made,omitempty"`
	Dependents []string `json:"dependents,omitempty"`

	// Thumb and Full are the thumbnail's and the full image's URLs (a
	// data: URI and a relative path in the static page), empty when there
	// is no file.
	Thumb string `json:"thumb,omitempty"`
	Full  string `json:"full,omitempty"`

	// TakeThumbs are the static page's data: URI thumbnails of File's
	// takes, in order: "" for a take that neither the file at the path
	// nor the content cache holds. (The live page asks the server.)
	TakeThumbs []string `json:"-"`
}

// AddrSegments splits an address where a card may wrap it: after "image."
// and before its key, so image.feature_icon["offline"] wraps as
// image. | feature_icon | ["offline"] and never inside a name or a key.
func AddrSegments(addr string) []string {
	var segs []string
	rest := addr
	if name, ok := strings.CutPrefix(rest, "image."); ok {
		segs, rest = append(segs, "image."), name
	}
	if i := strings.IndexByte(rest, '['); i > 0 {
		segs, rest = append(segs, rest[:i]), rest[i:]
	}
	if rest != "" {
		segs = append(segs, rest)
	}
	return segs
}

// PathSegments splits a path after each "/", where a card wraps it first
// (a segment too long for the card still wraps inside).
func PathSegments(path string) []string {
	return strings.SplitAfter(path, "/")
}

// setState sets State, Label and Reason together.
func (c *Card) setState(s State, reason string) {
	c.State, c.Label, c.Reason = s, s.Label(), reason
}

// sortKey orders addresses as addrs.Addr.Less does, by plain string
// comparison (the browser inserts live cards with it).
func sortKey(a addrs.Addr) string {
	return fmt.Sprintf("%s\x00%d\x00%s\x00%010d", a.Name, a.Kind, a.Key, a.Index)
}

// FromConfig builds the cards of a static gallery: every declared image,
// compared with its lockfile entry and the file on disk under dir. With a
// nil cfg (the configuration did not load) it shows every lockfile entry.
func FromConfig(dir string, cfg *config.Config, lock *state.Lock) []Card {
	exists := func(p string) bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		return err == nil
	}
	var cards []Card
	if cfg == nil {
		for addr, e := range lock.Images {
			c := Card{Addr: addr.String(), Sort: sortKey(addr), Prompt: e.Inputs.Prompt, AspectRatio: e.Inputs.AspectRatio,
				Style: e.Inputs.Style, Seed: AtPathSeed(&e), Path: e.Path}
			c.setState(Recorded, "")
			if exists(e.Path) {
				c.File = &e
			} else {
				c.setState(OutOfDate, "the file is missing")
			}
			cards = append(cards, c)
		}
		sortCards(cards)
		return cards
	}
	for _, img := range cfg.Images {
		addr := img.Addr.String()
		c := Card{Addr: addr, Sort: sortKey(img.Addr), Prompt: img.Prompt, AspectRatio: img.AspectRatio,
			Style: img.Style, Seed: img.Seed, Path: img.Path, Source: img.Source(),
			Made: made(state.Inputs{Operation: img.Operation, Source: img.Source(), Resize: planner.ResizeString(img.Resize), Crop: img.Crop, Transparent: img.Transparent})}
		e, ok := lock.Images[img.Addr]
		switch {
		case !ok:
			c.setState(NotRendered, "")
		case !exists(e.Path):
			c.setState(OutOfDate, "the file is missing")
		default:
			c.File = &e
			if c.Seed == 0 || e.Picked > 0 {
				c.Seed = AtPathSeed(&e)
			}
			switch {
			case !planner.InputsMatch(&img, e.Inputs):
				c.setState(OutOfDate, "the declaration changed since it was rendered")
			case e.Path != img.Path:
				c.setState(OutOfDate, "to be moved to "+img.Path)
			default:
				c.setState(UpToDate, "")
			}
		}
		cards = append(cards, c)
	}
	linkDependents(cards)
	return cards
}

// AtPathSeed is the seed of the bytes at e's path: for a candidates
// image the take's there (the picked one, else the first), else the
// inputs'.
func AtPathSeed(e *state.Entry) int64 {
	if n := e.AtPath(); n > 0 {
		return e.Takes[n-1].Seed
	}
	return e.Inputs.Seed
}

// made says how an image of these inputs is made, for a card: the
// operation, or the local edits; "" for a text-to-image render.
func made(in state.Inputs) string {
	var parts []string
	switch {
	case in.Transparent:
		return "transparent"
	case !in.Derived():
		return ""
	case in.Operation != "":
		parts = append(parts, in.Operation)
	}
	if in.Crop != "" {
		parts = append(parts, "crop "+in.Crop)
	}
	if in.Resize != "" {
		parts = append(parts, "resize "+in.Resize)
	}
	if len(parts) == 0 {
		parts = append(parts, "copy")
	}
	return strings.Join(parts, ", ")
}

// linkDependents fills in each card's Dependents from the others' Source.
func linkDependents(cards []Card) {
	at := make(map[string]int, len(cards))
	for i := range cards {
		at[cards[i].Addr] = i
	}
	for i := range cards {
		if j, ok := at[cards[i].Source]; ok && cards[i].Source != "" {
			cards[j].Dependents = append(cards[j].Dependents, cards[i].Addr)
		}
	}
	for i := range cards {
		slices.SortFunc(cards[i].Dependents, addrs.CompareStrings)
	}
}

// Anchor is the id of an address's card in the page: its bytes in hex,
// which any address fits into and no id rule refuses.
func Anchor(addr string) string { return "c-" + hex.EncodeToString([]byte(addr)) }

// FromPlan builds the cards of a live gallery from a plan: NoOp changes
// are up to date, creates, replaces and moves are queued, deletes are not
// shown.
func FromPlan(p *planner.Plan) []Card {
	var cards []Card
	for _, ch := range p.Changes {
		if ch.Action == planner.Delete {
			continue
		}
		c := Card{Addr: ch.Addr.String(), Sort: sortKey(ch.Addr), Prompt: ch.Inputs.Prompt, AspectRatio: ch.Inputs.AspectRatio,
			Style: ch.Inputs.Style, Seed: ch.Inputs.Seed, Path: ch.Path, Source: ch.Inputs.Source, Made: made(ch.Inputs)}
		if ch.Prior != nil {
			e := *ch.Prior
			c.File = &e
			if ch.Action == planner.NoOp || ch.Action == planner.Move {
				c.Seed = AtPathSeed(&e)
			}
		}
		if ch.Action == planner.NoOp {
			c.setState(UpToDate, "")
		} else {
			reason := ch.Action.String()
			if len(ch.Reasons) > 0 {
				reason += ": " + strings.Join(ch.Reasons, "; ")
			}
			c.setState(Queued, reason)
		}
		cards = append(cards, c)
	}
	linkDependents(cards)
	return cards
}

func sortCards(cards []Card) {
	slices.SortFunc(cards, func(a, b Card) int {
		switch {
		case a.Sort < b.Sort:
			return -1
		case a.Sort > b.Sort:
			return 1
		}
		return 0
	})
}
