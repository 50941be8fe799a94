package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Stream is Check for a body that is being written somewhere else (a
// temporary file, as it arrives): it verifies the PNG or JPEG written to
// it with Check's rules, chunk by chunk and segment by segment as the
// bytes come, so that the body need not be read back. Write never fails;
// Result gives the verdict once the whole body has been written. The zero
// Stream is ready to use.
type Stream struct {
	st   streamState
	mt   string
	err  error
	head [8]byte // the first bytes, sniffed as Check sniffs them
	nh   int
	buf  [13]byte // a fixed-size field being gathered (want bytes)
	nb   int
	want int
	next streamState // what the gathered field is
	left int64       // chunk data to hash, or segment bytes to skip
	crc  uint32
	// PNG
	chunks              int
	typ                 [4]byte
	clen                uint32 // the current chunk's length
	idat, idatDone, plt bool
	colorType           byte
	// JPEG
	scans  int
	marker byte
	seg    int // the current segment's length
	// the image's dimensions, from IHDR or SOF
	width, height int
}

type streamState uint8

const (
	sSniff streamState = iota
	sGather
	sDone
	sFailed
	// PNG
	pngHeader // gathered: a chunk's length and type
	pngIHDR   // gathered: IHDR's 13 bytes
	pngCRC    // gathered: a chunk's CRC
	pngData   // hashing a chunk's data
	// JPEG
	jpgMarker // expecting a marker's 0xFF
	jpgCode   // reading fill bytes up to a marker's code
	jpgLength // gathered: a segment's length
	jpgSOF    // gathered: a frame header's precision and dimensions
	jpgSkip   // skipping the rest of a segment
	jpgScan   // entropy-coded data, up to a 0xFF
	jpgScanFF // the byte after a 0xFF in entropy-coded data
)

// Write checks p as the next bytes of the body. It always takes all of p.
func (s *Stream) Write(p []byte) (int, error) {
	n := len(p)
	if s.st == sSniff {
		pre := s.nh // bytes of head from earlier writes
		k := copy(s.head[pre:], p)
		s.nh += k
		if s.nh < len(s.head) {
			return n, nil
		}
		from := s.begin()
		if from < pre {
			// The first writes were short: what follows the signature
			// in head is fed from a copy, so that s never escapes.
			s.feed(bytes.Clone(s.head[from:pre]))
			from = pre
		}
		p = p[from-pre:] // head[pre:] is p[:k]
	}
	s.feed(p)
	return n, nil
}

// Result returns the media type and dimensions of the body written, or
// why it is not one whole PNG or JPEG, as Check would for the same bytes.
func (s *Stream) Result() (mediaType string, width, height int, err error) {
	if s.st == sSniff {
		if from := s.begin(); from < s.nh {
			s.feed(bytes.Clone(s.head[from:s.nh]))
		}
	}
	switch s.st {
	case sDone:
		return s.mt, s.width, s.height, nil
	case sFailed:
		return s.mt, 0, 0, s.err
	}
	return s.mt, 0, 0, s.truncated()
}

// begin sniffs the first bytes (all eight, or fewer at the end of a short
// body) and starts the format's checks. It returns where in the body they
// start: after the signature (PNG) or SOI (JPEG).
func (s *Stream) begin() int {
	head := s.head[:s.nh]
	s.mt = Sniff(head)
	switch s.mt {
	case PNG:
		s.gather(pngHeader, 8)
		return 8
	case JPEG:
		s.st = jpgMarker
		return 2
	}
	if len(head) == 0 {
		s.fail(errors.New("empty body"))
	} else {
		s.fail(fmt.Errorf("neither PNG nor JPEG (starts %q)", string(head)))
	}
	return s.nh
}

// truncated says where a body that ended before its end marker stopped.
func (s *Stream) truncated() error {
	what := "a marker (no EOI)"
	switch s.next {
	case pngHeader:
		what = "a chunk header (no IEND)"
	case pngIHDR:
		what = "IHDR"
	case pngCRC:
		what = fmt.Sprintf("chunk %q", string(s.typ[:]))
	case jpgLength, jpgSOF:
		what = fmt.Sprintf("segment %#02x", s.marker)
	}
	switch s.st {
	case pngData:
		what = fmt.Sprintf("chunk %q", string(s.typ[:]))
	case jpgSkip:
		what = fmt.Sprintf("segment %#02x", s.marker)
	case jpgScan, jpgScanFF:
		what = "scan data (no EOI)"
	case jpgMarker, jpgCode:
		what = "a marker (no EOI)"
	}
	return truncated(what)
}

func (s *Stream) fail(err error) {
	s.st, s.err = sFailed, err
}

// gather collects the next n bytes (at most len(s.buf)) as the field
// next.
func (s *Stream) gather(next streamState, n int) {
	s.st, s.next, s.nb, s.want = sGather, next, 0, n
}

// feed runs the checks over p.
func (s *Stream) feed(p []byte) {
	for len(p) > 0 {
		switch s.st {
		case sDone, sFailed:
			return // what follows the end is not read, as Check does not
		case sGather:
			k := copy(s.buf[s.nb:s.want], p)
			s.nb += k
			p = p[k:]
			if s.nb == s.want {
				s.gathered(s.buf[:s.want])
			}
		case pngData:
			k := int(min(int64(len(p)), s.left))
			s.crc = crc32.Update(s.crc, crc32.IEEETable, p[:k])
			s.left -= int64(k)
			p = p[k:]
			if s.left == 0 {
				s.gather(pngCRC, 4)
			}
		case jpgSkip:
			k := int(min(int64(len(p)), s.left))
			s.left -= int64(k)
			p = p[k:]
			if s.left == 0 {
				s.segmentDone()
			}
		case jpgMarker:
			if p[0] != 0xff {
				s.fail(fmt.Errorf("byte %#02x where a marker should start", p[0]))
				return
			}
			p = p[1:]
			s.st = jpgCode
		case jpgCode:
			m := p[0]
			p = p[1:]
			if m != 0xff { // 0xff is fill
				s.code(m)
			}
		case jpgScan:
			i := bytes.IndexByte(p, 0xff)
			if i < 0 {
				return
			}
			p = p[i+1:]
			s.st = jpgScanFF
		case jpgScanFF:
			if n := p[0]; n == 0x00 || n >= 0xd0 && n <= 0xd7 {
				// A stuffed 0xFF00 or a restart marker: the scan goes on.
				p = p[1:]
				s.st = jpgScan
				continue
			}
			// The scan's end: this byte is read as the marker's code
			// (or its fill).
			s.st = jpgCode
		}
	}
}

// gathered handles a field that gather collected.
func (s *Stream) gathered(b []byte) {
	switch s.next {
	case pngHeader:
		s.pngHeader(b)
	case pngIHDR:
		s.pngIHDR(b)
	case pngCRC:
		s.pngCRC(b)
	case jpgLength:
		s.jpgLength(b)
	case jpgSOF:
		s.jpgSOF(b)
	}
}

func (s *Stream) pngHeader(hdr []byte) {
	length := binary.BigEndian.Uint32(hdr[:4])
	copy(s.typ[:], hdr[4:8])
	s.clen = length
	if length > 1<<31-1 {
		s.fail(fmt.Errorf("chunk %q: length %d out of range", string(s.typ[:]), length))
		return
	}
	for _, c := range hdr[4:8] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			s.fail(fmt.Errorf("chunk %d: type %q is not a chunk name", s.chunks, string(s.typ[:])))
			return
		}
	}
	if s.chunks == 0 && (!s.is("IHDR") || length != 13) {
		s.fail(fmt.Errorf("first chunk is %q of %d bytes, want IHDR of 13", string(s.typ[:]), length))
		return
	}
	s.crc = updateCRC(0, hdr[4:8])
	if s.is("IHDR") {
		if s.chunks != 0 {
			s.fail(errors.New("a second IHDR chunk"))
			return
		}
		s.gather(pngIHDR, 13)
		return
	}
	s.left = int64(length)
	if s.left == 0 {
		s.gather(pngCRC, 4)
		return
	}
	s.st = pngData
}

