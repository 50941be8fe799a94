package objstore

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// gcsFake is an httptest server speaking the part of the GCS JSON API the
// driver uses, with the semantics the emulator lacks: a delete with
// ifGenerationMatch=N that does not match fails with 412, as GCS does
// (fake-gcs-server v1.56.1 deletes whatever the precondition says).
// Uploads (media and resumable) honour ifGenerationMatch too.
type gcsFake struct {
	srv    *httptest.Server
	bucket string

	mu       sync.Mutex
	objects  map[string]gcsFakeObject
	sessions map[string]*gcsFakeSession
	gen      int64
	// hook, when set, answers a request instead of the fake (return true).
	hook func(w http.ResponseWriter, r *http.Request) bool
	// requests counts requests by "METHOD path".
	requests map[string]int
	// auth, when set, is the Authorization header every request must carry.
	auth string
}

type gcsFakeObject struct {
	data        []byte
	gen         int64
	contentType string
}

type gcsFakeSession struct {
	name string
	cond string // ifGenerationMatch, "" for none
	ct   string
	data []byte
}

func newGCSFake(t *testing.T, bucket string) *gcsFake {
	f := &gcsFake{bucket: bucket, objects: map[string]gcsFakeObject{}, sessions: map[string]*gcsFakeSession{}, requests: map[string]int{}, gen: 1000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the store URL of the fake's bucket under prefix p, anonymous.
func (f *gcsFake) URL(p string) string {
	return "gs://" + f.bucket + "/" + p + "?anonymous=true"
}

func (f *gcsFake) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

func (f *gcsFake) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[key]
}

func gcsFail(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": msg, "errors": []any{map[string]any{"domain": "global", "reason": reason, "message": msg}},
	}})
}

func (f *gcsFake) resource(name string, o gcsFakeObject) map[string]any {
	return map[string]any{
		"kind": "storage#object", "name": name, "bucket": f.bucket, "size": strconv.Itoa(len(o.data)),
		"generation": strconv.FormatInt(o.gen, 10), "contentType": o.contentType, "etag": "E" + strconv.FormatInt(o.gen, 10),
		"updated": "2026-01-02T03:04:05.000Z", "timeCreated": "2026-01-02T03:04:05.000Z",
	}
}

func (f *gcsFake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.EscapedPath()
	f.requests[r.Method+" "+path]++
	if f.hook != nil {
		if f.hook(w, r) {
			return
		}
	}
	if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		gcsFail(w, http.StatusUnauthorized, "required", "Anonymous caller does not have storage.objects.get access.")
		return
	}
	q := r.URL.Query()
	if id := q.Get("upload_id"); id != "" && r.Method == http.MethodPut {
		f.chunk(w, r, id)
		return
	}
	var upload bool
	var rest string
	switch {
	case strings.HasPrefix(path, "/upload/storage/v1/b/"):
		upload, rest = true, strings.TrimPrefix(path, "/upload/storage/v1/b/")
	case strings.HasPrefix(path, "/storage/v1/b/"):
		rest = strings.TrimPrefix(path, "/storage/v1/b/")
	default:
		gcsFail(w, http.StatusNotFound, "notFound", "Not Found")
		return
	}
	bucket, rest, _ := strings.Cut(rest, "/")
	if bucket != f.bucket {
		gcsFail(w, http.StatusNotFound, "notFound", "The specified bucket does not exist.")
		return
	}
	if rest == "o" {
		switch {
		case upload && r.Method == http.MethodPost:
			f.upload(w, r)
		case r.Method == http.MethodGet:
			f.list(w, r)
		default:
			gcsFail(w, http.StatusMethodNotAllowed, "invalid", "method")
		}
		return
	}
	name, err := url.PathUnescape(strings.TrimPrefix(rest, "o/"))
	if err != nil || !strings.HasPrefix(rest, "o/") {
		gcsFail(w, http.StatusBadRequest, "invalid", "bad path")
		return
	}
	o, ok := f.objects[name]
	if !ok {
		gcsFail(w, http.StatusNotFound, "notFound", "No such object: "+f.bucket+"/"+name)
		return
	}
	switch r.Method {
	case http.MethodGet:
		if q.Get("alt") != "media" {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(f.resource(name, o))
			return
		}
		w.Header().Set("Content-Type", o.contentType)
		w.Header().Set("X-Goog-Generation", strconv.FormatInt(o.gen, 10))
		data := o.data
		if rg := r.Header.Get("Range"); rg != "" {
			var from, to int
			if n, _ := fmt.Sscanf(rg, "bytes=%d-%d", &from, &to); n == 0 {
				gcsFail(w, http.StatusBadRequest, "invalid", "range")
				return
			} else if n == 1 {
				to = len(data) - 1
			}
			to = min(to, len(data)-1)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(data)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[from : to+1])
			return
		}
		w.Write(data)
	case http.MethodDelete:
		if c := q.Get("ifGenerationMatch"); c != "" && c != strconv.FormatInt(o.gen, 10) {
			gcsFail(w, http.StatusPreconditionFailed, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.")
			return
		}
		delete(f.objects, name)
		w.WriteHeader(http.StatusNoContent)
	default:
		gcsFail(w, http.StatusMethodNotAllowed, "invalid", "method")
	}
}

