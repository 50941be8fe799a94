// Package imaging does the local operations of derived images, on this
// machine and with no request: resizing (contain, cover, fill), cropping to
// an aspect ratio around the centre, and encoding as PNG or as JPEG at a
// quality. Scaling uses golang.org/x/image/draw's Catmull-Rom kernel.
package imaging
