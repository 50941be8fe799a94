package config

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"

	"github.com/pixform/pixform/addrs"
)

// digest returns the hex SHA-256 of a canonical encoding of the provider
// settings and the images, which must be sorted by address. Every string
// is length-prefixed, so no two configurations encode alike.
func digest(p Provider, images []Image) string {
	h := sha256.New()
	w := bufio.NewWriter(h)
	var buf []byte
	str := func(s string) {
		buf = strconv.AppendInt(buf[:0], int64(len(s)), 10)
		buf = append(buf, ':')
		_, _ = w.Write(buf)
		_, _ = w.WriteString(s)
	}
	num := func(n int64) { str(strconv.FormatInt(n, 10)) }
	str("pixform-config-v1")
	str(p.Style)
	num(int64(p.Parallelism))
	num(int64(p.Timeout))
	num(int64(p.MaxRetries))
	// Settings added later are tagged, and left out while unset, so that
	// the digests of configurations without them do not change. A tag is
	// never a number, so it cannot be taken for the count below.
	for _, opt := range []struct {
		tag string
		v   int64
	}{{"read_idle_timeout", int64(p.ReadIdleTimeout)}, {"max_image_bytes", p.MaxImageBytes}, {"max_image_pixels", p.MaxImagePixels}} {
		if opt.v != 0 {
			str(opt.tag)
			num(opt.v)
		}
	}
	for i, op := range pricedOperations {
		if pr := p.Prices[i]; pr.Set {
			str("price " + op)
			num(int64(pr.Credits))
		}
	}
	num(int64(len(images)))
	for _, img := range images {
		str(img.Addr.String())
		str(img.Prompt)
		str(img.Style)
		str(img.AspectRatio)
		num(img.Seed)
		str(img.Path)
		// Derived images' fields, tagged and left out while unset, so
		// that the digests of configurations without them do not change.
		if img.Derived() || img.Transparent {
			str("derived")
			str(img.Source())
			str(img.Operation)
			str(img.Mask)
			num(int64(img.Resize.Width))
			num(int64(img.Resize.Height))
			str(img.Resize.Fit)
			str(img.Crop)
			num(int64(img.Quality))
			str(strconv.FormatBool(img.Transparent))
		}
		if img.Candidates > 1 {
			// Tagged, and left out while unset (an address never
			// reads "candidates"), so that other digests do not change.
			str("candidates")
			num(int64(img.Candidates))
		}
	}
	_ = w.Flush() // writes to a hash never fail
	return hex.EncodeToString(h.Sum(nil))
}

// InputFiles returns the checked-in files c's images are made from
// (from = "FILE") or masked with: inputs, as the configuration is.
func (c *Config) InputFiles() []string {
	var files []string
	for i := range c.Images {
		img := &c.Images[i]
		if img.FromFile != "" {
			files = append(files, img.FromFile)
		}
		if img.Mask != "" {
			files = append(files, img.Mask)
		}
	}
	return files
}

// Lookup returns the image at address a, by binary search of Images.
func (c *Config) Lookup(a addrs.Addr) (Image, bool) {
	i := sort.Search(len(c.Images), func(i int) bool { return !c.Images[i].Addr.Less(a) })
	if i < len(c.Images) && c.Images[i].Addr == a {
		return c.Images[i], true
	}
	return Image{}, false
}
