package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/internal/regfile"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// FormatVersion is the plan file format this build writes. It reads
// format 1 too (pixform before "forced"): see Parse.
const FormatVersion = 2

// formatNoForced is the plan file format before a change said whether
// its render is forced (-replace, -no-cache). It is read with every
// render it requests taken as forced, as pixform then applied it (but
// for an image made from another that the plan renders: AfterApply),
// since such a file does not say whether it was made with -no-cache.
const formatNoForced = 1

// File is a saved plan.
type File struct {
	// PixformVersion is the version of pixform that wrote the plan.
	PixformVersion string
	// ConfigDigest is config.Config.Digest when the plan was made.
	ConfigDigest string
	// LockDigest is LockDigest of the lockfile's bytes when the plan was made.
	LockDigest string
	// Vars and VarFiles are the -var and -var-file flags the plan was made
	// with; apply loads the configuration with them again.
	Vars     []string
	VarFiles []string
	// Replace are the -replace addresses the plan was made with: a
	// replace of an unchanged image is checked against them.
	Replace []addrs.Addr
	Plan    *planner.Plan
	// randomSeeds says the file is of format 1, whose created images'
	// seeds were drawn at random, not by planner.DrawnSeed.
	randomSeeds bool
}

type fileJSON struct {
	Format         int          `json:"pixform_plan_format"`
	PixformVersion string       `json:"pixform_version"`
	ConfigDigest   string       `json:"config_digest"`
	LockDigest     string       `json:"lock_digest"`
	Vars           []string     `json:"vars"`
	VarFiles       []string     `json:"var_files"`
	Replace        []string     `json:"replace,omitempty"`
	Provider       string       `json:"provider"`
	Changes        []changeJSON `json:"changes"`
}

type changeJSON struct {
	Address      string       `json:"address"`
	Action       string       `json:"action"`
	Reasons      []string     `json:"reasons"`
	Inputs       state.Inputs `json:"inputs"`
	SeedChosen   bool         `json:"seed_chosen"`
	Path         string       `json:"path"`
	Prior        *state.Entry `json:"prior"`
	PriorAddress string       `json:"prior_address"`
	FromCache    bool         `json:"from_cache"`
	// Written only when set: the render must be requested (-replace,
	// -no-cache), never restored from the content cache.
	Forced       bool   `json:"forced,omitempty"`
	Requests     int    `json:"requests"`
	Credits      int    `json:"credits"`
	CreditsKnown bool   `json:"credits_known"`
	AfterApply   string `json:"after_apply,omitempty"`
	// The image store's, written only when set.
	FromStore   bool   `json:"from_store,omitempty"`
	StoreSHA256 string `json:"store_sha256,omitempty"`
	// Of a candidates image, the takes restored by the object their
	// entry records (planner.Change.StoreTakes); absent from an older
	// pixform's plan file, whose apply asks the store instead.
	StoreTakes []string `json:"store_takes,omitempty"`
	Missing    bool     `json:"missing,omitempty"`
	Upload     bool     `json:"upload,omitempty"`
	// Written only when set: a file the lockfile does not record is at
	// the path, and apply refuses the change.
	Occupied bool `json:"occupied,omitempty"`
}

var actions = map[string]planner.Action{
	"noop": planner.NoOp, "create": planner.Create, "replace": planner.Replace,
	"move": planner.Move, "delete": planner.Delete,
}

