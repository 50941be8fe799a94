package fakeapi

import (
	"bytes"
	"io"
	"mime"
)

// quickFormBytes bounds the bodies that quickForm reads: a text-to-image
// form is a few hundred bytes.
const quickFormBytes = 64 << 10

// parseTextForm reads a text-to-image form as parseForm does, or answers
// 400/1100 and reports false. A small body in the plain shape clients
// send (quickForm) is read without a multipart.Reader, whose per-part
// buffers, header maps and form maps cost the fake more CPU per request
// than the rest of its answer: a benchmark measures the client, not the
// fake. Any other body, or any part quickForm does not take as plain,
// goes through parseForm, so the answer is the one ParseMultipartForm
// gives.
func (ex *exchange) parseTextForm() bool {
	r := ex.r
	if r.ContentLength <= 0 || r.ContentLength > quickFormBytes || r.URL.RawQuery != "" {
		return ex.parseForm()
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	boundary := params["boundary"]
	if err != nil || mt != "multipart/form-data" || boundary == "" {
		return ex.parseForm()
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		// Cut short: ParseMultipartForm fails on such a body too.
		ex.fail(1100, "The request is invalid: the body must be multipart/form-data.", 0)
		return false
	}
	if fields, ok := quickForm(body, boundary); ok {
		ex.quick = fields
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return ex.parseForm()
}

// quickForm returns the fields of body, a multipart/form-data body with
// boundary, as name and value pairs in order, where every part is a text
// field in the plain shape: the delimiter line with nothing after it, one
// header, exactly `Content-Disposition: form-data; name="NAME"` with a
// NAME of lower-case letters and underscores, an empty line, the value,
// and no preamble or epilogue (and no value that begins with the
// delimiter). For such a body these are the values
// multipart.Reader.ReadForm gives. It reports false for anything else
// (another header, a file, quoting, a delimiter followed by white space
// or other bytes), which the caller leaves to ReadForm.
func quickForm(body []byte, boundary string) ([][2]string, bool) {
	dash := "--" + boundary
	const head = "Content-Disposition: form-data; name=\""
	rest, ok := bytes.CutPrefix(body, []byte(dash+"\r\n"))
	if !ok {
		return nil, false
	}
	delim := []byte("\r\n" + dash)
	var fields [][2]string
	for len(fields) < 100 {
		rest, ok = bytes.CutPrefix(rest, []byte(head))
		if !ok {
			return nil, false
		}
		n := 0
		for n < len(rest) && (rest[n] >= 'a' && rest[n] <= 'z' || rest[n] == '_') {
			n++
		}
		name := rest[:n]
		rest, ok = bytes.CutPrefix(rest[n:], []byte("\"\r\n\r\n"))
		if n == 0 || !ok {
			return nil, false
		}
		end := bytes.Index(rest, delim)
		if end < 0 || bytes.HasPrefix(rest, []byte(dash)) {
			// No end; or a delimiter right after the headers, which
			// ends an empty part there (the blank line's line break is
			// its own).
			return nil, false
		}
		fields = append(fields, [2]string{string(name), string(rest[:end])})
		rest = rest[end+len(delim):]
		switch {
		case string(rest) == "--\r\n" || string(rest) == "--":
			return fields, true
		case bytes.HasPrefix(rest, []byte("\r\n")):
			rest = rest[2:]
		default:
			return nil, false
		}
	}
	return nil, false
}

// quickField returns the first value of the text field k of a form that
// quickForm read.
func quickField(fields [][2]string, k string) (string, bool) {
	for _, f := range fields {
		if f[0] == k {
			return f[1], true
		}
	}
	return "", false
}
