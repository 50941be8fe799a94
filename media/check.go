package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
)

// Check reads a whole encoded PNG or JPEG from r and verifies that it is
// complete and intact without decoding its pixels, and returns its media
// type and dimensions (from its header).
//
// A PNG must start with the signature and IHDR, carry a correct CRC on
// every chunk, hold its IDAT chunks together, and reach IEND. A JPEG must
// start with SOI, give its dimensions in a SOF segment, carry whole
// segments, and reach EOI after at least one scan. What follows the end
// is not read, as the image decoders do not read it.
// That catches a body truncated or damaged in transit at any byte (a
// PNG's CRC covers each chunk's data; a JPEG's end needs every segment
// length to hold); what it does not catch is an image its encoder made
// wrong inside an intact container (a PNG's zlib stream with correct
// CRCs), which only inflating every pixel would.
func Check(r io.Reader) (mediaType string, width, height int, err error) {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil) // keep no reference to r
		readers.Put(br)
	}()
	head, _ := br.Peek(8)
	switch Sniff(head) {
	case PNG:
		width, height, err = checkPNG(br)
		return PNG, width, height, err
	case JPEG:
		width, height, err = checkJPEG(br)
		return JPEG, width, height, err
	}
	if len(head) == 0 {
		return "", 0, 0, errors.New("empty body")
	}
	return "", 0, 0, fmt.Errorf("neither PNG nor JPEG (starts %q)", head)
}

// readers holds Check's read buffers: an apply checks every image it
// receives, and a fresh 32 KiB buffer each is garbage to zero and collect.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// errTruncated wraps io.ErrUnexpectedEOF with what was being read.
func truncated(what string) error {
	return fmt.Errorf("truncated in %s: %w", what, io.ErrUnexpectedEOF)
}

func checkPNG(br *bufio.Reader) (width, height int, err error) {
	if _, err := br.Discard(8); err != nil {
		return 0, 0, truncated("the signature")
	}
	var hdr [8]byte
	var sum [4]byte
	crc := crc32.NewIEEE()
	var idat, idatDone, plte bool
	var colorType byte
	for n := 0; ; n++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return 0, 0, truncated("a chunk header (no IEND)")
		}
		length := binary.BigEndian.Uint32(hdr[:4])
		typ := string(hdr[4:8])
		if length > 1<<31-1 {
			return 0, 0, fmt.Errorf("chunk %q: length %d out of range", typ, length)
		}
		for _, c := range hdr[4:8] {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return 0, 0, fmt.Errorf("chunk %d: type %q is not a chunk name", n, typ)
			}
		}
		if n == 0 && (typ != "IHDR" || length != 13) {
			return 0, 0, fmt.Errorf("first chunk is %q of %d bytes, want IHDR of 13", typ, length)
		}
		crc.Reset()
		crc.Write(hdr[4:8])
		if typ == "IHDR" {
			if n != 0 {
				return 0, 0, errors.New("a second IHDR chunk")
			}
			var ihdr [13]byte
			if _, err := io.ReadFull(br, ihdr[:]); err != nil {
				return 0, 0, truncated("IHDR")
			}
			crc.Write(ihdr[:])
			w, h := binary.BigEndian.Uint32(ihdr[0:4]), binary.BigEndian.Uint32(ihdr[4:8])
			if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
				return 0, 0, fmt.Errorf("IHDR: dimensions %dx%d out of range", w, h)
			}
			if !validPNGDepth(ihdr[9], ihdr[8]) {
				return 0, 0, fmt.Errorf("IHDR: color type %d with bit depth %d", ihdr[9], ihdr[8])
			}
			if ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1 {
				return 0, 0, fmt.Errorf("IHDR: compression %d, filter %d, interlace %d", ihdr[10], ihdr[11], ihdr[12])
			}
			width, height, colorType = int(w), int(h), ihdr[9]
		} else {
			if err := hashNext(crc, br, int(length)); err != nil {
				return 0, 0, err
			}
		}
		if _, err := io.ReadFull(br, sum[:]); err != nil {
			return 0, 0, truncated(fmt.Sprintf("chunk %q", typ))
		}
		if binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
			return 0, 0, fmt.Errorf("chunk %q: CRC mismatch (damaged)", typ)
		}
		switch {
		case typ == "IDAT":
			if idatDone {
				return 0, 0, errors.New("IDAT chunks are not together")
			}
			if colorType == 3 && !plte {
				return 0, 0, errors.New("a paletted image without PLTE before IDAT")
			}
			idat = true
		case idat:
			idatDone = true
		}
		switch typ {
		case "PLTE":
			plte = true
		case "IEND":
			if !idat {
				return 0, 0, errors.New("IEND before any IDAT")
			}
			if length != 0 {
				return 0, 0, errors.New("IEND with data")
			}
			return width, height, nil
		case "IHDR", "IDAT":
		default:
			if hdr[4]&0x20 == 0 { // an upper-case first letter: critical
				return 0, 0, fmt.Errorf("unknown critical chunk %q", typ)
			}
		}
	}
}

