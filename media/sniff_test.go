package media_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/waflow/waflow/media"
)

// cfb builds a minimal compound file (version 3, 512-byte sectors) whose
// root storage holds the given streams (empty ones): one FAT sector, then
// the directory. Extra content, when given, follows in a third sector.
func cfb(streams ...string) []byte {
	const ss = 512
	le := binary.LittleEndian
	b := make([]byte, 3*ss+ss) // header, FAT, directory, data
	copy(b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
	le.PutUint16(b[0x18:], 0x3e)
	le.PutUint16(b[0x1a:], 3)
	le.PutUint16(b[0x1c:], 0xfffe)
	le.PutUint16(b[0x1e:], 9)
	le.PutUint16(b[0x20:], 6)
	le.PutUint32(b[0x2c:], 1)          // one FAT sector
	le.PutUint32(b[0x30:], 1)          // the directory starts at sector 1
	le.PutUint32(b[0x38:], 4096)       // mini stream cutoff
	le.PutUint32(b[0x3c:], 0xfffffffe) // no mini FAT
	le.PutUint32(b[0x44:], 0xfffffffe) // no DIFAT sector
	for i := range 109 {
		le.PutUint32(b[0x4c+4*i:], 0xffffffff)
	}
	le.PutUint32(b[0x4c:], 0) // the FAT is sector 0
	fat := b[ss : 2*ss]
	for i := 0; i < ss; i += 4 {
		le.PutUint32(fat[i:], 0xffffffff)
	}
	le.PutUint32(fat[0:], 0xfffffffd) // sector 0: FAT
	le.PutUint32(fat[4:], 0xfffffffe) // sector 1: directory, one sector
	le.PutUint32(fat[8:], 0xfffffffe) // sector 2: data
	dir := b[2*ss : 3*ss]
	entry := func(i int, name string, typ byte, left, right, child uint32) {
		e := dir[i*128 : (i+1)*128]
		u := utf16.Encode([]rune(name))
		for j, c := range u {
			le.PutUint16(e[2*j:], c)
		}
		le.PutUint16(e[0x40:], uint16(2*len(u)+2))
		e[0x42] = typ
		e[0x43] = 1 // black
		le.PutUint32(e[0x44:], left)
		le.PutUint32(e[0x48:], right)
		le.PutUint32(e[0x4c:], child)
		le.PutUint32(e[0x74:], 0xfffffffe) // no start sector
	}
	const none = 0xffffffff
	child := uint32(none)
	if len(streams) > 0 {
		child = 1
	}
	entry(0, "Root Entry", 5, none, none, child)
	// Streams 1..3 as a chain of right siblings.
	for i, s := range streams {
		right := uint32(none)
		if i+1 < len(streams) {
			right = uint32(i + 2)
		}
		entry(i+1, s, 2, none, right, none)
	}
	return b
}

func zipOf(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, n := range names {
		name, content, _ := strings.Cut(n, "=")
		m := zip.Deflate
		if name == "mimetype" {
			m = zip.Store
		}
		fw, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(content))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ftyp(major string, compat ...string) []byte {
	b := make([]byte, 16+4*len(compat))
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	copy(b[4:], "ftyp"+major+"\x00\x00\x00\x00")
	for i, c := range compat {
		copy(b[16+4*i:], c)
	}
	return append(b, make([]byte, 32)...)
}

func TestSniff(t *testing.T) {
	t.Parallel()
	_, _, jpeg := realVector(t)
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "application/octet-stream"},
		{"the real JPEG", jpeg, "image/jpeg"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "image/gif"},
		{"webp", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), "image/webp"},
		{"tiff little-endian", []byte("II*\x00\x08\x00\x00\x00"), "image/tiff"},
		{"tiff big-endian", []byte("MM\x00*\x00\x00\x00\x08"), "image/tiff"},
		{"heic from a phone", ftyp("heic", "mif1", "heic"), "image/heic"},
		{"heif", ftyp("mif1", "mif1"), "image/heif"},
		{"avif", ftyp("avif", "avif", "mif1", "miaf"), "image/avif"},
		{"mp4", ftyp("isom", "isom", "iso2", "avc1", "mp41"), "video/mp4"},
		{"mpeg program stream", []byte("\x00\x00\x01\xba\x44\x00\x04\x00"), "video/mpeg"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "application/pdf"},
		{"gzip", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), "application/gzip"},
		{"7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), "application/x-7z-compressed"},
		{"zip", zipOf(t, "a.txt=hello", "b/c.txt=x"), "application/zip"},
		{"docx", zipOf(t, "[Content_Types].xml=<Types/>", "_rels/.rels=", "word/document.xml=<w:document/>"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"xlsx", zipOf(t, "[Content_Types].xml=<Types/>", "xl/workbook.xml=<workbook/>"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"pptx", zipOf(t, "[Content_Types].xml=<Types/>", "ppt/presentation.xml=<p/>"), "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"word/ folder without content types", zipOf(t, "word/document.xml=x"), "application/zip"},
		{"odt", zipOf(t, "mimetype=application/vnd.oasis.opendocument.text", "content.xml=<x/>"), "application/vnd.oasis.opendocument.text"},
		{"ods", zipOf(t, "mimetype=application/vnd.oasis.opendocument.spreadsheet", "content.xml=<x/>"), "application/vnd.oasis.opendocument.spreadsheet"},
		{"odp", zipOf(t, "mimetype=application/vnd.oasis.opendocument.presentation", "content.xml=<x/>"), "application/vnd.oasis.opendocument.presentation"},
		{"mimetype not first", zipOf(t, "content.xml=<x/>", "mimetype=application/vnd.oasis.opendocument.text"), "application/zip"},
		{"truncated zip", zipOf(t, "a.txt=hello")[:20], "application/octet-stream"},
		{"doc", cfb("\x01CompObj", "WordDocument", "1Table"), "application/msword"},
		{"xls", cfb("Workbook", "\x05SummaryInformation"), "application/vnd.ms-excel"},
		{"xls (Excel 5)", cfb("Book"), "application/vnd.ms-excel"},
		{"ppt", cfb("PowerPoint Document", "Current User"), "application/vnd.ms-powerpoint"},
		{"compound file of something else", cfb("Contents"), "application/octet-stream"},
		{"compound file cut short", cfb("WordDocument")[:600], "application/octet-stream"},
		{"utf-8 text", []byte("Grüße aus Köln\r\n\tZeile 2\n"), "text/plain"},
		{"utf-16 text with BOM", []byte("\xff\xfeH\x00i\x00\n\x00"), "text/plain"},
		{"text with a NUL after 512 bytes", append(bytes.Repeat([]byte("a"), 600), 0), "application/octet-stream"},
		{"text with invalid UTF-8 after 512 bytes", append(bytes.Repeat([]byte("a"), 600), 0xff, 0xfe, 0xfd), "application/octet-stream"},
		{"html", []byte("<!DOCTYPE html><html></html>"), "text/html"},
		{"windows executable", []byte("MZ\x90\x00\x03\x00\x00\x00"), "application/octet-stream"},
	} {
		if got := media.Sniff(tc.b); got != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
}
