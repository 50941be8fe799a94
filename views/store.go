package views

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/objstore"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/storesync"
)

// StoreSourceError is an image store that could not be opened, and where
// its URL came from: "-store", "PIXFORM_STORE", or the store block at
// file:line:col.
type StoreSourceError struct {
	From string
	Err  error
}

func (e *StoreSourceError) Error() string {
	return fmt.Sprintf("open the image store (URL from %s): %v", e.From, e.Err)
}

func (e *StoreSourceError) Unwrap() error { return e.Err }

// StoreURLDiagnostic is the diagnostic of a store block whose URL, at
// rng, the image store refuses (err, from objstore.CheckURL): what is
// wrong with it and how to write one, as validate reports it.
func StoreURLDiagnostic(rng hcl.Range, err error) *hcl.Diagnostic {
	why := err.Error()
	var se *objstore.Error
	if errors.As(err, &se) && se.Err != nil {
		why = se.Err.Error()
	}
	detail := "The image store refuses this URL: " + why + "."
	for _, h := range storeHints(err) {
		detail += " " + strings.ToUpper(h[:1]) + h[1:] + "."
	}
	// The URL's line is not shown: the refusal may be of the
	// credentials it carries.
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid store url", Detail: detail, Subject: rng.Ptr(), Extra: hiddenSource{}}
}

// canceledHint is what to do about a store's work cancelled.
const canceledHint = "the command was interrupted (a second interrupt) before it had finished with every object: what it finished is kept; run the command again to finish"

// storeHints says what to do about an image store failure in err's chain,
// or nothing when there is none: the advice for every store failure is
// worded here.
// lockID is a store lock's ID as a word of a command to copy: the lock
// object is anyone's with write access to the store.
func lockID(id string) string { return addrs.ShellQuote(safepath.Visible(id)) }

func storeHints(err error) []string {
	var hints []string
	var pe *storesync.PendingError
	if errors.As(err, &pe) {
		hints = append(hints, "nothing is lost and nothing needs rendering again: the images are on disk and recorded in "+state.LockFileName+
			"; run `pixform push` once the store is reachable (the next `pixform apply` uploads them too)")
	}
	var le *objstore.LockedError
	if errors.As(err, &le) && le.Ended != "" {
		return append(hints, fmt.Sprintf("that pixform was killed or crashed and left its lock, which nothing removes by itself, and waiting would not free it: remove it with pixform force-unlock %s, then run the command again", lockID(le.Info.ID)))
	}
	if errors.As(err, &le) {
		hints = append(hints,
			"another pixform is working on this directory from another machine or clone: wait for it to finish, or pass -lock-timeout=10m to wait",
			fmt.Sprintf("if that pixform is no longer running (killed, crashed), remove its lock: pixform force-unlock %s", lockID(le.Info.ID)))
		return hints
	}
	var fle *storesync.FlushError
	if errors.As(err, &fle) {
		hints = append(hints, "the images here and "+state.LockFileName+" are not affected: only the images it found are not noted as stored, and the next command checks them again; check the disk that holds the store (its file system reported the error), then run the command again")
	}
	var ce *storesync.CanceledError
	if errors.As(err, &ce) {
		hints = append(hints, canceledHint)
	}
	var fe *storesync.FileError
	if errors.As(err, &fe) && pe == nil {
		hints = append(hints, "the file is not the image the lockfile records: run `pixform plan` to see it, and `pixform apply` to put the recorded image back (or `pixform pull`)")
	}
	var sz *storesync.SizeError
	if errors.As(err, &sz) {
		if sz.Record != "" {
			return append(hints, fmt.Sprintf("the object is intact: the store's record %s is wrong; do not remove the object: remove the record %s from the store (a later apply that renders the take records it again)", sz.Record, sz.Record))
		}
		if sz.Local {
			return append(hints, fmt.Sprintf("the file is the recorded image: %s is wrong; set \"bytes\" to %d in the entry of %s in %s (or take that entry from main), then push again",
				state.LockFileName, sz.Actual, sz.Addr, state.LockFileName))
		}
		return append(hints, fmt.Sprintf("the object in the store is intact: %s is wrong, not the store; set \"bytes\" to %d in the entry of %s in %s (or take that entry from main), then run the command again; do not remove the object from the store",
			state.LockFileName, sz.Actual, sz.Addr, state.LockFileName))
	}
	var se *objstore.Error
	if !errors.As(err, &se) {
		return hints
	}
	switch se.Kind {
	case objstore.NoCredentials:
		hints = append(hints, "pixform takes the store's credentials only from the environment, never from the URL: "+credentialsFor(se.URL))
	case objstore.BadCredentials:
		hints = append(hints, "the store refused the credentials in the environment: check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or your cloud's equivalents) are current and belong to this store")
	case objstore.AccessDenied:
		hints = append(hints, "the credentials lack permission on this bucket and prefix: pixform needs to list, read and create objects under it, and to delete its lock objects")
	case objstore.NoBucket:
		hints = append(hints, "create the bucket (or directory), or correct its name in the store URL (-store, PIXFORM_STORE or the store block)")
	case objstore.Unreachable:
		hints = append(hints, "check the network and the store's endpoint, then run the command again; an S3-compatible server needs ?endpoint=URL (and use_path_style=true) in the store URL")
	case objstore.BadURL:
		hints = append(hints, "write the store URL as s3://BUCKET/PREFIX?region=REGION, gs://BUCKET/PREFIX, azblob://CONTAINER/PREFIX or file:///DIR, with no credentials in it")
	case objstore.Corrupt:
		hints = append(hints, "the object in the store is damaged: nothing damaged was written here; if you have the image, `pixform push` cannot replace an object, so remove the object named above from the store and push again")
	case objstore.NotFound:
		if strings.HasPrefix(se.Object, "locks/") {
			hints = append(hints, "no pixform holds this directory's lock in the store: there is nothing to unlock")
			break
		}
		hints = append(hints, "the store lacks this object: `pixform push` from a clone that has the file uploads it, or `pixform apply` renders it again")
	case objstore.LockLost:
		hints = append(hints, "this directory's lock was removed or replaced while pixform ran (a force-unlock from elsewhere?): check that no other pixform ran here at the same time, then run `pixform plan`")
	case objstore.LockMismatch:
		hints = append(hints, "nothing was removed: run force-unlock with the ID that the lock error names, and only if that pixform is no longer running")
	case objstore.Canceled:
		if ce == nil {
			hints = append(hints, canceledHint)
		}
	case objstore.TooLarge:
		hints = append(hints, "the object is larger than any image pixform renders (1 GiB), so pixform did not upload it and does not read it: see what it is and, if it is not the image, remove it from the store and push again from a clone that has the image")
	case objstore.Other:
		hints = append(hints, "look at the store (its directory, or the server's logs) and mend what the error above names, then run the command again")
	}
	return hints
}