func (s *Stream) pngIHDR(ihdr []byte) {
	s.crc = updateCRC(s.crc, ihdr)
	w, h := binary.BigEndian.Uint32(ihdr[0:4]), binary.BigEndian.Uint32(ihdr[4:8])
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
		s.fail(fmt.Errorf("IHDR: dimensions %dx%d out of range", w, h))
		return
	}
	if !validPNGDepth(ihdr[9], ihdr[8]) {
		s.fail(fmt.Errorf("IHDR: color type %d with bit depth %d", ihdr[9], ihdr[8]))
		return
	}
	if ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1 {
		s.fail(fmt.Errorf("IHDR: compression %d, filter %d, interlace %d", ihdr[10], ihdr[11], ihdr[12]))
		return
	}
	s.width, s.height, s.colorType = int(w), int(h), ihdr[9]
	s.gather(pngCRC, 4)
}

// pngCRC checks a chunk's CRC, then where the chunk stands.
func (s *Stream) pngCRC(sum []byte) {
	if binary.BigEndian.Uint32(sum) != s.crc {
		s.fail(fmt.Errorf("chunk %q: CRC mismatch (damaged)", string(s.typ[:])))
		return
	}
	switch {
	case s.is("IDAT"):
		if s.idatDone {
			s.fail(errors.New("IDAT chunks are not together"))
			return
		}
		if s.colorType == 3 && !s.plt {
			s.fail(errors.New("a paletted image without PLTE before IDAT"))
			return
		}
		s.idat = true
	case s.idat:
		s.idatDone = true
	}
	switch {
	case s.is("PLTE"):
		s.plt = true
	case s.is("IEND"):
		if !s.idat {
			s.fail(errors.New("IEND before any IDAT"))
			return
		}
		if s.clen != 0 {
			s.fail(errors.New("IEND with data"))
			return
		}
		s.st = sDone
		return
	case s.is("IHDR"), s.is("IDAT"):
	default:
		if s.typ[0]&0x20 == 0 { // an upper-case first letter: critical
			s.fail(fmt.Errorf("unknown critical chunk %q", string(s.typ[:])))
			return
		}
	}
	s.chunks++
	s.gather(pngHeader, 8)
}