// Marshal encodes a plan file.
func Marshal(f *File) ([]byte, error) {
	fj := fileJSON{
		Format: FormatVersion, PixformVersion: f.PixformVersion,
		ConfigDigest: f.ConfigDigest, LockDigest: f.LockDigest,
		Vars: f.Vars, VarFiles: f.VarFiles, Provider: f.Plan.Provider,
		Changes: make([]changeJSON, 0, len(f.Plan.Changes)),
	}
	for _, a := range f.Replace {
		fj.Replace = append(fj.Replace, a.String())
	}
	for _, c := range f.Plan.Changes {
		fj.Changes = append(fj.Changes, changeJSON{
			Address: c.Addr.String(), Action: c.Action.String(), Reasons: c.Reasons,
			Inputs: c.Inputs, SeedChosen: c.SeedChosen, Path: c.Path, Prior: c.Prior,
			PriorAddress: priorAddress(c.PriorAddr), FromCache: c.FromCache, Requests: c.Requests,
			Credits: c.Credits, CreditsKnown: c.CreditsKnown, AfterApply: c.AfterApply,
			FromStore: c.FromStore, StoreSHA256: c.StoreSHA256, StoreTakes: c.StoreTakes, Missing: c.Missing, Upload: c.Upload,
			Occupied: c.Occupied, Forced: c.Forced,
		})
	}
	b, err := json.MarshalIndent(fj, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Write saves a plan file atomically.
func Write(name string, f *File) error {
	b, err := Marshal(f)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	if err := state.WriteFileAtomic(name, b); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	return nil
}

// Read loads and checks the plan file at path; messages call it name (as
// the user typed it).
func Read(path, name string) (*File, error) {
	// Only a regular file, never waited on (a named pipe) or read without
	// end (a device), and at most MaxBytes of it: a plan file is a CI
	// artifact, not trusted.
	f, err := regfile.Open(path, false)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("plan file %s does not exist: make one with `pixform plan -out=%s`", name, name)
		}
		if errors.Is(err, regfile.ErrNotRegular) {
			return nil, fmt.Errorf("plan file %s is not a regular file: apply a file that `pixform plan -out=FILE` wrote", name)
		}
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	defer f.Close()
	if f.Size() > MaxBytes {
		return nil, fmt.Errorf("%s is not a valid pixform plan file: it is %d bytes, more than a plan file of any configuration (at most %d MiB); %s", name, f.Size(), MaxBytes>>20, newPlanHint)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%s is not a valid pixform plan file: it grew past %d MiB while it was read; %s", name, MaxBytes>>20, newPlanHint)
	}
	return Parse(b, name)
}

// newPlanHint ends the refusal of a file that is not a plan file at all:
// it may be the user's, so it is not named as the place to write one.
const newPlanHint = "make one with `pixform plan -out=FILE` (a new file) and apply that"

// MaxBytes is the most of a plan file Read reads: a plan of 100,000
// images is about 100 MiB.
const MaxBytes = 512 << 20

// Parse decodes a plan file and checks every field, so that a damaged or
// tampered plan is refused before anything is done with it. name is used
// only in error messages. Every error says what is wrong and to make a new
// plan.
func Parse(b []byte, name string) (*File, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s is not a valid pixform plan file: %s; make a new one with `pixform plan -out=%s`", name, fmt.Sprintf(format, args...), name)
	}
	if err := sniff(b); err != "" {
		// Not a plan at all: the file is not one to write a plan over.
		return nil, fmt.Errorf("%s is not a valid pixform plan file: %s; %s", name, err, newPlanHint)
	}
	var fj fileJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fj); err != nil {
		return nil, bad("%s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("data after the plan object")
	}
	if fj.Format != FormatVersion && fj.Format != formatNoForced {
		return nil, bad("format %d, this pixform reads formats %d and %d", fj.Format, formatNoForced, FormatVersion)
	}
	if !providers.Known(fj.Provider) {
		return nil, bad("unknown provider %q", fj.Provider)
	}
	if !isHex(fj.ConfigDigest) || !isHex(fj.LockDigest) {
		return nil, bad("missing or malformed digests")
	}
	var replace []addrs.Addr
	for _, r := range fj.Replace {
		a, err := addrs.Parse(r)
		if err != nil || a.String() != r {
			return nil, bad("replace address %q is not an image address in canonical form", r)
		}
		replace = append(replace, a)
	}
	p := &planner.Plan{Provider: fj.Provider}
	seen := map[string]bool{}
	for i, cj := range fj.Changes {
		if fj.Format == formatNoForced {
			// Applied as it was before "forced": a render it requests
			// is requested, but for an image made from another that
			// the plan renders, which apply restored from the cache
			// when the cache held it.
			cj.Forced = (cj.Action == "create" || cj.Action == "replace") && !cj.FromCache && !cj.FromStore && cj.AfterApply == ""
		}
		c, err := parseChange(cj, fj.Provider)
		if err != nil {
			return nil, bad("change %d: %v", i+1, err)
		}
		if seen[cj.Address] {
			return nil, bad("change %d: %s appears twice", i+1, cj.Address)
		}
		seen[cj.Address] = true
		p.Changes = append(p.Changes, c)
	}
	p.Summary = planner.Summarize(p.Changes)
	return &File{
		PixformVersion: fj.PixformVersion, ConfigDigest: fj.ConfigDigest, LockDigest: fj.LockDigest,
		Vars: fj.Vars, VarFiles: fj.VarFiles, Replace: replace, Plan: p,
		randomSeeds: fj.Format == formatNoForced,
	}, nil
}

// sniff recognises, before decoding, files that are not plans at all, so
// that the message names what the file is rather than a decoder detail.
// It returns "" when b looks like a JSON object.
func sniff(b []byte) string {
	t := bytes.TrimSpace(b)
	switch {
	case len(t) == 0:
		return "it is empty"
	case t[0] != '{':
		return "it is not JSON (a plan file is the JSON that `pixform plan -out=FILE` writes)"
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) == nil {
		_, hasVersion := probe["version"]
		_, hasImages := probe["images"]
		_, hasFormat := probe["pixform_plan_format"]
		if hasVersion && hasImages && !hasFormat {
			return "it is a lockfile, not a plan"
		}
	}
	return ""
}

