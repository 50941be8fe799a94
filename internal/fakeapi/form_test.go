package fakeapi

import (
	"bytes"
	"mime/multipart"
	"slices"
	"testing"
)

const testBoundary = "b0undary"

// plainForm is a form in the shape pixform and multipart.Writer send.
func plainForm(t testing.TB, fields ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(testBoundary); err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readFormValues is what ParseMultipartForm gives the fake: the text
// fields in order, or ok false when the body is refused or holds a file.
func readFormValues(body []byte, boundary string) (vals map[string][]string, ok bool) {
	form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(1 << 20)
	if err != nil {
		return nil, false
	}
	defer form.RemoveAll()
	return form.Value, len(form.File) == 0
}

// quickForm takes the plain shape only, and gives exactly the values
// that ReadForm gives; anything else is left to ReadForm.
func TestQuickForm(t *testing.T) {
	tx := [][2]string{{"prompt", "a red fox"}, {"style", "flux-dev"}, {"aspect_ratio", "16:9"}, {"seed", "42"}}
	for name, tc := range map[string]struct {
		body []byte
		want bool
	}{
		"text to image":              {plainForm(t, tx...), true},
		"empty prompt":               {plainForm(t, [2]string{"prompt", ""}), true},
		"value with line breaks":     {plainForm(t, [2]string{"prompt", "a\r\nb\n--c"}), true},
		"value holding the boundary": {plainForm(t, [2]string{"prompt", "x\r\n--" + testBoundary + "x"}), false},
		"twice":                      {plainForm(t, [2]string{"seed", "1"}, [2]string{"seed", "2"}), true},
		"upper-case name":            {plainForm(t, [2]string{"Prompt", "x"}), false},
		"preamble":                   {append([]byte("hello\r\n"), plainForm(t, tx...)...), false},
		"epilogue":                   {append(plainForm(t, tx...), "bye"...), false},
		"no final delimiter":         {bytes.TrimSuffix(plainForm(t, tx...), []byte("--"+testBoundary+"--\r\n")), false},
		"another header": {[]byte("--" + testBoundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\nContent-Type: text/plain\r\n\r\nx\r\n--" +
			testBoundary + "--\r\n"), false},
		"a file": {[]byte("--" + testBoundary + "\r\nContent-Disposition: form-data; name=\"prompt\"; filename=\"p.txt\"\r\n\r\nx\r\n--" +
			testBoundary + "--\r\n"), false},
		"white space after a delimiter": {[]byte("--" + testBoundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx\r\n--" +
			testBoundary + " \r\nContent-Disposition: form-data; name=\"style\"\r\n\r\ny\r\n--" + testBoundary + "--\r\n"), false},
	} {
		t.Run(name, func(t *testing.T) {
			fields, ok := quickForm(tc.body, testBoundary)
			if ok != tc.want {
				t.Fatalf("quickForm took it: %v, want %v", ok, tc.want)
			}
			if ok {
				checkQuickForm(t, tc.body, fields)
			}
		})
	}
}

// checkQuickForm fails t unless ReadForm reads body as the fields that
// quickForm read.
func checkQuickForm(t *testing.T, body []byte, fields [][2]string) {
	t.Helper()
	vals, ok := readFormValues(body, testBoundary)
	if !ok {
		t.Fatalf("quickForm took %q, which ReadForm refuses", body)
	}
	got := map[string][]string{}
	for _, f := range fields {
		got[f[0]] = append(got[f[0]], f[1])
	}
	if len(got) != len(vals) {
		t.Fatalf("quickForm read %q, ReadForm %q", got, vals)
	}
	for k, v := range vals {
		if !slices.Equal(got[k], v) {
			t.Fatalf("field %s: quickForm read %q, ReadForm %q", k, got[k], v)
		}
	}
}

// Whatever the body, a form quickForm takes is one ReadForm reads the
// same.
func FuzzQuickForm(f *testing.F) {
	f.Add(plainForm(f, [2]string{"prompt", "a red fox"}, [2]string{"style", "flux-dev"}, [2]string{"seed", "42"}))
	f.Add(plainForm(f, [2]string{"prompt", "x\r\n--" + testBoundary + "--\r\n"}))
	f.Add([]byte("--" + testBoundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n\r\n--" + testBoundary + "--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if fields, ok := quickForm(body, testBoundary); ok {
			checkQuickForm(t, body, fields)
		}
	})
}
