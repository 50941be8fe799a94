// Package media is the one definition of the image formats pixform writes:
// their media types, and the file extensions that name them. An output
// path's extension chooses the format; the lockfile records the media type.
package media

import (
	"bytes"
	"path"
	"strings"
)

// The media types of output files.
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
)

// Extensions names the accepted extensions in messages.
const Extensions = ".png, .jpg or .jpeg"

// OfExt returns the media type that ext, a lower-case extension with its
// dot, names: .png is PNG, .jpg and .jpeg are JPEG. ok is false for any
// other (including an upper-case one).
func OfExt(ext string) (mediaType string, ok bool) {
	switch ext {
	case ".png":
		return PNG, true
	case ".jpg", ".jpeg":
		return JPEG, true
	}
	return "", false
}

// Ext is the extension, with its dot, of a file of mediaType: .jpg for
// JPEG, .png for PNG (and any other, which pixform never writes).
func Ext(mediaType string) string {
	if mediaType == JPEG {
		return ".jpg"
	}
	return ".png"
}

// OfPath returns the media type that the extension of the slash-separated
// path p names, in any case (B.PNG is PNG).
func OfPath(p string) (mediaType string, ok bool) {
	return OfExt(strings.ToLower(path.Ext(p)))
}

// Known reports whether mediaType is one pixform writes.
func Known(mediaType string) bool { return mediaType == PNG || mediaType == JPEG }

// OfFormat returns the media type of an image format as the image package
// names it ("png", "jpeg", "webp").
func OfFormat(format string) string { return "image/" + format }

// Sniff returns the media type that an encoded image starting with head
// holds, PNG or JPEG, or "" for anything else.
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return JPEG
	}
	return ""
}
