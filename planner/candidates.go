package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// candidatesOf is the Inputs.Candidates of img: its candidates when more
// than one, else 0 (one render records none).
func candidatesOf(img *config.Image) int {
	if img.Candidates > 1 {
		return img.Candidates
	}
	return 0
}

// priceTakes prices a candidates image: one request for each take that
// the content cache does not hold under its own inputs (every take when
// forced), and says so in a reason. The change is from the cache when
// every take is. restorable, when not "", is the sha256 the entry records
// of an image whose inputs, provider and seeds are unchanged (its file
// alone drifted, or it moved): each take the store holds is then
// restored by the sha256 the entry records, as a single image is.
// putBackOf, when not "", is restorable of an image at its own path and
// address: the change is then a put-back (PutBack) when every take
// restored is the one the entry records.
func (p *planning) priceTakes(c *Change, restorable, putBackOf string) {
	seeds := c.Inputs.TakeSeeds()
	// fromStore says a take may be restored from the image store.
	fromStore := !c.Forced && c.AfterApply == ""
	missing, stored, sum := 0, 0, ""
	// recorded says the entry's takes are these: each is restored by its
	// recorded sha256 when the store holds it.
	recorded := restorable != "" && sameTakeSeeds(c.Prior.Takes, seeds)
	// sums are the hashes of the takes restored, kept for a put-back
	// only.
	var sums []string
	if putBackOf != "" && recorded {
		sums = make([]string, len(seeds))
	}
	// byHash says the take at the path is restored from the store by its
	// recorded sha256.
	byHash := false
	// lacked are the takes (1-based) recorded that the store lacks.
	var lacked []int
	// byObject are the takes restored by their recorded sha256
	// (StoreTakes).
	var byObject []string
	// took is the object the store records for the take asked last.
	var took string
	for i, seed := range seeds {
		d := c.Inputs.Take(seed).Digest()
		switch {
		case !c.Forced && p.in.Cached != nil && p.in.Cached(d, p.in.Provider):
			if sums != nil && p.in.CachedSHA256 != nil {
				sums[i], _ = p.in.CachedSHA256(d, p.in.Provider)
			}
		case recorded && fromStore && p.in.InStore != nil && p.in.InStore(c.Prior.Takes[i].SHA256):
			// The store holds the take the entry records: it is
			// restored by that sha256, as a single image is, and the
			// store's record of the take's inputs is not asked (it
			// names the first render anyone pushed, an equally valid
			// one; see price). storesync's Cache fetches it so
			// (RecordedTakeInStore).
			stored++
			t := c.Prior.Takes[i].SHA256
			if byObject == nil {
				byObject = make([]string, len(seeds))
			}
			byObject[i] = t
			if sums != nil {
				sums[i] = t
			}
			if t == c.Prior.SHA256 {
				byHash = true
			}
			if sum == "" {
				sum = t
			}
		case fromStore && p.in.Stored != nil && storedTake(p.in.Stored, d, p.in.Provider, &took, &sum):
			stored++
			if sums != nil {
				sums[i] = took
			}
		default:
			missing++
			if recorded && fromStore && p.in.InStore != nil && !p.in.StoreUnread {
				// A recorded take of an image whose inputs are
				// unchanged that the store lacks (asked above): pushed
				// from a clone that has it, it would be restored with
				// no request.
				lacked = append(lacked, i+1)
			}
		}
	}
	cost := ""
	switch {
	case missing == 0 && stored > 0:
		// StoreSHA256 names the take the store holds that the entry
		// records at its path (by its sha256 for a put-back), else the
		// first; the executor restores each take under its own inputs.
		c.FromStore = true
		c.StoreTakes = byObject
		if byHash {
			c.StoreSHA256 = c.Prior.SHA256
		} else {
			c.StoreSHA256 = p.priorTakeStored(c, sum)
		}
		c.Reasons = append(c.Reasons, fmt.Sprintf("%d candidates of %s, every take restored from the image store, no request", len(seeds), c.Addr))
		p.judgeTakesPutBack(c, sums)
		return
	case missing == 0:
		c.FromCache = true
		c.Reasons = append(c.Reasons, fmt.Sprintf("%d candidates of %s, every take restored from the local cache, no request", len(seeds), c.Addr))
		p.judgeTakesPutBack(c, sums)
		return
	}
	// The takes restored by their recorded sha256 go with a change that
	// renders the others too: apply restores exactly those.
	c.StoreTakes = byObject
	switch {
	case p.in.Provider != providers.Imagine:
		cost = "rendered offline"
	default:
		c.Requests = missing
		price, known := Price(c.Inputs.Style)
		c.CreditsKnown = known
		c.Credits = price * missing
		cost = plural(missing, "request") + ", " + plural(c.Credits, "credit")
		if !known {
			cost = plural(missing, "request") + ", unpriced"
		}
		if cached := len(seeds) - missing - stored; cached > 0 {
			cost += fmt.Sprintf("; %d from the local cache", cached)
		}
		if stored > 0 {
			cost += fmt.Sprintf("; %d from the image store", stored)
		}
	}
	c.Reasons = append(c.Reasons, fmt.Sprintf("%d candidates of %s (%s)", len(seeds), c.Addr, cost))
	if len(lacked) > 0 {
		c.StoreLacks = true
		takes, them := "take "+strconv.Itoa(lacked[0]), "it"
		if len(lacked) > 1 {
			nums := make([]string, len(lacked))
			for i, n := range lacked {
				nums[i] = strconv.Itoa(n)
			}
			takes, them = "takes "+strings.Join(nums, ", "), "them"
		}
		c.Reasons = append(c.Reasons, fmt.Sprintf("%s of %s: run `pixform push` in a clone that has the takes of %s; apply would render %s anew",
			storeLacksRecorded, takes, c.Addr, them))
	}
}

