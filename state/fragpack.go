package state

import "bytes"

// A Recorder keeps each entry's encoding (appendEntry) for as long as the
// run lasts. Most entries have the common fields only, and more than half
// of their encoding is the same field names and indentation in each: such
// a fragment is kept packed, its values alone, and unpacked as it is
// written out.
//
// A packed fragment is packedMark, then the twelve values of fragLits'
// gaps (the address key, the prompt, ..., the height) as appendEntry
// writes them, each after its length in one byte: an entry with a longer
// value, or with more than the common fields (a value would then span
// lines), is not packed. An encoding never starts with packedMark (it
// starts with a newline).

// packedMark is the first byte of a packed fragment.
const packedMark = 0

// fragLits are the fixed parts of an entry with the common fields only,
// around its values, in appendEntry's layout.
var fragLits = [...]string{
	"\n    ",
	": {\n      \"inputs\": {\n        \"prompt\": ",
	",\n        \"style\": ",
	",\n        \"aspect_ratio\": ",
	",\n        \"seed\": ",
	"\n      },\n      \"provider\": ",
	",\n      \"path\": ",
	",\n      \"sha256\": ",
	",\n      \"bytes\": ",
	",\n      \"media_type\": ",
	",\n      \"width\": ",
	",\n      \"height\": ",
	"\n    }",
}

// fragLitBytes are fragLits as byte slices, for packFrag to search an
// encoding without a copy of it as a string.
var fragLitBytes = func() (b [len(fragLits)][]byte) {
	for i, l := range fragLits {
		b[i] = []byte(l)
	}
	return b
}()

// packFrag appends to dst the packed form of enc, an entry's encoding, and
// reports whether enc has the common layout; dst is unchanged when not.
// It checks that the packed form unpacks to enc, in scratch's storage,
// and returns that storage for reuse.
func packFrag(dst, enc, scratch []byte) (packed, scratchOut []byte, ok bool) {
	n := len(dst)
	if !bytes.HasPrefix(enc, fragLitBytes[0]) {
		return dst, scratch, false
	}
	dst = append(dst, packedMark)
	off := len(fragLits[0])
	for i := 1; i < len(fragLits); i++ {
		j := bytes.Index(enc[off:], fragLitBytes[i])
		if j < 0 {
			return dst[:n], scratch, false
		}
		v := enc[off : off+j]
		if len(v) > maxPackedValue || bytes.IndexByte(v, '\n') >= 0 {
			return dst[:n], scratch, false
		}
		dst = append(dst, byte(len(v)))
		dst = append(dst, v...)
		off += j + len(fragLits[i])
	}
	if off != len(enc) {
		return dst[:n], scratch, false
	}
	scratch = unpackFrag(scratch[:0], dst[n:])
	if !bytes.Equal(scratch, enc) {
		return dst[:n], scratch, false
	}
	return dst, scratch, true
}

// maxPackedValue is the longest value of a packed fragment.
const maxPackedValue = 255

// unpackFrag appends to dst the encoding of frag, packed or not.
func unpackFrag(dst, frag []byte) []byte {
	if len(frag) == 0 || frag[0] != packedMark {
		return append(dst, frag...)
	}
	rest := frag[1:]
	dst = append(dst, fragLits[0]...)
	for i := 1; i < len(fragLits); i++ {
		var v []byte
		v, rest = fragValue(rest)
		dst = append(dst, v...)
		dst = append(dst, fragLits[i]...)
	}
	return dst
}

// unpackedLen is the length of the encoding of the packed fragment frag.
func unpackedLen(frag []byte) int {
	n := len(frag) - 1 - (len(fragLits) - 1) // the mark, the values' lengths
	for _, l := range fragLits {
		n += len(l)
	}
	return n
}

// fragValue splits the first value off rest, the values of a packed
// fragment from one on.
// A packed fragment that a Recorder made is well formed; should one not
// be, the value is cut short rather than read out of bounds.
func fragValue(rest []byte) (v, more []byte) {
	if len(rest) == 0 {
		return nil, nil
	}
	n := min(int(rest[0]), len(rest)-1)
	return rest[1 : 1+n], rest[1+n:]
}
