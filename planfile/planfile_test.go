package planfile

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

var hexA = strings.Repeat("a", 64)

func priorEntry(prompt, p string) *state.Entry {
	return &state.Entry{
		Inputs:   state.Inputs{Prompt: prompt, Style: "flux-dev", AspectRatio: "1:1", Seed: 9},
		Provider: "imagine", Path: p, SHA256: strings.Repeat("b", 64), Bytes: 100,
		MediaType: media.PNG, Width: 64, Height: 64,
	}
}

// samplePlan has one change of every action, as the planner makes them.
func samplePlan() *File {
	in := func(prompt, style string) state.Inputs {
		return state.Inputs{Prompt: prompt, Style: style, AspectRatio: "16:9", Seed: 42}
	}
	changes := []planner.Change{
		{Addr: addrs.Addr{Name: "hero"}, Action: planner.Replace, Reasons: []string{"prompt changed"},
			Inputs: in("a silver fox", "flux-dev"), Path: "images/hero.png",
			Prior: priorEntry("a red fox", "images/hero.png"), PriorAddr: addrs.MustParse("image.hero"), Requests: 1, Credits: 15, CreditsKnown: true},
		{Addr: addrs.Addr{Name: "icon", Kind: addrs.StringKey, Key: "home"}, Action: planner.Create,
			Inputs: in("a house", "sdxl-1.0"), SeedChosen: true, Path: "assets/icons/home.png", Requests: 1},
		{Addr: addrs.Addr{Name: "logo"}, Action: planner.Move, Reasons: []string{"path changed"},
			Inputs: in("a logo", "flux-dev"), Path: "brand/logo.png",
			Prior: priorEntry("a logo", "images/logo.png"), PriorAddr: addrs.MustParse("image.logo")},
		{Addr: addrs.Addr{Name: "old"}, Action: planner.Delete, Path: "images/old.png",
			Prior: priorEntry("old", "images/old.png"), PriorAddr: addrs.MustParse("image.old")},
		{Addr: addrs.Addr{Name: "same", Kind: addrs.IntKey, Index: 3}, Action: planner.NoOp,
			Inputs: in("same", "imagine-turbo"), Path: "images/same-3.png",
			Prior: priorEntry("same", "images/same-3.png"), PriorAddr: addrs.MustParse("image.same[3]")},
		{Addr: addrs.Addr{Name: "cached"}, Action: planner.Create, Inputs: in("cached", "anime"),
			Path: "images/cached.png", FromCache: true, Reasons: []string{"restored from the local cache, no request"}},
	}
	return &File{
		PixformVersion: "test", ConfigDigest: hexA, LockDigest: strings.Repeat("c", 64),
		Vars: []string{"theme=dusk"}, VarFiles: []string{"prod.vars"},
		Plan: &planner.Plan{Provider: providers.Imagine, Changes: changes, Summary: planner.Summarize(changes)},
	}
}

func sampleBytes(t testing.TB) []byte {
	b, err := Marshal(samplePlan())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// asFormat1 is the plan file b labelled format 1 (before "forced"), as an older pixform wrote it.
func asFormat1(b []byte) []byte {
	return bytes.Replace(b, []byte(`"pixform_plan_format": 2`), []byte(`"pixform_plan_format": 1`), 1)
}

func TestRoundTrip(t *testing.T) {
	want := samplePlan()
	b := sampleBytes(t)
	got, err := Parse(b, "plan.bin")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got.Plan, want.Plan)
	}
	if got.Plan.Summary.Requests != 2 || got.Plan.Summary.Credits != 15 || got.Plan.Summary.UnpricedRequests != 1 {
		t.Errorf("summary %+v", got.Plan.Summary)
	}
}