// judgeTakesPutBack judges c, a candidates image whose file alone
// drifted and whose every take is restored with no request, the takes
// restored hashing to sums (nil: no put-back): a put-back when each is
// the take its entry records; else each take that the local cache holds
// another render of is named as a sign of a mixed entry, and each that
// the store lacks (restored from its record of the take's inputs) is
// said so, with what to do.
func (p *planning) judgeTakesPutBack(c *Change, sums []string) {
	if sums == nil {
		return
	}
	put := true
	for i, s := range sums {
		t := c.Prior.Takes[i]
		if s == t.SHA256 {
			continue
		}
		put = false
		if s == "" {
			continue
		}
		if p.in.Cached != nil && p.in.Cached(c.Inputs.Take(t.Seed).Digest(), p.in.Provider) {
			c.Reasons = append(c.Reasons, divergedReason(c, "the local cache", i+1, t.SHA256, s))
			continue
		}
		// Restored from the store's record of the take's inputs: the
		// store lacks the take the entry records (else it is put back
		// by its sha256), and its record names another render, as
		// valid (see price).
		c.StoreLacks = true
		c.Reasons = append(c.Reasons, fmt.Sprintf("%s of take %d (sha256 %s), and holds another render of its inputs (sha256 %s): run `pixform push` in a clone that has the takes of %s, or apply takes that render",
			storeLacksRecorded, i+1, shortSum(t.SHA256), shortSum(s), c.Addr))
	}
	c.PutBack = put
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// priorSeed is the seed that an image whose configuration leaves the seed
// out keeps from its entry: the recorded one, except that an image that
// drops its candidates keeps the take someone picked.
func priorSeed(prior state.Entry, want state.Inputs) int64 {
	if want.Candidates == 0 && prior.Picked > 0 && prior.Picked <= len(prior.Takes) {
		return prior.Takes[prior.Picked-1].Seed
	}
	return prior.Inputs.Seed
}

// placedTakeSHA256 returns the hash of the take that apply will place at
// the path of c, a candidates image that is restored with no request
// (every take from the local cache or the image store), so that an image
// made from it knows its source's bytes before apply and is restored too
// when the cache or the store holds its render. The take is the one apply
// places (PlacedTake): the entry's pick when its takes are these,
// else the pick the local cache remembers for these inputs, else the
// first; its bytes are the local cache's copy when the cache holds it
// intact, else the store's object, as apply restores each take. Were apply
// to place other bytes (the cache lost its copy since), the image made
// from it is not restored with the wrong source: apply sees the hash
// change and restores only what its new inputs name.
func (p *planning) placedTakeSHA256(c *Change) (string, bool) {
	if !c.FromCache && !c.FromStore {
		return "", false
	}
	in := p.in
	seeds := c.Inputs.TakeSeeds()
	if len(seeds) == 0 {
		return "", false
	}
	at, _ := p.placedTake(c, seeds)
	d := c.Inputs.Take(seeds[at-1]).Digest()
	if in.Cached != nil && in.CachedSHA256 != nil && in.Cached(d, in.Provider) {
		return in.CachedSHA256(d, in.Provider)
	}
	if c.FromStore && in.InStore != nil {
		if sum, ok := RecordedTakeInStore(c, in.Provider, at, in.InStore); ok {
			return sum, true
		}
	}
	if c.FromStore && in.Stored != nil {
		return in.Stored(d, in.Provider)
	}
	return "", false
}

// RecordedTakeInStore returns the sha256 that c's entry records for take
// n (1-based) of c, a candidates image restored from the image store,
// when the store holds that object (inStore) and the entry's takes are
// c's (same inputs, provider, format and seeds; at its path or another,
// as restorable judges a single image): apply then restores the take by
// that sha256, as the plan did, not by the store's record
// of the take's inputs (which names the first render anyone pushed, an
// equally valid one). ok false: by the record. A change whose
// StoreTakes the plan set is answered by them alone; inStore is asked of
// a plan file that does not keep them (an older pixform's).
func RecordedTakeInStore(c *Change, provider string, n int, inStore func(sha256 string) bool) (string, bool) {
	if !RestoresRecordedTakes(c, provider) {
		return "", false
	}
	if c.StoreTakes != nil {
		// The plan decided (a plan made now, or a plan file that keeps
		// the decision): exactly those objects, also of a change that
		// renders its other takes.
		if n < 1 || n > len(c.StoreTakes) || c.StoreTakes[n-1] == "" {
			return "", false
		}
		return c.StoreTakes[n-1], true
	}
	if !c.FromStore || n < 1 || n > len(c.Prior.Takes) {
		return "", false
	}
	sum := c.Prior.Takes[n-1].SHA256
	return sum, sum != "" && inStore(sum)
}

// RestoresRecordedTakes reports whether the takes c's entry records are
// c's own, so that a take may be restored by the sha256 recorded for it:
// a Replace of a candidates image whose prior entry has c's inputs and
// provider, a path of the same format, and the same take seeds. A plan
// file's StoreTakes are refused on any other change (an edited plan file
// would record the old takes under new inputs).
func RestoresRecordedTakes(c *Change, provider string) bool {
	pr := c.Prior
	return pr != nil && c.Action == Replace && c.Inputs.Candidates > 1 && pr.Inputs == c.Inputs && pr.Provider == provider &&
		sameFormat(pr.Path, c.Path) && sameTakeSeeds(pr.Takes, c.Inputs.TakeSeeds())
}

// sameFormat reports whether a path of to holds the format of a path of
// from, as a replace judges it (a format change converts the bytes).
func sameFormat(from, to string) bool {
	f, t := mediaTypeOf(from), mediaTypeOf(to)
	return f == t || f == "" || t == ""
}

// placedTake is PlacedTake of c's takes seeds, the content cache asked
// as apply asks it.
func (p *planning) placedTake(c *Change, seeds []int64) (int, bool) {
	var cached func(digest string) (string, bool)
	if p.in.CachedSHA256 != nil {
		cached = func(d string) (string, bool) { return p.in.CachedSHA256(d, p.in.Provider) }
	}
	return PlacedTake(c, seeds, cached)
}

// PlacedTake returns the take that apply places at the path of c, a
// candidates image with takes seeds (1-based), and whether it is a pick
// rather than the first by default: the entry's pick when its takes are
// these, else the pick the local cache remembers for these inputs (cached
// gives the hash the cache holds for a digest; nil: no cache), else the
// first. Planning and apply both place by this rule.
func PlacedTake(c *Change, seeds []int64, cached func(digest string) (string, bool)) (int, bool) {
	if pr := c.Prior; pr != nil && pr.Picked > 0 && pr.Inputs == c.Inputs && sameTakeSeeds(pr.Takes, seeds) {
		return pr.Picked, true
	}
	if cached == nil {
		return 1, false
	}
	pick, ok := cached(c.Inputs.PickKey())
	if !ok {
		return 1, false
	}
	for i, seed := range seeds {
		if sum, ok := cached(c.Inputs.Take(seed).Digest()); ok && sum == pick {
			return i + 1, true
		}
	}
	return 1, false
}

// sameTakeSeeds reports whether takes are those of seeds, in order.
func sameTakeSeeds(takes []state.Take, seeds []int64) bool {
	if len(takes) != len(seeds) {
		return false
	}
	for i, t := range takes {
		if t.Seed != seeds[i] {
			return false
		}
	}
	return true
}

// PriorSeed is priorSeed, for a saved plan's check.
func PriorSeed(prior state.Entry, want state.Inputs) int64 { return priorSeed(prior, want) }

// storedTake reports whether the image store holds a render of the take
// with inputs digest d, sets *took to its object, and *first too if
// *first is "".
func storedTake(stored func(digest, provider string) (string, bool), d, provider string, took, first *string) bool {
	sum, ok := stored(d, provider)
	*took = sum
	if ok && *first == "" {
		*first = sum
	}
	return ok
}

// priorTakeStored is the sum of the take c's entry records at its path
// when the store holds it under the same inputs, else first.
func (p *planning) priorTakeStored(c *Change, first string) string {
	pr := c.Prior
	if pr == nil || pr.Inputs != c.Inputs || p.in.Stored == nil {
		return first
	}
	for _, t := range pr.Takes {
		if t.SHA256 != pr.SHA256 {
			continue
		}
		if sum, ok := p.in.Stored(c.Inputs.Take(t.Seed).Digest(), p.in.Provider); ok && sum == pr.SHA256 {
			return sum
		}
	}
	return first
}

// takesToUpload reports whether the store lacks a take of prior.
func takesToUpload(prior state.Entry, inStore func(string) bool) bool {
	for _, t := range prior.Takes {
		if !inStore(t.SHA256) {
			return true
		}
	}
	return false
}
