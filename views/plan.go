package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

// PlanFormatVersion is the format_version of plan -json output.
const PlanFormatVersion = "1"

// symbol is the one-character mark of each action in the human plan.
func symbol(p palette, a planner.Action) string {
	switch a {
	case planner.Create:
		return p.green("+")
	case planner.Replace:
		return p.yellow("~")
	case planner.Move:
		return p.cyan("→")
	case planner.Delete:
		return p.red("-")
	}
	return " "
}

// WritePlan renders a plan for people, Terraform-style: one block per
// change with its reasons, then the counts and the cost. NoOp changes are
// counted, not listed.
func WritePlan(w io.Writer, p *planner.Plan, color bool) error {
	pal := palette{color}
	var b strings.Builder
	if !p.HasChanges() {
		fmt.Fprintf(&b, "%s Your images match the configuration; apply would do nothing.\n", pal.green("No changes."))
		writeCost(&b, pal, p)
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("pixform will perform the following actions")
	if p.Provider == providers.Draft {
		b.WriteString(" with the offline draft renderer")
	}
	b.WriteString(":\n\n")
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == planner.NoOp {
			continue
		}
		fmt.Fprintf(&b, "  %s %s %s\n", symbol(pal, c.Action), pal.bold(c.Addr.String()), actionPhrase(c))
		b.WriteString("      " + pal.dim("path:   ") + pathPhrase(c) + "\n")
		if c.Action == planner.Create || c.Action == planner.Replace {
			seed := fmt.Sprint(c.Inputs.Seed)
			if c.SeedChosen {
				seed += " (chosen now; pinned in the lockfile on apply)"
			}
			fmt.Fprintf(&b, "      %s%s, %s, seed %s\n", pal.dim("render: "), c.Inputs.Style, c.Inputs.AspectRatio, seed)
			if c.Action == planner.Create {
				fmt.Fprintf(&b, "      %s%q\n", pal.dim("prompt: "), c.Inputs.Prompt)
			}
		}
		for _, r := range c.Reasons {
			if c.Action == planner.Move && strings.HasPrefix(r, "moved from ") {
				continue // the heading says it
			}
			b.WriteString("      " + pal.dim("because ") + r + "\n")
		}
		b.WriteString("\n")
	}
	s := p.Summary
	fmt.Fprintf(&b, "%s %d to create, %d to replace, %d to move, %d to delete, %d unchanged.\n",
		pal.bold("Plan:"), s.Create, s.Replace, s.Move, s.Delete, s.NoOp)
	writeCost(&b, pal, p)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCost(b *strings.Builder, pal palette, p *planner.Plan) {
	s := p.Summary
	fmt.Fprintf(b, "%s %s, %s", pal.bold("Cost:"), plural(s.Requests, "request"), plural(s.Credits, "credit"))
	if s.UnpricedRequests > 0 {
		fmt.Fprintf(b, " (+ %s of sdxl-1.0, which the vendor does not price)", plural(s.UnpricedRequests, "request"))
	}
	if p.Provider == providers.Draft {
		b.WriteString(" (draft renders offline)")
	}
	b.WriteString(".\n")
}

func actionPhrase(c *planner.Change) string {
	switch c.Action {
	case planner.Create:
		if c.FromCache {
			return "will be created from the local cache"
		}
		return "will be created"
	case planner.Replace:
		if c.FromCache {
			return "will be replaced from the local cache"
		}
		return "will be replaced"
	case planner.Move:
		if c.PriorAddr != "" && c.PriorAddr != c.Addr.String() {
			return "will be moved from " + c.PriorAddr
		}
		return "will be moved"
	case planner.Delete:
		return "will be deleted"
	}
	return ""
}

func pathPhrase(c *planner.Change) string {
	if c.Prior != nil && c.Prior.Path != c.Path && c.Action != planner.Delete {
		return c.Prior.Path + " → " + c.Path
	}
	return c.Path
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// JSONPlan is the plan -json document: a stable interface for scripts,
// versioned by FormatVersion, that says like the text plan what every
// change does and how many requests and credits the plan spends.
type JSONPlan struct {
	FormatVersion string       `json:"format_version"`
	Provider      string       `json:"provider"`
	Changes       []JSONChange `json:"changes"`
	Summary       JSONSummary  `json:"summary"`
}

// JSONChange is one change of a JSON plan.
type JSONChange struct {
	Address     string   `json:"address"`
	Action      string   `json:"action"`
	Reasons     []string `json:"reasons"`
	Path        string   `json:"path"`
	PriorPath   string   `json:"prior_path,omitempty"`
	PriorAddr   string   `json:"prior_address,omitempty"`
	Prompt      string   `json:"prompt,omitempty"`
	PriorPrompt string   `json:"prior_prompt,omitempty"`
	Style       string   `json:"style,omitempty"`
	Ratio       string   `json:"aspect_ratio,omitempty"`
	Seed        int64    `json:"seed,omitempty"`
	SeedChosen  bool     `json:"seed_chosen,omitempty"`
	FromCache   bool     `json:"from_cache,omitempty"`
	Requests    int      `json:"requests"`
	Credits     int      `json:"credits"`
}

// JSONSummary is the summary of a JSON plan.
type JSONSummary struct {
	Create           int `json:"create"`
	Replace          int `json:"replace"`
	Move             int `json:"move"`
	Delete           int `json:"delete"`
	NoOp             int `json:"noop"`
	Requests         int `json:"requests"`
	Credits          int `json:"credits"`
	UnpricedRequests int `json:"unpriced_requests,omitempty"`
}

// NewJSONPlan converts a plan to its JSON document. NoOp changes are
// counted in the summary, not listed.
func NewJSONPlan(p *planner.Plan) JSONPlan {
	jp := JSONPlan{FormatVersion: PlanFormatVersion, Provider: p.Provider, Changes: []JSONChange{}}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == planner.NoOp {
			continue
		}
		jc := JSONChange{
			Address: c.Addr.String(), Action: c.Action.String(), Reasons: c.Reasons, Path: c.Path,
			Requests: c.Requests, Credits: c.Credits, FromCache: c.FromCache,
		}
		if jc.Reasons == nil {
			jc.Reasons = []string{}
		}
		if c.Action != planner.Delete {
			jc.Prompt, jc.Style, jc.Ratio, jc.Seed, jc.SeedChosen = c.Inputs.Prompt, c.Inputs.Style, c.Inputs.AspectRatio, c.Inputs.Seed, c.SeedChosen
		}
		if c.Prior != nil {
			if c.Prior.Path != c.Path {
				jc.PriorPath = c.Prior.Path
			}
			if c.PriorAddr != jc.Address {
				jc.PriorAddr = c.PriorAddr
			}
			if c.Action == planner.Replace && c.Prior.Inputs.Prompt != c.Inputs.Prompt {
				jc.PriorPrompt = c.Prior.Inputs.Prompt
			}
		}
		jp.Changes = append(jp.Changes, jc)
	}
	s := p.Summary
	jp.Summary = JSONSummary{s.Create, s.Replace, s.Move, s.Delete, s.NoOp, s.Requests, s.Credits, s.UnpricedRequests}
	return jp
}

// WritePlanJSON prints the plan as one JSON object and a newline.
func WritePlanJSON(w io.Writer, p *planner.Plan) error {
	b, err := json.Marshal(NewJSONPlan(p))
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
