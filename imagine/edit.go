package imagine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strconv"

	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/media"
)

// Edit requests one edit of req.Op from its endpoint, found beside the
// client's text-to-image URL (edits.URL), and streams the image it answers
// to w. It sends exactly the fields the vendor names for the endpoint, and
// refuses, before any request, a request that edits.Request.Check refuses
// (Invalid) or a URL beside which no endpoint can be found (Fatal).
// Otherwise it is Render's twin: the same caps, redirect refusal, token
// scrubbing and classification of failures. As for Render, the executor
// decodes the answer whole, within ImageBounds, before it is accepted.
func (c *Client) Edit(ctx context.Context, req edits.Request, w io.Writer) error {
	if err := c.checkToken(); err != nil {
		return err
	}
	u, err := edits.URL(c.url, req.Op)
	if err != nil {
		// err is not kept: its text may hold the token, which clean scrubs.
		return &executor.Error{Class: executor.Fatal, Msg: clean(err.Error(), c.token, 2*maxServerText), NotSent: true}
	}
	if err := req.Check(); err != nil {
		return &executor.Error{Class: executor.Invalid, Msg: fmt.Sprintf("the edit was not sent: %s", err), Err: err, NotSent: true}
	}
	body, contentType, err := editBody(req)
	if err != nil {
		return &executor.Error{Class: executor.Invalid, Msg: fmt.Sprintf("build the request: %v", err), Err: err, NotSent: true}
	}
	return c.doRequest(ctx, endpoint{url: u, shown: shownURL(u, c.token), op: req.Op}, body, contentType, w)
}

// editBody encodes req as the endpoint's multipart form: the fields its
// operation requires, the optional ones only when set, nothing else. req
// has passed Check.
func editBody(req edits.Request) ([]byte, string, error) {
	s, _ := edits.Lookup(req.Op)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var fields [][2]string
	if s.Prompt {
		fields = append(fields, [2]string{"prompt", req.Prompt})
	}
	if s.AspectRatio && req.AspectRatio != "" {
		fields = append(fields, [2]string{"aspect_ratio", req.AspectRatio})
	}
	if s.Seed && req.Seed != 0 {
		fields = append(fields, [2]string{"seed", strconv.FormatInt(req.Seed, 10)})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, "", fmt.Errorf("write form field %s: %w", f[0], err)
		}
	}
	if s.Image {
		if err := writeFile(mw, "image", req.Image); err != nil {
			return nil, "", err
		}
	}
	if s.Mask {
		if err := writeFile(mw, "mask", req.Mask); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("close the form: %w", err)
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

// writeFile adds a file part named name, with a file name and the media
// type of data (PNG or JPEG, as Check made sure).
func writeFile(mw *multipart.Writer, name string, data []byte) error {
	mt := media.Sniff(data)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, name+media.Ext(mt)))
	h.Set("Content-Type", mt)
	pw, err := mw.CreatePart(h)
	if err != nil {
		return fmt.Errorf("write form file %s: %w", name, err)
	}
	if _, err := pw.Write(data); err != nil {
		return fmt.Errorf("write form file %s: %w", name, err)
	}
	return nil
}
