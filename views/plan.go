package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

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

// CompactThreshold is the number of changes beyond which a plan is shown
// one line per change unless PlanOptions.Verbose asks for every detail.
const CompactThreshold = 20

// PlanOptions says how WritePlanWith renders a plan.
type PlanOptions struct {
	Color bool
	// Verbose shows every change in full even when the plan has more than
	// CompactThreshold changes.
	Verbose bool
}

// WritePlan renders a plan for people with WritePlanWith, in colour when
// color is true.
func WritePlan(w io.Writer, p *planner.Plan, color bool) error {
	return WritePlanWith(w, p, PlanOptions{Color: color})
}

// WritePlanWith renders a plan for people, Terraform-style: one block per
// change with its reasons (or, beyond CompactThreshold changes and without
// Verbose, one line per change), then the counts and the cost. NoOp
// changes are counted, not listed.
func WritePlanWith(w io.Writer, p *planner.Plan, opts PlanOptions) error {
	pal := palette{opts.Color}
	var b strings.Builder
	if !p.HasChanges() && p.HasUploads() {
		fmt.Fprintf(&b, "%s Your images match the configuration; the image store lacks %s that apply (or push) would upload.\n",
			pal.green("No changes."), Plural(p.Summary.Upload, "recorded image"))
		writeStoreSummary(&b, pal, p)
		writeCost(&b, pal, p)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if !p.HasChanges() {
		if writeLeftAlone(&b, pal, p, "No changes. ") {
			fmt.Fprintln(&b, "Apply would do nothing else.")
		} else {
			fmt.Fprintf(&b, "%s Your images match the configuration; apply would do nothing.\n", pal.green("No changes."))
		}
		writeCost(&b, pal, p)
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("pixform will perform the following actions")
	if p.Provider == providers.Draft {
		b.WriteString(" with the offline draft renderer")
	}
	n := p.Summary.Create + p.Summary.Replace + p.Summary.Move + p.Summary.Delete
	if n > CompactThreshold && !opts.Verbose {
		fmt.Fprintf(&b, " (%d changes, one line each; -verbose shows each in full):\n\n", n)
		writeCompact(&b, pal, p)
	} else {
		b.WriteString(":\n\n")
		writeDetailed(&b, pal, p)
	}
	writeLeftAlone(&b, pal, p, "")
	s := p.Summary
	fmt.Fprintf(&b, "%s %d to create, %d to replace, %d to move, %d to delete, %d unchanged.\n",
		pal.bold("Plan:"), s.Create, s.Replace, s.Move, s.Delete, s.NoOp)
	writeStoreSummary(&b, pal, p)
	writeCost(&b, pal, p)
	_, err := io.WriteString(w, b.String())
	return err
}

// maxLeftAlone caps how many images left alone are named one by one.
const maxLeftAlone = 10

// writeLeftAlone names the unchanged images that differ from what the
// configuration or lockfile says but that this plan leaves as they are,
// with why (an imagine render whose file drifted, in a draft plan): a
// plan that said only "No changes" would hide them. It writes nothing and
// returns false when there are none; lead goes before its first line.
func writeLeftAlone(b *strings.Builder, pal palette, p *planner.Plan, lead string) bool {
	n := 0
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action != planner.NoOp || len(c.Reasons) == 0 {
			continue
		}
		if n == 0 {
			if lead != "" {
				b.WriteString(pal.green(lead))
			}
			fmt.Fprintf(b, "%s\n\n", pal.yellow("Left as they are, though they differ:"))
		}
		n++
		if n <= maxLeftAlone {
			fmt.Fprintf(b, "  %s %s (%s)\n      %s%s\n", pal.yellow("!"), pal.bold(c.Addr.String()), c.Path, pal.dim("because "), visibleText(strings.Join(c.Reasons, "; ")))
		}
	}
	if n > maxLeftAlone {
		fmt.Fprintf(b, "  … and %d more (pixform plan -check lists them all)\n", n-maxLeftAlone)
	}
	if n > 0 {
		b.WriteString("\n")
	}
	return n > 0
}

// writeDetailed writes one block per change: heading, path, render
// settings and every reason.
func writeDetailed(b *strings.Builder, pal palette, p *planner.Plan) {
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == planner.NoOp {
			continue
		}
		fmt.Fprintf(b, "  %s %s %s\n", symbol(pal, c.Action), pal.bold(c.Addr.String()), actionPhrase(c))
		b.WriteString("      " + pal.dim("path:   ") + pathPhrase(c) + "\n")
		if (c.Action == planner.Create || c.Action == planner.Replace) && (c.Inputs.Derived() || c.Inputs.Transparent) {
			writeDerived(b, pal, c)
		} else if c.Action == planner.Create || c.Action == planner.Replace {
			seed := fmt.Sprint(c.Inputs.Seed)
			if n, s, ok := c.PickedTake(); ok {
				// The take placed at the path is not the first.
				seed = fmt.Sprintf("%d (picked take %d)", s, n)
			} else if c.SeedChosen {
				seed += chosenNote(c)
			}
			fmt.Fprintf(b, "      %s%s, %s, seed %s\n", pal.dim("render: "), c.Inputs.Style, c.Inputs.AspectRatio, seed)
			if c.Action == planner.Create {
				fmt.Fprintf(b, "      %s%q\n", pal.dim("prompt: "), c.Inputs.Prompt)
			}
		}
		for _, r := range c.Reasons {
			if c.Action == planner.Move && strings.HasPrefix(r, "moved from ") {
				continue // the heading says it
			}
			r = visibleText(r)
			if d, ok := strings.CutPrefix(r, "prompt changed: "); ok {
				r = "prompt changed: " + colorWordDiff(pal, d)
			}
			b.WriteString("      " + pal.dim("because ") + r + "\n")
		}
		b.WriteString("\n")
	}
}