// describeJSONError turns a decoder error into words for people.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "it ends too early (truncated?)"
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		what := "a value"
		if te.Field != "" {
			what = strconv.Quote(te.Field)
		}
		return fmt.Sprintf("%s has the wrong type (%s)", what, te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func parseChange(cj changeJSON, provider string) (planner.Change, error) {
	addr, err := addrs.Parse(cj.Address)
	if err != nil {
		return planner.Change{}, err
	}
	if addr.String() != cj.Address {
		return planner.Change{}, fmt.Errorf("address %q is not in canonical form", cj.Address)
	}
	action, ok := actions[cj.Action]
	if !ok {
		return planner.Change{}, fmt.Errorf("%s: unknown action %q", cj.Address, cj.Action)
	}
	if err := checkPath(cj.Path); err != nil {
		return planner.Change{}, fmt.Errorf("%s: %v", cj.Address, err)
	}
	if action != planner.Delete {
		if err := checkInputs(cj.Inputs); err != nil {
			return planner.Change{}, fmt.Errorf("%s: %v", cj.Address, err)
		}
	}
	if (action == planner.NoOp || action == planner.Move || action == planner.Delete) && cj.Prior == nil {
		return planner.Change{}, fmt.Errorf("%s: a %s without a prior entry", cj.Address, cj.Action)
	}
	if action == planner.Create && cj.Prior != nil {
		return planner.Change{}, fmt.Errorf("%s: a create with a prior entry", cj.Address)
	}
	var pa addrs.Addr
	if cj.Prior != nil {
		if err := state.ValidateEntry(*cj.Prior); err != nil {
			return planner.Change{}, fmt.Errorf("%s: prior entry: %v", cj.Address, err)
		}
		var err error
		pa, err = addrs.Parse(cj.PriorAddress)
		if err != nil {
			return planner.Change{}, fmt.Errorf("%s: prior entry: %v", cj.Address, err)
		}
		if pa.String() != cj.PriorAddress {
			return planner.Change{}, fmt.Errorf("%s: prior address %q is not in canonical form", cj.Address, cj.PriorAddress)
		}
		if action == planner.Delete && (cj.PriorAddress != cj.Address || cj.Prior.Path != cj.Path) {
			return planner.Change{}, fmt.Errorf("%s: a delete of another address or path than its prior entry's", cj.Address)
		}
	} else if cj.PriorAddress != "" {
		return planner.Change{}, fmt.Errorf("%s: prior address without a prior entry", cj.Address)
	}
	if err := checkCost(cj, action, provider); err != nil {
		return planner.Change{}, fmt.Errorf("%s: %v", cj.Address, err)
	}
	return planner.Change{
		Addr: addr, Action: action, Reasons: cj.Reasons, Inputs: cj.Inputs, SeedChosen: cj.SeedChosen,
		Path: cj.Path, Prior: cj.Prior, PriorAddr: pa, FromCache: cj.FromCache,
		Requests: cj.Requests, Credits: cj.Credits, CreditsKnown: cj.CreditsKnown, AfterApply: cj.AfterApply,
		FromStore: cj.FromStore, StoreSHA256: cj.StoreSHA256, StoreTakes: cj.StoreTakes, Missing: cj.Missing, Upload: cj.Upload,
		Occupied: cj.Occupied, Forced: cj.Forced,
	}, nil
}

// checkInputs accepts only inputs the configuration could have produced.
func checkInputs(in state.Inputs) error {
	if in.Derived() || in.Transparent {
		return checkDerivedInputs(in)
	}
	switch {
	case in.Prompt == "" || in.Style == "" || in.AspectRatio == "":
		return errors.New("incomplete inputs")
	case in.Seed < 1 || in.Seed > providers.MaxSeed:
		return fmt.Errorf("seed %d is outside 1..%d", in.Seed, int64(providers.MaxSeed))
	case in.Candidates == 1 || in.Candidates < 0 || in.Candidates > state.MaxCandidates:
		return fmt.Errorf("candidates %d is outside 2..%d", in.Candidates, state.MaxCandidates)
	case !slices.Contains(config.Styles, in.Style):
		return fmt.Errorf("unknown style %q", in.Style)
	case !slices.Contains(config.AspectRatios, in.AspectRatio):
		return fmt.Errorf("unknown aspect ratio %q", in.AspectRatio)
	}
	return nil
}

// checkCost refuses a request count or price other than the planner's, so
// that an edited plan cannot understate what it spends (-max-credits).
func checkCost(cj changeJSON, action planner.Action, provider string) error {
	wantReq, wantCredits, wantKnown := 0, 0, false
	if (action == planner.Create || action == planner.Replace) && !cj.FromCache && !cj.FromStore && provider == providers.Imagine {
		switch ep := planner.Endpoint(cj.Inputs); ep {
		case planner.EndpointLocal:
		case planner.EndpointTextToImage:
			wantReq = 1
			if n := cj.Inputs.Takes(); n > 1 && cj.Requests >= 1 && cj.Requests <= n {
				// Some takes may be in the cache; each other one is a request.
				wantReq = cj.Requests
			}
			wantCredits, wantKnown = planner.Price(cj.Inputs.Style)
			wantCredits *= wantReq
		default:
			// An edit endpoint's price is the configuration's, which
			// CheckAgainst compares.
			wantReq = 1
			wantCredits, wantKnown = max(cj.Credits, 0), cj.CreditsKnown
			if !wantKnown {
				wantCredits = 0
			}
		}
	}
	if cj.FromCache && action != planner.Create && action != planner.Replace {
		return fmt.Errorf("a %s cannot be restored from the cache", cj.Action)
	}
	switch {
	case cj.Forced && action != planner.Create && action != planner.Replace:
		return fmt.Errorf("a %s renders nothing that could be forced", cj.Action)
	case cj.Forced && (cj.FromCache || cj.FromStore):
		return errors.New("a forced render (-replace, -no-cache) cannot be restored")
	}
	if cj.Occupied && action != planner.Create && action != planner.Replace && action != planner.Move {
		return fmt.Errorf("a %s writes no path that a file could be in the way of", cj.Action)
	}
	switch {
	case cj.FromStore && (action != planner.Create && action != planner.Replace || cj.FromCache || !isHex(cj.StoreSHA256)):
		return fmt.Errorf("a %s cannot be restored from the image store as the plan says (object %q)", cj.Action, cj.StoreSHA256)
	case !cj.FromStore && cj.StoreSHA256 != "":
		return errors.New("an image store object without a restore from the store")
	case cj.StoreTakes != nil && !storeTakesOfPrior(cj, action, provider):
		return errors.New("takes restored from the image store that are not the takes its prior entry records")
	case cj.Upload && action != planner.NoOp && action != planner.Move:
		return fmt.Errorf("a %s cannot be an upload", cj.Action)
	}
	if cj.Requests != wantReq || cj.Credits != wantCredits || cj.CreditsKnown != wantKnown {
		return fmt.Errorf("requests %d and credits %d do not match the plan (want %d and %d)", cj.Requests, cj.Credits, wantReq, wantCredits)
	}
	return nil
}

// checkPath refuses any path that could reach outside the working
// directory or overwrite pixform's own files.
func checkPath(p string) error {
	if err := safepath.Check(p); err != nil {
		return fmt.Errorf("unsafe path: %w", err)
	}
	return nil
}

func isHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// priorAddress is the plan file's text of a prior address: "" for none.
func priorAddress(a addrs.Addr) string {
	if a.IsZero() {
		return ""
	}
	return a.String()
}

// checkDerivedInputs accepts the inputs of a derived or transparent image
// as the lockfile does, but for the source hash, which is unknown until
// apply when the source changes in the same plan.
func checkDerivedInputs(in state.Inputs) error {
	if in.Candidates != 0 {
		return fmt.Errorf("candidates %d on a derived or transparent image: candidates apply to a text-to-image block only", in.Candidates)
	}
	probe := in
	if probe.Derived() && probe.SourceSHA256 == "" {
		probe.SourceSHA256 = strings.Repeat("0", 64)
	}
	e := state.Entry{Inputs: probe, Provider: providers.Imagine, Path: "x.png", SHA256: strings.Repeat("0", 64),
		Bytes: 1, MediaType: "image/png", Width: 1, Height: 1}
	return state.ValidateEntry(e)
}

// storeTakesOfPrior reports whether cj's StoreTakes name, each, the take
// its prior entry records at that position, or nothing (""), of a
// candidates image whose takes are the entry's (planner's
// RestoresRecordedTakes: the same inputs, provider, format and seeds),
// restored from the store or rendering its other takes, never forced.
func storeTakesOfPrior(cj changeJSON, action planner.Action, provider string) bool {
	pr := cj.Prior
	c := planner.Change{Action: action, Inputs: cj.Inputs, Path: cj.Path, Prior: pr}
	if cj.Forced || cj.FromCache || !planner.RestoresRecordedTakes(&c, provider) || len(cj.StoreTakes) != len(pr.Takes) {
		return false
	}
	for i, sum := range cj.StoreTakes {
		if sum != "" && sum != pr.Takes[i].SHA256 {
			return false
		}
	}
	return true
}
