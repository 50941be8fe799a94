// Package planfile reads and writes saved plans (plan -out=FILE): the
// changes to carry out, and digests of the configuration and lockfile they
// were made from, so that apply can refuse a stale plan.
package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// FormatVersion is the only plan file format this build reads and writes.
const FormatVersion = 1

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
	Plan     *planner.Plan
}

type fileJSON struct {
	Format         int          `json:"pixform_plan_format"`
	PixformVersion string       `json:"pixform_version"`
	ConfigDigest   string       `json:"config_digest"`
	LockDigest     string       `json:"lock_digest"`
	Vars           []string     `json:"vars"`
	VarFiles       []string     `json:"var_files"`
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
	Requests     int          `json:"requests"`
	Credits      int          `json:"credits"`
	CreditsKnown bool         `json:"credits_known"`
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
	for _, c := range f.Plan.Changes {
		fj.Changes = append(fj.Changes, changeJSON{
			Address: c.Addr.String(), Action: c.Action.String(), Reasons: c.Reasons,
			Inputs: c.Inputs, SeedChosen: c.SeedChosen, Path: c.Path, Prior: c.Prior,
			PriorAddress: c.PriorAddr, FromCache: c.FromCache, Requests: c.Requests,
			Credits: c.Credits, CreditsKnown: c.CreditsKnown,
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

// Read loads and checks a plan file.
func Read(name string) (*File, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("plan file %s does not exist: make one with `pixform plan -out=%s`", name, name)
		}
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	return Parse(b, name)
}

// Parse decodes a plan file and checks every field, so that a damaged or
// tampered plan is refused before anything is done with it.
func Parse(b []byte, name string) (*File, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s is not a valid pixform plan file: %s; make a new one with `pixform plan -out=%s`", name, fmt.Sprintf(format, args...), name)
	}
	var fj fileJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fj); err != nil {
		return nil, bad("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("data after the plan object")
	}
	if fj.Format != FormatVersion {
		return nil, bad("format %d, this pixform reads format %d", fj.Format, FormatVersion)
	}
	if fj.Provider != planner.Imagine && fj.Provider != planner.Draft {
		return nil, bad("unknown provider %q", fj.Provider)
	}
	if !isHex(fj.ConfigDigest) || !isHex(fj.LockDigest) {
		return nil, bad("missing or malformed digests")
	}
	p := &planner.Plan{Provider: fj.Provider}
	seen := map[string]bool{}
	for i, cj := range fj.Changes {
		c, err := parseChange(cj)
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
		Vars: fj.Vars, VarFiles: fj.VarFiles, Plan: p,
	}, nil
}

func parseChange(cj changeJSON) (planner.Change, error) {
	addr, err := config.ParseAddr(cj.Address)
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
		in := cj.Inputs
		if in.Prompt == "" || in.Style == "" || in.AspectRatio == "" || in.Seed < 1 || in.Seed > config.MaxSeed {
			return planner.Change{}, fmt.Errorf("%s: incomplete inputs", cj.Address)
		}
	}
	if (action == planner.Move || action == planner.Delete) && cj.Prior == nil {
		return planner.Change{}, fmt.Errorf("%s: a %s without a prior entry", cj.Address, cj.Action)
	}
	if cj.Prior != nil {
		if err := checkPath(cj.Prior.Path); err != nil {
			return planner.Change{}, fmt.Errorf("%s: prior %v", cj.Address, err)
		}
		if cj.PriorAddress == "" {
			return planner.Change{}, fmt.Errorf("%s: prior entry without its address", cj.Address)
		}
		if _, err := config.ParseAddr(cj.PriorAddress); err != nil {
			return planner.Change{}, err
		}
	}
	if cj.Requests < 0 || cj.Requests > 1 || cj.Credits < 0 {
		return planner.Change{}, fmt.Errorf("%s: bad request count or credits", cj.Address)
	}
	return planner.Change{
		Addr: addr, Action: action, Reasons: cj.Reasons, Inputs: cj.Inputs, SeedChosen: cj.SeedChosen,
		Path: cj.Path, Prior: cj.Prior, PriorAddr: cj.PriorAddress, FromCache: cj.FromCache,
		Requests: cj.Requests, Credits: cj.Credits, CreditsKnown: cj.CreditsKnown,
	}, nil
}

// checkPath refuses any path that could reach outside the working directory.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") || p == "." {
		return fmt.Errorf("unsafe path %q", p)
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
