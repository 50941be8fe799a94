package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/pixform/pixform/planner"
)

// CheckImage is one image that fails plan -check: what the plan would do
// to it and why. Push says that only the image store lacks it.
type CheckImage struct {
	Change *planner.Change
	Push   bool
}

// Check is what plan -check found in a plan: the images that fail it,
// how many recorded images are missing here but held by the image store
// (which passes), and, with -require-approval once the rest passes, the
// images that await a pick or an approval.
type Check struct {
	Bad      []CheckImage
	InStore  int
	Review   bool // -require-approval: Awaiting was looked at
	Awaiting []planner.Awaiting
}

// Passed reports whether the check passes.
func (c *Check) Passed() bool { return len(c.Bad) == 0 && len(c.Awaiting) == 0 }

// checkReasons are why an image fails the check, as the text and the JSON
// say it: the plan's reasons, or, where a change has none, its action's
// own (a new image: not in the lockfile).
func checkReasons(ci CheckImage) []string {
	c := ci.Change
	if ci.Push {
		return []string{fmt.Sprintf("not in the image store (%s): run `pixform push`", c.Path)}
	}
	if len(c.Reasons) > 0 {
		return c.Reasons
	}
	switch c.Action {
	case planner.Create:
		return []string{"not in the lockfile"}
	}
	return []string{actionPhrase(c)}
}

// checkLine words one image that fails the check.
func checkLine(ci CheckImage) string {
	reasons := visibleText(strings.Join(checkReasons(ci), "; "))
	if ci.Push || ci.Change.Action == planner.NoOp {
		return fmt.Sprintf("%s: %s", ci.Change.Addr, reasons)
	}
	return fmt.Sprintf("%s %s: %s", ci.Change.Action, ci.Change.Addr, reasons)
}

// WriteCheck writes plan -check's result as text: the images that fail
// it, one a line, or that every image passes; p is the plan checked.
// Images awaiting a review are written by WriteAwaiting.
func WriteCheck(w io.Writer, p *planner.Plan, c *Check) {
	switch {
	case len(c.Bad) > 0:
		lines := make([]string, len(c.Bad))
		for i, ci := range c.Bad {
			lines[i] = "  " + checkLine(ci)
		}
		fmt.Fprintf(w, "%s %s not up to date:\n%s\n", Plural(len(c.Bad), "image"), verbOf(len(c.Bad), "is", "are"), strings.Join(lines, "\n"))
	case c.InStore > 0:
		fmt.Fprintf(w, "All %s declared match the lockfile: %d on disk, %d in the image store only (pixform pull brings them).\n",
			Plural(p.Summary.NoOp+c.InStore, "image"), p.Summary.NoOp, c.InStore)
	case p.Summary.NoOp == 1:
		fmt.Fprintln(w, "The 1 image declared is on disk and matches the lockfile.")
	default:
		fmt.Fprintf(w, "All %s declared are on disk and match the lockfile.\n", Plural(p.Summary.NoOp, "image"))
	}
	if len(c.Bad) > 0 || !c.Review {
		return
	}
	if len(c.Awaiting) == 0 {
		fmt.Fprintln(w, "Every image is picked and approved.")
		return
	}
	WriteAwaiting(w, c.Awaiting)
}

// JSONCheck is plan -check -json's document: the plan checked, as plan
// -json gives it, what the check found, and, when it fails, why, as
// plan -json's failures give it.
type JSONCheck struct {
	JSONPlan
	Check JSONCheckResult `json:"check"`
	Error *JSONFailure    `json:"error,omitempty"`
}

// JSONCheckResult is what plan -check found.
type JSONCheckResult struct {
	Passed bool `json:"passed"`
	// NotUpToDate lists the images that fail the check, in address order.
	NotUpToDate []JSONCheckImage `json:"not_up_to_date"`
	// InStoreOnly counts the recorded images missing here that the image
	// store holds (pixform pull brings them): they pass.
	InStoreOnly int `json:"in_store_only,omitempty"`
	// AwaitingReview lists, with -require-approval, the images that await
	// a pick or an approval.
	AwaitingReview []JSONAwaiting `json:"awaiting_review,omitempty"`
}

// JSONCheckImage is one image that fails plan -check.
type JSONCheckImage struct {
	Address string   `json:"address"`
	Action  string   `json:"action"`
	Path    string   `json:"path"`
	Reasons []string `json:"reasons"`
}

// JSONAwaiting is one image that awaits a pick or an approval.
type JSONAwaiting struct {
	Address string `json:"address"`
	Path    string `json:"path"`
	Awaits  string `json:"awaits"` // "pick" (then an approval) or "approval"
	Takes   int    `json:"takes,omitempty"`
	Message string `json:"message"`
}

// WriteCheckJSON writes plan -check -json's document; fail is why the
// check failed (nil when it passed).
func WriteCheckJSON(w io.Writer, p *planner.Plan, c *Check, fail *JSONFailure) error {
	doc := JSONCheck{JSONPlan: NewJSONPlan(p), Error: fail}
	doc.Check = JSONCheckResult{Passed: c.Passed(), NotUpToDate: []JSONCheckImage{}, InStoreOnly: c.InStore}
	for _, ci := range c.Bad {
		action := ci.Change.Action.String()
		if ci.Push {
			action = "push"
		}
		doc.Check.NotUpToDate = append(doc.Check.NotUpToDate, JSONCheckImage{
			Address: ci.Change.Addr.String(), Action: action, Path: ci.Change.Path, Reasons: checkReasons(ci),
		})
	}
	for _, a := range c.Awaiting {
		ja := JSONAwaiting{Address: a.Addr.String(), Path: a.Path, Awaits: "approval", Message: awaitingLine(a)}
		if a.Pick {
			ja.Awaits, ja.Takes = "pick", a.Takes
		}
		doc.Check.AwaitingReview = append(doc.Check.AwaitingReview, ja)
	}
	return writeJSONLine(w, doc)
}