// hashNext writes the next n bytes of br to h, straight from br's
// buffer. The end of the stream before n bytes is no error here: the
// caller's read of the chunk's CRC then reports the truncation.
func hashNext(h io.Writer, br *bufio.Reader, n int) error {
	for n > 0 {
		b, err := br.Peek(min(n, br.Size()))
		h.Write(b)
		br.Discard(len(b))
		n -= len(b)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// validPNGDepth reports whether a PNG's color type allows its bit depth.
func validPNGDepth(colorType, depth byte) bool {
	switch colorType {
	case 0:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16
	case 3:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8
	case 2, 4, 6:
		return depth == 8 || depth == 16
	}
	return false
}

func checkJPEG(br *bufio.Reader) (width, height int, err error) {
	if _, err := br.Discard(2); err != nil {
		return 0, 0, truncated("SOI")
	}
	var scans int
	afterScan := false // a scan's end consumed the marker's first 0xFF
	for {
		// A marker: 0xFF, optional 0xFF fill bytes, then its code.
		if !afterScan {
			c, err := br.ReadByte()
			if err != nil {
				return 0, 0, truncated("a marker (no EOI)")
			}
			if c != 0xff {
				return 0, 0, fmt.Errorf("byte %#02x where a marker should start", c)
			}
		}
		afterScan = false
		m := byte(0xff)
		var err error
		for m == 0xff {
			if m, err = br.ReadByte(); err != nil {
				return 0, 0, truncated("a marker (no EOI)")
			}
		}
		switch {
		case m == 0xd9: // EOI
			if width == 0 || scans == 0 {
				return 0, 0, errors.New("EOI before a frame and a scan")
			}
			return width, height, nil
		case m == 0xd8 || m == 0x00:
			return 0, 0, fmt.Errorf("marker %#02x out of place", m)
		case m >= 0xd0 && m <= 0xd7, m == 0x01: // RSTn, TEM: no length
			continue
		}
		var lb [2]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return 0, 0, truncated(fmt.Sprintf("segment %#02x", m))
		}
		length := int(binary.BigEndian.Uint16(lb[:]))
		if length < 2 {
			return 0, 0, fmt.Errorf("segment %#02x: length %d", m, length)
		}
		isSOF := m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc
		if isSOF {
			if width != 0 {
				return 0, 0, errors.New("a second frame")
			}
			var sof [5]byte
			if length < 2+6 {
				return 0, 0, fmt.Errorf("SOF: length %d", length)
			}
			if _, err := io.ReadFull(br, sof[:]); err != nil {
				return 0, 0, truncated("SOF")
			}
			height, width = int(binary.BigEndian.Uint16(sof[1:3])), int(binary.BigEndian.Uint16(sof[3:5]))
			if width == 0 || height == 0 {
				return 0, 0, fmt.Errorf("SOF: dimensions %dx%d", width, height)
			}
			length -= 5
		}
		if _, err := br.Discard(length - 2); err != nil {
			return 0, 0, truncated(fmt.Sprintf("segment %#02x", m))
		}
		if m != 0xda { // not SOS
			continue
		}
		if width == 0 {
			return 0, 0, errors.New("a scan before its frame")
		}
		scans++
		// Entropy-coded data runs to the next marker other than a stuffed
		// 0xFF00 or a restart marker.
		for {
			b, err := br.ReadByte()
			if err != nil {
				return 0, 0, truncated("scan data (no EOI)")
			}
			if b != 0xff {
				continue
			}
			next, err := br.Peek(1)
			if err != nil {
				return 0, 0, truncated("scan data (no EOI)")
			}
			if n := next[0]; n == 0x00 || n >= 0xd0 && n <= 0xd7 {
				br.Discard(1)
				continue
			}
			afterScan = true
			break
		}
	}
}
