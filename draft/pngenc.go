package draft

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"io"
)

// encodePNG writes img as an 8-bit RGB PNG (placeholders are opaque), every
// row with the Up filter, deflated at BestSpeed.
//
// image/png tries all five filters on every row to pick the best, which was
// over half the cost of a placeholder; a gradient with a grid compresses
// nearly as well with Up alone, at a fraction of the time.
func encodePNG(w io.Writer, img *image.RGBA, scratch *pngScratch) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	bw := bufio.NewWriterSize(w, 32<<10)
	if _, err := bw.WriteString("\x89PNG\r\n\x1a\n"); err != nil {
		return err
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = 8, 2 // bit depth 8, colour type RGB
	if err := writeChunk(bw, "IHDR", ihdr[:]); err != nil {
		return err
	}

	scratch.idat.Reset()
	zw := scratch.zw
	if zw == nil {
		var err error
		if zw, err = zlib.NewWriterLevel(&scratch.idat, zlib.BestSpeed); err != nil {
			return fmt.Errorf("png: %w", err)
		}
		scratch.zw = zw
	} else {
		zw.Reset(&scratch.idat)
	}
	rowLen := 1 + 3*width
	if cap(scratch.cur) < rowLen {
		scratch.cur = make([]byte, rowLen)
		scratch.prev = make([]byte, rowLen)
		scratch.out = make([]byte, rowLen)
	}
	cur, prev, out := scratch.cur[:rowLen], scratch.prev[:rowLen], scratch.out[:rowLen]
	clear(prev)
	for y := range height {
		px := img.Pix[y*img.Stride:]
		for x := range width {
			copy(cur[1+3*x:4+3*x], px[4*x:4*x+3])
		}
		out[0] = 2 // Up
		for i := 1; i < rowLen; i++ {
			out[i] = cur[i] - prev[i]
		}
		if _, err := zw.Write(out); err != nil {
			return fmt.Errorf("png: compress: %w", err)
		}
		cur, prev = prev, cur
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("png: compress: %w", err)
	}
	if err := writeChunk(bw, "IDAT", scratch.idat.Bytes()); err != nil {
		return err
	}
	if err := writeChunk(bw, "IEND", nil); err != nil {
		return err
	}
	return bw.Flush()
}

// writeChunk writes one PNG chunk: length, type, data, CRC.
func writeChunk(w io.Writer, typ string, data []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	for _, p := range [][]byte{hdr[:], data, sum[:]} {
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("png: write %s chunk: %w", typ, err)
		}
	}
	return nil
}
