package views

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/imagine"
	"github.com/pixform/pixform/state"
)

// ApplyHint adds to err, the error of an apply that did not finish as the
// executor states it, what the user does next: every apply's next step is
// worded here, and only here. dir is the working directory.
func ApplyHint(err error, res *executor.Result, dir string) error {
	if err == nil {
		return nil
	}
	var le *executor.LocalError
	if errors.As(err, new(*state.RecordError)) {
		// The images of the failed write, and of any commit after it,
		// are on disk but not recorded.
		fix := diskRemedy(dir, err)
		if fix == "" {
			fix = "fix what stopped the write"
		}
		return WithHint(err, "images that finished since the lockfile was last written are on disk but not recorded in it; "+fix+", then run apply again to record them")
	}
	var ul *state.UnwritableLockError
	if errors.As(err, &ul) {
		// Checked before the first request: nothing was done.
		fix := diskRemedy(filepath.Dir(ul.Path), ul)
		if fix == "" {
			fix = "make " + filepath.Dir(ul.Path) + " writable"
		}
		return WithHint(err, fix+", then run apply again")
	}
	before, after := "", " to continue"
	switch {
	case errors.As(err, &le):
		before, after = localRemedy(filepath.Join(dir, filepath.FromSlash(path.Dir(le.Path))), le)+", then ", ""
	case errors.Is(err, imagine.ErrToken):
		before = "set IMAGINE_API_TOKEN to a valid token, then "
	case errors.Is(err, imagine.ErrNoCredits):
		before = "top up your Imagine account, then "
	case errors.Is(err, executor.ErrThrottledOut):
		before, after = "wait a while (the Imagine API is rate-limiting this token), then ", ""
	case res != nil && res.Stopped == nil && res.Failed > 0:
		after = " to retry the rest"
	}
	hints := []string{"every image that finished is on disk and recorded in " + state.LockFileName + "; " + before + "run apply again" + after}
	if res != nil {
		hints = append(hints, paidRefusedHints(res.Failures)...)
	}
	return WithHint(err, hints...)
}

// paidRefusal is what to say of an image that the server made and sent
// whole, and that pixform refused: why, and what to change before an
// apply asks for it again.
type paidRefusal struct{ why, change string }

// paidRefusals word each bound of executor.ImageBounds; an answer refused
// for no bound of them was larger than max_image_bytes (the only other
// refusal that is paid for).
var paidRefusals = map[string]paidRefusal{
	executor.BoundAspectRatio: {"not at the aspect ratio requested", "give {it} another aspect_ratio or style in {its} image block first"},
	executor.BoundMaxPixels:   {"more pixels than max_image_pixels", "raise max_image_pixels in the provider block first, if the API really makes images that large"},
	executor.BoundMinSide:     {"smaller than the API makes", "give {it} another style in {its} image block first"},
	"":                        {"larger than max_image_bytes", "raise max_image_bytes in the provider block first, if the API really makes images that large"},
}

// paidRefusedHints says, of the failures whose image the server made and
// sent whole (paid for) and pixform refused, that the next apply requests
// and pays for them again, and what to change first: one hint for each
// reason, in the order the failures come.
func paidRefusedHints(failures []executor.Failure) []string {
	var order []string
	var names map[string][]string
	for _, f := range failures {
		var pe *executor.Error
		if !errors.As(f.Err, &pe) || !pe.Paid {
			continue
		}
		bound := ""
		if be := (*executor.BoundsError)(nil); errors.As(f.Err, &be) {
			bound = be.Bound
		}
		if _, ok := paidRefusals[bound]; !ok {
			bound = ""
		}
		if names == nil {
			names = map[string][]string{}
		}
		if names[bound] == nil {
			order = append(order, bound)
		}
		names[bound] = append(names[bound], f.Addr.String())
	}
	var hints []string
	for _, bound := range order {
		r, list := paidRefusals[bound], names[bound]
		it, its, was, image, request := "it", "its", "it was", "image", "request"
		if len(list) > 1 {
			it, its, was, image, request = "them", "their", "they were", "images", "requests"
		}
		change := strings.NewReplacer("{it}", it, "{its}", its).Replace(r.change)
		hints = append(hints, fmt.Sprintf("the Imagine API made %s and %s paid for, but pixform refused %s (%s): the next apply requests %s again, and pays for %s again, and the API makes the same %s for the same %s; %s",
			nameList(list), was, it, r.why, it, it, image, request, change))
	}
	return hints
}

// maxNamed is how many addresses a hint names before "and N more".
const maxNamed = 3

// nameList joins addresses for a sentence: "image.a", "image.a and
// image.b", "image.a, image.b, image.c and 2 more".
func nameList(list []string) string {
	switch {
	case len(list) == 1:
		return list[0]
	case len(list) > maxNamed:
		return strings.Join(list[:maxNamed], ", ") + fmt.Sprintf(" and %d more", len(list)-maxNamed)
	}
	return strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1]
}

// localRemedy says how to let the local disk take an image again.
func localRemedy(dir string, le *executor.LocalError) string {
	if r := diskRemedy(dir, le); r != "" {
		return r
	}
	return "fix the problem with " + dir
}

// diskRemedy says how to let the disk that holds dir take a file again
// after err, or "" when err is none of the failures it knows.
func diskRemedy(dir string, err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "free some space on the disk that holds " + dir
	case errors.Is(err, syscall.EROFS):
		return dir + " is on a read-only file system: make it writable"
	case errors.Is(err, fs.ErrPermission):
		return "make " + dir + " writable"
	case errors.Is(err, syscall.EFBIG):
		return "raise the file size limit (ulimit -f) or use a file system that takes files this large"
	}
	return ""
}

// PathClash is images that a lockfile merge left recording one path,
// none of them changed differently on the two sides: Whence says, for
// each, what happened to it ("added in ours", "changed in theirs").
type PathClash struct {
	Path   string
	Addrs  []addrs.Addr
	Whence []string
}

// WriteMergeConflicts says which images `pixform lock merge` left marked
// in the lockfile, and how to resolve them: those changed on both sides
// (changed), and those that each record a path another records (clashes).
func WriteMergeConflicts(w io.Writer, changed []addrs.Addr, clashes []PathClash, color bool) {
	pal := palette{color}
	if len(changed) > 0 {
		fmt.Fprintf(w, "pixform: lockfile conflict: %s changed on both sides:\n", Plural(len(changed), "image"))
		for _, c := range changed {
			fmt.Fprintf(w, "  %s\n", c)
		}
		fmt.Fprintf(w, "%s keep one side of each marked entry in %s (or delete the entry and re-render it with pixform apply), then git add it.\n", pal.yellow("hint:"), state.LockFileName)
	}
	for _, c := range clashes {
		names := make([]string, len(c.Addrs))
		for i, a := range c.Addrs {
			names[i] = fmt.Sprintf("%s (%s)", a, c.Whence[i])
		}
		who, all := strings.Join(names, " and "), "both"
		if len(names) > 2 {
			who, all = strings.Join(names[:len(names)-1], ", ")+" and "+names[len(names)-1], "all"
		}
		fmt.Fprintf(w, "pixform: lockfile conflict: %s %s record %s.\n", who, all, c.Path)
	}
	if len(clashes) > 0 {
		fmt.Fprintf(w, "%s two images cannot share a path: keep one of these entries in %s and delete the other's, give that image a path of its own in its configuration, and pixform apply puts it there (from the cache or the store when they have it, else rendering it); then git add %s.\n",
			pal.yellow("hint:"), state.LockFileName, state.LockFileName)
	}
}