// TestParseRefuses edits a valid plan file one way at a time; every edit
// must be refused with a message that says what is wrong.
func TestParseRefuses(t *testing.T) {
	valid := string(sampleBytes(t))
	tests := map[string]struct {
		data func() string
		want string
	}{
		"empty":          {func() string { return "" }, "it is empty"},
		"blank":          {func() string { return " \n\t" }, "it is empty"},
		"binary":         {func() string { return "\x89PNG\r\n\x1a\n" }, "it is not JSON"},
		"hcl":            {func() string { return "image \"x\" {}\n" }, "it is not JSON"},
		"lockfile":       {func() string { return string(state.NewLock().Marshal()) }, "it is a lockfile, not a plan"},
		"truncated":      {func() string { return valid[:len(valid)/2] }, "it ends too early (truncated?)"},
		"truncated at 1": {func() string { return "{" }, "it ends too early (truncated?)"},
		"trailing data":  {func() string { return valid + "{}" }, "data after the plan object"},
		"unknown field":  {func() string { return strings.Replace(valid, `"vars"`, `"varz"`, 1) }, `unknown field "varz"`},
		"wrong type": {func() string {
			return strings.Replace(valid, `"pixform_plan_format": 2`, `"pixform_plan_format": "2"`, 1)
		}, `"pixform_plan_format" has the wrong type`},
		"newer format": {func() string {
			return strings.Replace(valid, `"pixform_plan_format": 2`, `"pixform_plan_format": 3`, 1)
		}, "format 3, this pixform reads formats 1 and 2"},
		"no format":             {func() string { return strings.Replace(valid, `"pixform_plan_format": 2,`, ``, 1) }, "format 0"},
		"provider":              {func() string { return strings.Replace(valid, `"provider": "imagine"`, `"provider": "dalle"`, 1) }, `unknown provider "dalle"`},
		"config digest":         {func() string { return strings.Replace(valid, hexA, hexA[1:], 1) }, "missing or malformed digests"},
		"upper-case digest":     {func() string { return strings.Replace(valid, hexA, strings.ToUpper(hexA), 1) }, "missing or malformed digests"},
		"address":               {func() string { return strings.Replace(valid, `"address": "image.hero"`, `"address": "image.he ro"`, 1) }, "invalid image address"},
		"address not canonical": {func() string { return strings.Replace(valid, `"address": "image.hero"`, `"address": "hero"`, 1) }, "not in canonical form"},
		"duplicate address":     {func() string { return strings.Replace(valid, `"address": "image.logo"`, `"address": "image.hero"`, 1) }, "image.hero appears twice"},
		"action":                {func() string { return strings.Replace(valid, `"action": "move"`, `"action": "teleport"`, 1) }, `unknown action "teleport"`},
		"path escapes":          {func() string { return strings.Replace(valid, `"path": "images/hero.png"`, `"path": "../hero.png"`, 1) }, `unsafe path: path "../hero.png" leads outside`},
		"absolute path":         {func() string { return strings.Replace(valid, `"path": "brand/logo.png"`, `"path": "/etc/passwd"`, 1) }, `unsafe path: path "/etc/passwd" is absolute`},
		"unclean path": {func() string {
			return strings.Replace(valid, `"path": "brand/logo.png"`, `"path": "brand//logo.png"`, 1)
		}, "unsafe path"},
		"lockfile path": {func() string {
			return strings.Replace(valid, `"path": "brand/logo.png"`, `"path": "pixform.lock.json"`, 1)
		}, "one of pixform's own files"},
		"work dir path": {func() string {
			return strings.Replace(valid, `"path": "brand/logo.png"`, `"path": ".pixform/cache/x.png"`, 1)
		}, "one of pixform's own files"},
		"prior path escapes":   {func() string { return strings.Replace(valid, `"path": "images/logo.png"`, `"path": "../logo.png"`, 1) }, "prior entry"},
		"no prompt":            {func() string { return strings.Replace(valid, `"prompt": "a house"`, `"prompt": ""`, 1) }, "incomplete inputs"},
		"seed zero":            {func() string { return strings.Replace(valid, `"seed": 42`, `"seed": 0`, 1) }, "seed 0 is outside"},
		"seed too big":         {func() string { return strings.Replace(valid, `"seed": 42`, `"seed": 4294967296`, 1) }, "seed 4294967296 is outside"},
		"style":                {func() string { return strings.Replace(valid, `"style": "anime"`, `"style": "oil"`, 1) }, `unknown style "oil"`},
		"aspect ratio":         {func() string { return strings.Replace(valid, `"aspect_ratio": "16:9"`, `"aspect_ratio": "2:1"`, 1) }, `unknown aspect ratio "2:1"`},
		"move without prior":   {func() string { return cutPrior(valid, "image.logo") }, "a move without a prior entry"},
		"delete without prior": {func() string { return cutPrior(valid, "image.old") }, "a delete without a prior entry"},
		"create with prior": {func() string {
			return strings.Replace(valid, `"action": "replace"`, `"action": "create"`, 1)
		}, "a create with a prior entry"},
		"delete elsewhere": {func() string {
			return strings.Replace(valid, `"path": "images/old.png"`, `"path": "images/hero2.png"`, 1)
		}, "a delete of another address or path"},
		"prior address": {func() string {
			return strings.Replace(valid, `"prior_address": "image.logo"`, `"prior_address": ""`, 1)
		}, "prior entry"},
		"bad prior":        {func() string { return strings.Replace(valid, `"bytes": 100`, `"bytes": -1`, 1) }, "prior entry: bytes -1"},
		"requests hidden":  {func() string { return strings.Replace(valid, `"requests": 1`, `"requests": 0`, 1) }, "do not match the plan"},
		"credits lowered":  {func() string { return strings.Replace(valid, `"credits": 15`, `"credits": 1`, 1) }, "do not match the plan"},
		"requests doubled": {func() string { return strings.Replace(valid, `"requests": 1`, `"requests": 2`, 1) }, "do not match the plan"},
		"occupied on a delete": {func() string {
			return setField(valid, "image.old", `"from_cache": false`, `"from_cache": false, "occupied": true`)
		}, "a delete writes no path"},
		"cache on a delete": {func() string { return setField(valid, "image.old", `"from_cache": false`, `"from_cache": true`) }, "cannot be restored from the cache"},
		"forced move": {func() string {
			return setField(valid, "image.logo", `"from_cache": false`, `"from_cache": false, "forced": true`)
		}, "a move renders nothing that could be forced"},
		"forced restore": {func() string {
			return setField(valid, "image.cached", `"from_cache": true`, `"from_cache": true, "forced": true`)
		}, "a forced render (-replace, -no-cache) cannot be restored"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			data := tt.data()
			if data == valid {
				t.Fatal("the edit changed nothing")
			}
			_, err := Parse([]byte(data), "plan.bin")
			if err == nil {
				t.Fatalf("accepted:\n%s", data)
			}
			msg := err.Error()
			// A file that is not a plan at all is not one to suggest
			// writing a plan over: it may be the user's.
			hint := "make a new one with `pixform plan -out=plan.bin`"
			switch name {
			case "empty", "blank", "binary", "hcl", "lockfile":
				hint = "make one with `pixform plan -out=FILE` (a new file) and apply that"
			}
			if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "plan.bin is not a valid pixform plan file: ") ||
				!strings.HasSuffix(msg, hint) {
				t.Errorf("error %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

// changeSpan returns the start and end of the change object for addr.
func changeSpan(s, addr string) (int, int) {
	i := strings.Index(s, `"address": "`+addr+`"`)
	j := strings.Index(s[i:], `"credits_known"`)
	return i, i + j
}

func cutPrior(s, addr string) string {
	i, j := changeSpan(s, addr)
	c := s[i:j]
	p := strings.Index(c, `"prior": {`)
	q := strings.Index(c, `"prior_address"`)
	c = c[:p] + `"prior": null,` + "\n" + c[q:]
	c = strings.Replace(c, `"prior_address": "`+addr+`"`, `"prior_address": ""`, 1)
	return s[:i] + c + s[j:]
}

func setField(s, addr, old, repl string) string {
	i, j := changeSpan(s, addr)
	return s[:i] + strings.Replace(s[i:j], old, repl, 1) + s[j:]
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "plan.bin")
	if err := Write(good, samplePlan()); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		name string
		want string
	}{
		"good":      {good, ""},
		"missing":   {filepath.Join(dir, "nope.bin"), "does not exist: make one with `pixform plan -out="},
		"directory": {dir, "is not a regular file"},
		// A device is not read without end, a named pipe not waited on.
		"device":     {"/dev/zero", "is not a regular file"},
		"named pipe": {fifo(t, dir), "is not a regular file"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := Read(tt.name, tt.name)
			if tt.want == "" {
				if err != nil || !reflect.DeepEqual(f, samplePlan()) {
					t.Fatalf("Read: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("Write left %d files, want only the plan (and the test's named pipe)", len(ents))
	}
}

// FuzzParse: Parse never panics, and whatever it accepts re-marshals to
// bytes that parse to the same plan and marshal to the same bytes.
func FuzzParse(f *testing.F) {
	valid := sampleBytes(f)
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(""))
	f.Add(state.NewLock().Marshal())
	f.Add(bytes.Replace(valid, []byte(`"seed": 42`), []byte(`"seed": 1e3`), 1))
	f.Add(bytes.Replace(valid, []byte(`"reasons": [`), []byte(`"reasons": null, "x": [`), 1))
	draft := samplePlan()
	draft.Plan.Provider = providers.Draft
	for i := range draft.Plan.Changes {
		c := &draft.Plan.Changes[i]
		c.Requests, c.Credits, c.CreditsKnown = 0, 0, false
	}
	db, err := Marshal(draft)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(db)
	// A forced render, and a plan file of format 1 (read with what it
	// requests forced).
	forced := samplePlan()
	forced.Plan.Changes[0].Forced = true
	fb, err := Marshal(forced)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fb)
	f.Add(asFormat1(valid))
	f.Add(bytes.Replace(fb, []byte(`"forced": true`), []byte(`"forced": 1`), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		p1, err := Parse(b, "fuzz.bin")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.bin is not a valid pixform plan file: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		m1, err := Marshal(p1)
		if err != nil {
			t.Fatalf("Marshal of an accepted plan: %v", err)
		}
		p2, err := Parse(m1, "fuzz.bin")
		if err != nil {
			t.Fatalf("re-marshalled plan refused: %v\n%s", err, m1)
		}
		// A format 1 file is written again in the current format, whose
		// seeds are drawn: the one difference a round trip may make.
		p1.randomSeeds = false
		if !reflect.DeepEqual(p1, p2) {
			t.Fatalf("round trip changed the plan:\n%+v\n%+v", p1, p2)
		}
		m2, err := Marshal(p2)
		if err != nil || !bytes.Equal(m1, m2) {
			t.Fatalf("marshal is not stable (%v):\n%s\n%s", err, m1, m2)
		}
	})
}

// TestForced: a forced render (-replace, -no-cache) is written as such
// and read back; a plan file of format 1, which did not say, is read with
// every render it requests forced, as pixform applied it then (it may
// have been made with -no-cache), and nothing else forced.
func TestForced(t *testing.T) {
	f := samplePlan()
	f.Plan.Changes[0].Forced = true // image.hero, a replace with a request
	b, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(`"forced": true`)); n != 1 {
		t.Fatalf(`%d "forced": true in the plan file, want 1:\n%s`, n, b)
	}
	if bytes.Contains(b, []byte(`"forced": false`)) {
		t.Fatalf("a change that is not forced says so:\n%s", b)
	}
	got, err := Parse(b, "plan.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Fatalf("round trip changed the plan:\n%+v\n%+v", got, f)
	}

	old := asFormat1(sampleBytes(t))
	got, err = Parse(old, "plan.bin")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"image.hero": true, `image.icon["home"]`: true}
	for _, c := range got.Plan.Changes {
		if c.Forced != want[c.Addr.String()] {
			t.Errorf("format 1: %s (%s, from cache %v): forced %v, want %v", c.Addr, c.Action, c.FromCache, c.Forced, want[c.Addr.String()])
		}
	}
	// An image made from another the plan renders was restored from the
	// cache when the cache held it, by pixform then too: not forced.
	db, err := Marshal(derivedPlan(2, true))
	if err != nil {
		t.Fatal(err)
	}
	got, err = Parse(asFormat1(db), "plan.bin")
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]bool{"image.hero": true}
	for _, c := range got.Plan.Changes {
		if c.Forced != want[c.Addr.String()] {
			t.Errorf("format 1: %s (after apply %q): forced %v, want %v", c.Addr, c.AfterApply, c.Forced, want[c.Addr.String()])
		}
	}
}

// A format 1 file drew a created image's seed at random: Check takes it
// as it is; a later format's must be planner.DrawnSeed's (check_test.go).
func TestFormat1RandomSeeds(t *testing.T) {
	old := asFormat1(sampleBytes(t))
	for name, b := range map[string][]byte{"format 1": old, "format 2": sampleBytes(t)} {
		f, err := Parse(b, "plan.bin")
		if err != nil {
			t.Fatal(err)
		}
		if want := name == "format 1"; f.randomSeeds != want {
			t.Errorf("%s: randomSeeds %v, want %v", name, f.randomSeeds, want)
		}
	}
}

// A candidates image restored from the image store keeps which takes
// apply restores by the object its entry records (StoreTakes): the plan
// file round-trips them, a plan file without them (an older pixform's)
// is read, and takes that are not the entry's are refused.
func TestStoreTakes(t *testing.T) {
	in := state.Inputs{Prompt: "a lighthouse", Style: "imagine-turbo", AspectRatio: "1:1", Seed: 7, Candidates: 3}
	prior := priorEntry("a lighthouse", "images/hero.png")
	prior.Inputs = in
	for i, seed := range in.TakeSeeds() {
		prior.Takes = append(prior.Takes, state.Take{Seed: seed, SHA256: strings.Repeat(string(rune('d'+i)), 64), Bytes: 100})
	}
	prior.SHA256 = prior.Takes[0].SHA256
	f := samplePlan()
	changes := []planner.Change{{Addr: addrs.Addr{Name: "hero"}, Action: planner.Replace, Reasons: []string{"file missing on disk"},
		Inputs: in, Path: "images/hero.png", Prior: prior, PriorAddr: addrs.MustParse("image.hero"),
		FromStore: true, StoreSHA256: prior.SHA256, StoreTakes: []string{prior.Takes[0].SHA256, "", prior.Takes[2].SHA256}}}
	f.Plan = &planner.Plan{Provider: providers.Imagine, Changes: changes, Summary: planner.Summarize(changes)}
	b, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b, "plan.bin")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !reflect.DeepEqual(got.Plan.Changes[0].StoreTakes, changes[0].StoreTakes) {
		t.Errorf("store takes %q, want %q", got.Plan.Changes[0].StoreTakes, changes[0].StoreTakes)
	}
	valid := string(b)
	k := strings.Index(valid, `"store_takes": [`)
	i := strings.LastIndex(valid[:k], ",")
	j := k + strings.Index(valid[k:], "]") + 1
	older := valid[:i] + valid[j:]
	if strings.Contains(older, "store_takes") {
		t.Fatalf("the edit left store_takes:\n%s", older)
	}
	if got, err := Parse([]byte(older), "plan.bin"); err != nil {
		t.Errorf("a plan file without store_takes: %v\n%s", err, older)
	} else if got.Plan.Changes[0].StoreTakes != nil {
		t.Errorf("store takes %q, want none", got.Plan.Changes[0].StoreTakes)
	}
	for name, tc := range map[string]struct{ data, want string }{
		"another object": {strings.Replace(valid, `"`+prior.Takes[2].SHA256+`"`+"\n", `"`+strings.Repeat("9", 64)+`"`+"\n", 1), "not the takes its prior entry records"},
		"too few takes":  {strings.Replace(valid, `"",`, ``, 1), "not the takes its prior entry records"},
		// Takes by hash go with a change that renders the others too,
		// which then counts their requests.
		"not from store": {strings.Replace(strings.Replace(valid, `"from_store": true,`, ``, 1), `"store_sha256": "`+prior.SHA256+`",`, ``, 1), "do not match the plan"},
		// Takes by hash are the entry's only for its own inputs.
		"other inputs": {strings.Replace(valid, `"seed": 7,`, `"seed": 8,`, 1), "not the takes its prior entry records"},
	} {
		if tc.data == valid {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if _, err := Parse([]byte(tc.data), "plan.bin"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
}
