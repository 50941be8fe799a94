// Package gallery renders pixform's contact sheet: one self-contained HTML
// page (inline CSS and JS, no network) showing every image as a thumbnail
// with its address, prompt, ratio, seed, provider and state, and the full
// image in a lightbox on click.
//
// The same page is written as a static file (`pixform gallery`), with
// thumbnails embedded as data: URIs so that it works opened from disk, and
// served live by Server (`pixform watch -serve`), which pushes every state
// change to the browser as server-sent events.
package gallery