// met reports whether ifGenerationMatch cond holds for the object name.
func (f *gcsFake) met(name, cond string) bool {
	if cond == "" {
		return true
	}
	o, ok := f.objects[name]
	if cond == "0" {
		return !ok
	}
	return ok && strconv.FormatInt(o.gen, 10) == cond
}

func (f *gcsFake) put(name, ct string, data []byte) gcsFakeObject {
	f.gen++
	o := gcsFakeObject{data: data, gen: f.gen, contentType: ct}
	f.objects[name] = o
	return o
}

func (f *gcsFake) upload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, cond := q.Get("name"), q.Get("ifGenerationMatch")
	switch q.Get("uploadType") {
	case "media":
		data, _ := io.ReadAll(r.Body)
		if !f.met(name, cond) {
			gcsFail(w, http.StatusPreconditionFailed, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.")
			return
		}
		o := f.put(name, r.Header.Get("Content-Type"), data)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(f.resource(name, o))
	case "resumable":
		id := strconv.Itoa(len(f.sessions) + 1)
		f.sessions[id] = &gcsFakeSession{name: name, cond: cond, ct: r.Header.Get("X-Upload-Content-Type")}
		w.Header().Set("Location", f.srv.URL+"/upload/storage/v1/b/"+f.bucket+"/o?uploadType=resumable&upload_id="+id)
	default:
		gcsFail(w, http.StatusBadRequest, "invalid", "uploadType")
	}
}

func (f *gcsFake) chunk(w http.ResponseWriter, r *http.Request, id string) {
	s := f.sessions[id]
	if s == nil {
		gcsFail(w, http.StatusNotFound, "notFound", "no such upload")
		return
	}
	data, _ := io.ReadAll(r.Body)
	var from, to int
	var total string
	if _, err := fmt.Sscanf(r.Header.Get("Content-Range"), "bytes %d-%d/%s", &from, &to, &total); err != nil || from != len(s.data) || to != from+len(data)-1 {
		gcsFail(w, http.StatusBadRequest, "invalid", "bad Content-Range "+r.Header.Get("Content-Range"))
		return
	}
	s.data = append(s.data, data...)
	if total == "*" {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", len(s.data)-1))
		w.WriteHeader(http.StatusPermanentRedirect)
		return
	}
	delete(f.sessions, id)
	if !f.met(s.name, s.cond) {
		gcsFail(w, http.StatusPreconditionFailed, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.")
		return
	}
	o := f.put(s.name, s.ct, s.data)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(f.resource(s.name, o))
}

func (f *gcsFake) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var names []string
	for n := range f.objects {
		if strings.HasPrefix(n, q.Get("prefix")) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if m, _ := strconv.Atoi(q.Get("maxResults")); m > 0 && len(names) > m {
		names = names[:m]
	}
	items := []any{}
	for _, n := range names {
		items = append(items, f.resource(n, f.objects[n]))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"kind": "storage#objects", "items": items})
}