// maxCompactColumn caps the width of the address and reason columns of a
// compact plan; longer cells overflow their column rather than widen it.
const maxCompactColumn = 40

// writeCompact writes one line per change: symbol, address, short reason,
// path, in aligned columns.
func writeCompact(b *strings.Builder, pal palette, p *planner.Plan) {
	type row struct {
		c             *planner.Change
		addr, because string
	}
	var rows []row
	addrW, becauseW := 0, 0
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == planner.NoOp {
			continue
		}
		r := row{c: c, addr: c.Addr.String(), because: shortReason(c)}
		if n := utf8.RuneCountInString(r.addr); n <= maxCompactColumn {
			addrW = max(addrW, n)
		}
		if n := utf8.RuneCountInString(r.because); n <= maxCompactColumn {
			becauseW = max(becauseW, n)
		}
		rows = append(rows, r)
	}
	for _, r := range rows {
		// "  %s %s  %s  %s\n", written piece by piece: a large plan has a
		// line for every image.
		b.WriteString("  ")
		b.WriteString(symbol(pal, r.c.Action))
		b.WriteString(" ")
		b.WriteString(pal.bold(pad(r.addr, addrW)))
		b.WriteString("  ")
		b.WriteString(r.because)
		if n := utf8.RuneCountInString(r.because); n < becauseW {
			writeSpaces(b, becauseW-n)
		}
		b.WriteString("  ")
		b.WriteString(pathPhrase(r.c))
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// writeSpaces writes n spaces to b.
func writeSpaces(b *strings.Builder, n int) {
	const spaces = "                                "
	for ; n > len(spaces); n -= len(spaces) {
		b.WriteString(spaces)
	}
	b.WriteString(spaces[:n])
}

// pad right-pads s with spaces to width runes.
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// shortReason is a change's reasons cut to their heads ("prompt changed",
// not the diff), for a compact plan.
func shortReason(c *planner.Change) string {
	var heads []string
	for _, r := range c.Reasons {
		if strings.HasPrefix(r, "restored from the local cache") || strings.HasPrefix(r, "restored from the image store") {
			continue // said below
		}
		head, _, _ := strings.Cut(r, ": ")
		if i := strings.Index(head, "; "); i >= 0 {
			head = head[:i]
		}
		heads = append(heads, visibleText(head))
	}
	s := strings.Join(heads, ", ")
	if s == "" {
		s = c.Action.String()
	}
	if c.FromCache {
		s += " (from cache)"
	}
	if c.FromStore {
		s += " (restore from store)"
	}
	if r := []rune(s); len(r) > maxCompactColumn+20 {
		s = string(r[:maxCompactColumn+19]) + "…"
	}
	return s
}

// colorWordDiff shows a word diff's [-removed-] words in red and its
// {+added+} words in green, without the markers, when colour is on; with
// colour off it returns d as it is.
func colorWordDiff(pal palette, d string) string {
	if !pal.on {
		return d
	}
	var b strings.Builder
	for d != "" {
		i := strings.IndexAny(d, "[{")
		if i < 0 {
			b.WriteString(d)
			break
		}
		b.WriteString(d[:i])
		d = d[i:]
		open, closing, paint := "[-", "-]", pal.red
		if d[0] == '{' {
			open, closing, paint = "{+", "+}", pal.green
		}
		if rest, ok := strings.CutPrefix(d, open); ok {
			if j := strings.Index(rest, closing); j >= 0 {
				b.WriteString(paint(rest[:j]))
				d = rest[j+len(closing):]
				continue
			}
		}
		b.WriteByte(d[0])
		d = d[1:]
	}
	return b.String()
}

func writeCost(b *strings.Builder, pal palette, p *planner.Plan) {
	s := p.Summary
	fmt.Fprintf(b, "%s %s, %s", pal.bold("Cost:"), Plural(s.Requests, "request"), Plural(s.Credits, "credit"))
	byEndpoint := planner.CostByEndpoint(p.Changes)
	derived := len(byEndpoint) > 1 || len(byEndpoint) == 1 && byEndpoint[0].Endpoint != planner.EndpointTextToImage
	if s.UnpricedRequests > 0 && !derived {
		fmt.Fprintf(b, " (+ %s of sdxl-1.0, which the vendor does not price)", Plural(s.UnpricedRequests, "request"))
	}
	if derived {
		writeEndpointCosts(b, byEndpoint)
	}
	if p.Provider == providers.Draft {
		b.WriteString(" (draft renders offline)")
	}
	if s.Refused > 0 {
		b.WriteString("; " + refusedNote(s))
	}
	b.WriteString(".\n")
}

// refusedNote follows the cost of a plan with changes apply refuses.
func refusedNote(s planner.Summary) string {
	note := Plural(s.Refused, "change") + " refused (a file the lockfile does not record is at its path: see above)"
	if s.Blocked > 0 {
		note += " and " + Plural(s.Blocked, "image") + " made from them, which apply does not make"
	}
	return note + ": no cost"
}

func actionPhrase(c *planner.Change) string {
	switch c.Action {
	case planner.Create:
		if c.FromStore {
			return "will be created: restore from store"
		}
		if c.FromCache {
			return "will be created from the local cache"
		}
		return "will be created"
	case planner.Replace:
		if c.FromStore {
			return "will be replaced: restore from store"
		}
		if c.FromCache {
			return "will be replaced from the local cache"
		}
		return "will be replaced"
	case planner.Move:
		if !c.PriorAddr.IsZero() && c.PriorAddr != c.Addr {
			return "will be moved from " + c.PriorAddr.String()
		}
		if c.Prior != nil && c.Prior.Path == c.Path {
			// Neither address nor path changes: only the record does.
			return "will be updated in place"
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

// Plural is "1 image" or "3 images": n and word, plural when n is not 1.
func Plural(n int, word string) string {
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
	FromStore   bool     `json:"from_store,omitempty"`
	// Refused is a change apply refuses before any request: a file the
	// lockfile does not record is at its path (its reasons say so).
	// The summary's requests and credits leave it out.
	Refused  bool `json:"refused,omitempty"`
	Requests int  `json:"requests"`
	Credits  int  `json:"credits"`
	// Derived images: what the image is made from and how; Unknown lists
	// the inputs known only after apply (Terraform's after_unknown).
	Operation    string   `json:"operation,omitempty"`
	Endpoint     string   `json:"endpoint,omitempty"`
	Source       string   `json:"source,omitempty"`
	SourceSHA256 string   `json:"source_sha256,omitempty"`
	Transparent  bool     `json:"transparent,omitempty"`
	Unknown      []string `json:"after_unknown,omitempty"`
	Unpriced     bool     `json:"unpriced,omitempty"`

	// Candidates is how many takes the change renders, when more than one.
	Candidates int `json:"candidates,omitempty"`
	// Picked and PickedSeed name the take apply places at the path when
	// someone picked it (not the first, whose seed is Seed).
	Picked     int   `json:"picked,omitempty"`
	PickedSeed int64 `json:"picked_seed,omitempty"`
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
	FromStore        int `json:"from_store,omitempty"`
	Upload           int `json:"upload,omitempty"`
	// Refused counts the changes apply refuses, whose cost Requests and
	// Credits leave out.
	Refused int `json:"refused,omitempty"`
	// Blocked counts the creates made from a refused one, which apply
	// does not make either; Requests and Credits leave them out too.
	Blocked int `json:"blocked,omitempty"`
	// Endpoints breaks the requests down by endpoint when the plan uses
	// another than text-to-image.
	Endpoints []JSONEndpoint `json:"endpoints,omitempty"`
}

// JSONEndpoint is what a JSON plan spends on one endpoint.
type JSONEndpoint struct {
	Endpoint         string `json:"endpoint"`
	Requests         int    `json:"requests"`
	Credits          int    `json:"credits"`
	UnpricedRequests int    `json:"unpriced_requests,omitempty"`
}

// NewJSONPlan converts a plan to its JSON document. NoOp changes are
// counted in the summary, not listed, but for those left as they are
// though they differ (with their reasons, as the text plan lists them).
func NewJSONPlan(p *planner.Plan) JSONPlan {
	jp := JSONPlan{FormatVersion: PlanFormatVersion, Provider: p.Provider, Changes: []JSONChange{}}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == planner.NoOp && len(c.Reasons) == 0 {
			continue
		}
		jc := JSONChange{
			Address: c.Addr.String(), Action: c.Action.String(), Reasons: c.Reasons, Path: c.Path,
			Requests: c.Requests, Credits: c.Credits, FromCache: c.FromCache, FromStore: c.FromStore,
			Refused: c.Occupied,
		}
		if jc.Reasons == nil {
			jc.Reasons = []string{}
		}
		if c.Action != planner.Delete {
			jc.Prompt, jc.Style, jc.Ratio, jc.Seed, jc.SeedChosen = c.Inputs.Prompt, c.Inputs.Style, c.Inputs.AspectRatio, c.Inputs.Seed, c.SeedChosen
			if c.Inputs.Derived() || c.Inputs.Transparent {
				jc.Operation, jc.Source, jc.SourceSHA256, jc.Transparent = c.Inputs.Operation, c.Inputs.Source, c.Inputs.SourceSHA256, c.Inputs.Transparent
				jc.Endpoint = planner.Endpoint(c.Inputs)
				if c.AfterApply != "" {
					jc.Unknown = []string{"source_sha256"}
				}
			}
			jc.Unpriced = c.Requests > 0 && !c.CreditsKnown
			jc.Candidates = c.Inputs.Candidates
			jc.Picked, jc.PickedSeed, _ = c.PickedTake()
		}
		if c.Prior != nil {
			if c.Prior.Path != c.Path {
				jc.PriorPath = c.Prior.Path
			}
			if !c.PriorAddr.IsZero() && c.PriorAddr.String() != jc.Address {
				jc.PriorAddr = c.PriorAddr.String()
			}
			if c.Action == planner.Replace && c.Prior.Inputs.Prompt != c.Inputs.Prompt {
				jc.PriorPrompt = c.Prior.Inputs.Prompt
			}
		}
		jp.Changes = append(jp.Changes, jc)
	}
	s := p.Summary
	jp.Summary = JSONSummary{Create: s.Create, Replace: s.Replace, Move: s.Move, Delete: s.Delete, NoOp: s.NoOp,
		Requests: s.Requests, Credits: s.Credits, UnpricedRequests: s.UnpricedRequests,
		FromStore: s.FromStore, Upload: s.Upload, Refused: s.Refused, Blocked: s.Blocked}
	if eps := planner.CostByEndpoint(p.Changes); len(eps) > 1 || len(eps) == 1 && eps[0].Endpoint != planner.EndpointTextToImage {
		for _, e := range eps {
			jp.Summary.Endpoints = append(jp.Summary.Endpoints, JSONEndpoint{e.Endpoint, e.Requests, e.Credits, e.Unpriced})
		}
	}
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

// writeDerived writes how a derived or transparent image is made: its
// source (and its hash, or "known after apply"), operation and fields.
func writeDerived(b *strings.Builder, pal palette, c *planner.Change) {
	in := c.Inputs
	if in.Transparent {
		seed := fmt.Sprint(in.Seed)
		if c.SeedChosen {
			seed += chosenNote(c)
		}
		fmt.Fprintf(b, "      %stransparent (Text to PNG), %s, seed %s\n", pal.dim("render: "), in.AspectRatio, seed)
		if c.Action == planner.Create {
			fmt.Fprintf(b, "      %s%q\n", pal.dim("prompt: "), in.Prompt)
		}
		return
	}
	var how []string
	if in.Operation != "" {
		how = append(how, in.Operation)
	}
	if in.Crop != "" {
		how = append(how, "crop "+in.Crop)
	}
	if in.Resize != "" {
		how = append(how, "resize "+in.Resize)
	}
	if in.Quality != 0 {
		how = append(how, fmt.Sprintf("quality %d", in.Quality))
	}
	if in.Operation == "" {
		how = append(how, "made locally, no request")
	}
	if in.Seed != 0 {
		seed := fmt.Sprintf("seed %d", in.Seed)
		if c.SeedChosen {
			seed += chosenNote(c)
		}
		how = append(how, seed)
	}
	fmt.Fprintf(b, "      %s%s\n", pal.dim("render: "), strings.Join(how, ", "))
	sum := "known after apply"
	if in.SourceSHA256 != "" {
		sum = shortSum(in.SourceSHA256)
	}
	fmt.Fprintf(b, "      %s%s (sha256 %s)\n", pal.dim("from:   "), in.Source, sum)
	if in.Mask != "" {
		fmt.Fprintf(b, "      %s%s (sha256 %s)\n", pal.dim("mask:   "), in.Mask, shortSum(in.MaskSHA256))
	}
	if c.Action == planner.Create && in.Prompt != "" {
		fmt.Fprintf(b, "      %s%q\n", pal.dim("prompt: "), in.Prompt)
	}
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// writeEndpointCosts lists the cost of each endpoint of a plan that makes
// derived or transparent images, after the total.
func writeEndpointCosts(b *strings.Builder, costs []planner.EndpointCost) {
	b.WriteString(":")
	for i, e := range costs {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(b, " %s %s", e.Endpoint, Plural(e.Requests, "request"))
		b.WriteString(" " + Cost(e.Requests, e.Credits, e.Unpriced))
	}
	if note := unpricedNote(costs); note != "" {
		fmt.Fprintf(b, " (%s)", note)
	}
}

// Cost words what requests cost: "3 credits", "unpriced" when none of
// them has a price, or "2 credits + 1 unpriced" (credits leave the
// unpriced requests out).
func Cost(requests, credits, unpriced int) string {
	switch {
	case unpriced > 0 && unpriced == requests:
		return "unpriced"
	case unpriced > 0:
		return fmt.Sprintf("%s + %d unpriced", Plural(credits, "credit"), unpriced)
	}
	return Plural(credits, "credit")
}

// CostBreakdown is a plan's cost by endpoint in the words plan prints
// after its total ("text-to-image 1 request 1 credit; upscale 1 request
// unpriced (the vendor publishes no price for upscale: …)"): watch says
// it of a change with unpriced requests, which its credits leave out.
func CostBreakdown(p *planner.Plan) string {
	var b strings.Builder
	writeEndpointCosts(&b, planner.CostByEndpoint(p.Changes))
	return strings.TrimPrefix(b.String(), ": ")
}

// unpricedNote says, of each kind of unpriced request among costs, why
// it is and what can be done: sdxl-1.0 has no price and none can be set;
// an edit or transparent endpoint takes one in the provider block under
// its name. "" when all are priced.
func unpricedNote(costs []planner.EndpointCost) string {
	var notes, ops []string
	for _, e := range costs {
		switch {
		case e.Unpriced == 0:
		case e.Endpoint == planner.EndpointTextToImage:
			notes = append(notes, "sdxl-1.0 has no published price, and none can be set")
		default:
			ops = append(ops, e.Endpoint)
		}
	}
	if len(ops) > 0 {
		notes = append(notes, fmt.Sprintf("the vendor publishes no price for %s: set the credits of one request in the provider block, such as prices = { %s = N }",
			strings.Join(ops, ", "), strings.Join(ops, " = N, ")))
	}
	return strings.Join(notes, "; ")
}

// chosenNote follows a seed the plan drew for an image that sets none.
// Each plan draws its own: the lockfile pins the one of the plan that is
// applied (a plan saved with -out, or the one apply shows), not that of
// an earlier plan.
// chosenNote says where the seed the plan chose for c came from: drawn
// from its address and inputs (the same in every plan), or at random for
// -replace (each plan draws another).
func chosenNote(c *planner.Change) string {
	if c.Prior == nil && c.Inputs.Seed == planner.DrawnSeed(c.Addr, c.Inputs) {
		return " (drawn from the image's address and inputs, the same in every plan; the lockfile pins it on apply)"
	}
	return " (drawn at random for -replace, another in each plan; the lockfile pins the one applied)"
}