// updateCRC is crc32.Update with the IEEE table for the few bytes of a
// chunk's type or IHDR, which live in the Stream: crc32.Update would make
// every Stream escape to the heap.
func updateCRC(crc uint32, b []byte) uint32 {
	crc = ^crc
	for _, c := range b {
		crc = crc32.IEEETable[byte(crc)^c] ^ crc>>8
	}
	return ^crc
}

// is reports whether the current chunk's type is typ.
func (s *Stream) is(typ string) bool { return string(s.typ[:]) == typ }

// code handles a JPEG marker's code m (not fill).
func (s *Stream) code(m byte) {
	switch {
	case m == 0xd9: // EOI
		if s.width == 0 || s.scans == 0 {
			s.fail(errors.New("EOI before a frame and a scan"))
			return
		}
		s.st = sDone
		return
	case m == 0xd8 || m == 0x00:
		s.fail(fmt.Errorf("marker %#02x out of place", m))
		return
	case m >= 0xd0 && m <= 0xd7, m == 0x01: // RSTn, TEM: no length
		s.st = jpgMarker
		return
	}
	s.marker = m
	s.gather(jpgLength, 2)
}

func (s *Stream) jpgLength(b []byte) {
	m := s.marker
	length := int(binary.BigEndian.Uint16(b))
	if length < 2 {
		s.fail(fmt.Errorf("segment %#02x: length %d", m, length))
		return
	}
	s.seg = length
	if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc { // SOF
		if s.width != 0 {
			s.fail(errors.New("a second frame"))
			return
		}
		if length < 2+6 {
			s.fail(fmt.Errorf("SOF: length %d", length))
			return
		}
		s.gather(jpgSOF, 5)
		return
	}
	s.skip(length - 2)
}

func (s *Stream) jpgSOF(sof []byte) {
	s.height, s.width = int(binary.BigEndian.Uint16(sof[1:3])), int(binary.BigEndian.Uint16(sof[3:5]))
	if s.width == 0 || s.height == 0 {
		s.fail(fmt.Errorf("SOF: dimensions %dx%d", s.width, s.height))
		return
	}
	s.skip(s.seg - 2 - 5)
}

// skip passes over the next n bytes of the current segment.
func (s *Stream) skip(n int) {
	s.left = int64(n)
	if n == 0 {
		s.segmentDone()
		return
	}
	s.st = jpgSkip
}

// segmentDone moves past a whole segment: a scan's entropy-coded data
// follows SOS, a marker anything else.
func (s *Stream) segmentDone() {
	if s.marker != 0xda { // not SOS
		s.st = jpgMarker
		return
	}
	if s.width == 0 {
		s.fail(errors.New("a scan before its frame"))
		return
	}
	s.scans++
	s.st = jpgScan
}

var _ io.Writer = (*Stream)(nil)