// WriteWarning prints a warning line to stderr.
func WriteWarning(w io.Writer, msg string, color bool) {
	pal := palette{color}
	fmt.Fprintf(w, "%s %s\n", pal.yellow("pixform: warning:"), msg)
}

// writeStoreSummary adds the store's work to a plan's text: the images
// restored from the store and those to upload, apart from the paid work.
func writeStoreSummary(b *strings.Builder, pal palette, p *planner.Plan) {
	s := p.Summary
	if s.FromStore == 0 && s.Upload == 0 {
		return
	}
	var parts []string
	if s.FromStore > 0 {
		parts = append(parts, fmt.Sprintf("%d to restore from store", s.FromStore))
	}
	if s.Upload > 0 {
		parts = append(parts, fmt.Sprintf("%d to upload", s.Upload))
	}
	fmt.Fprintf(b, "%s %s (no request, no credit).\n", pal.bold("Store:"), strings.Join(parts, ", "))
}

// StoreStep is one line of pull's or push's progress.
func StoreStep(w io.Writer, verb string, st storesync.Step) {
	n := width(st.Total)
	if st.Err != nil {
		// "pulled" → "pull failed"
		fmt.Fprintf(w, "[%*d/%d] %s failed: %s: %v\n", n, st.Done, st.Total, strings.TrimSuffix(verb, "ed"), st.Path, st.Err)
		return
	}
	fmt.Fprintf(w, "[%*d/%d] %s %s (%s)\n", n, st.Done, st.Total, verb, st.Path, bytesText(st.Bytes))
}

// bytesText is a size for people: 183 kB, 2.1 MB.
func bytesText(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%d kB", n/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// WriteStoreReport prints pull's or push's summary line.
// A failed pull or push (err) is incomplete, whatever it counted.
func WriteStoreReport(w io.Writer, verb, store string, r storesync.Report, err error, color bool) {
	pal := palette{color}
	head := pal.green(pal.bold(strings.ToUpper(verb[:1]) + verb[1:] + " complete!"))
	if r.Failed > 0 || err != nil {
		head = pal.red(pal.bold(strings.ToUpper(verb[:1]) + verb[1:] + " incomplete:"))
	}
	fmt.Fprintf(w, "%s %d %s (%s), %d already in place, %d failed; store %s.\n", head, r.Done, map[string]string{"pull": "downloaded", "push": "uploaded"}[verb], bytesText(r.Bytes), r.Skipped, r.Failed, store)
}

// WriteUploaded says how many images an apply uploaded to the store.
func WriteUploaded(w io.Writer, n int, store string) {
	if n > 0 {
		fmt.Fprintf(w, "Uploaded %s to the image store %s.\n", Plural(n, "image"), store)
	}
}

// WriteForceUnlocked says whose lock force-unlock removed.
func WriteForceUnlocked(w io.Writer, info objstore.LockInfo, store string, color bool) {
	pal := palette{color}
	fmt.Fprintf(w, "%s Removed the lock %s of the image store %s: it was held by %s on %s (pid %d, pixform %s) since %s.\n",
		pal.green(pal.bold("Unlocked.")), info.ID, store, info.Holder, info.Host, info.PID, info.Operation, info.Created.UTC().Format(time.RFC3339))
}

// credentialsFor says where the credentials of a store with this URL come
// from.
func credentialsFor(url string) string {
	s3 := "for s3:// set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE with ~/.aws/credentials, or run where an instance role applies)"
	gs := "for gs:// set GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or run gcloud auth application-default login)"
	az := "for azblob:// set AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (or AZURE_STORAGE_SAS_TOKEN), or use a managed identity"
	switch {
	case strings.HasPrefix(url, "s3://"):
		return s3
	case strings.HasPrefix(url, "gs://"):
		return gs
	case strings.HasPrefix(url, "azblob://"):
		return az
	}
	return s3 + "; " + gs + "; " + az
}
