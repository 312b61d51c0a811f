package media

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// octetStream is the type of content Sniff does not recognise; no rule
// allows it.
const octetStream = "application/octet-stream"

// Sniff returns the MIME type of a file from its content alone, never its
// name: net/http.DetectContentType, completed with the types Meta lists
// for DocumentPicker that it does not know (protocol.md §6.7): the legacy
// Office formats (told apart by their compound file's streams), OOXML and
// OpenDocument (zip archives told apart by their entries), HEIC, HEIF and
// AVIF, TIFF, 7z and MPEG. text/plain is given only to a whole file of
// UTF-8 (or UTF-16 with a byte-order mark) without control characters
// other than whitespace. The result has no parameters; unknown content
// is application/octet-stream.
func Sniff(b []byte) string {
	switch {
	case len(b) == 0:
		return octetStream
	case bytes.HasPrefix(b, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return sniffCFB(b)
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return sniffZip(b)
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		if t := sniffBMFF(b); t != "" {
			return t
		}
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return "image/tiff"
	case bytes.HasPrefix(b, []byte("7z\xbc\xaf\x27\x1c")):
		return "application/x-7z-compressed"
	case bytes.HasPrefix(b, []byte("\x00\x00\x01\xba")), bytes.HasPrefix(b, []byte("\x00\x00\x01\xb3")):
		return "video/mpeg" // an MPEG program stream or video sequence header
	}
	t, _, _ := strings.Cut(http.DetectContentType(b), ";")
	switch t {
	case "application/x-gzip":
		return "application/gzip"
	case "text/plain":
		if !isText(b) {
			return octetStream
		}
	}
	return t
}

// isText reports whether all of b is text: UTF-8 (an optional BOM) or
// UTF-16 with a BOM, without control characters other than tab, line feed,
// form feed and carriage return. DetectContentType looks at 512 bytes only.
func isText(b []byte) bool {
	var runes []rune
	switch {
	case bytes.HasPrefix(b, []byte("\xfe\xff")), bytes.HasPrefix(b, []byte("\xff\xfe")):
		if len(b)%2 != 0 {
			return false
		}
		order := binary.ByteOrder(binary.BigEndian)
		if b[0] == 0xff {
			order = binary.LittleEndian
		}
		u := make([]uint16, 0, len(b)/2-1)
		for i := 2; i < len(b); i += 2 {
			u = append(u, order.Uint16(b[i:]))
		}
		runes = utf16.Decode(u)
	default:
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(b) {
			return false
		}
		for _, r := range string(b) {
			if !textRune(r) {
				return false
			}
		}
		return true
	}
	for _, r := range runes {
		if r == utf8.RuneError || !textRune(r) {
			return false
		}
	}
	return true
}

func textRune(r rune) bool {
	return r >= 0x20 && r != 0x7f || r == '\t' || r == '\n' || r == '\f' || r == '\r'
}

// sniffBMFF reads an ISO base media file's ftyp box: HEIC, HEIF and AVIF
// images by their brands. Other brands (MP4) are left to
// DetectContentType ("").
func sniffBMFF(b []byte) string {
	size := int(binary.BigEndian.Uint32(b))
	if size < 16 || size > len(b) || size%4 != 0 {
		return ""
	}
	brands := []string{string(b[8:12])}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(b[i:i+4]))
	}
	has := func(names ...string) bool {
		for _, br := range brands {
			for _, n := range names {
				if br == n {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("avif", "avis"):
		return "image/avif"
	case has("heic", "heix", "heim", "heis", "hevc", "hevx"):
		return "image/heic"
	case has("mif1", "msf1"):
		return "image/heif"
	}
	return ""
}

// sniffZip tells OpenDocument (a first "mimetype" entry naming the type)
// and OOXML ("[Content_Types].xml" with a word/, xl/ or ppt/ part) from a
// plain zip archive. Only the central directory and at most a few bytes of
// "mimetype" are read, so an archive bomb costs nothing.
func sniffZip(b []byte) string {
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return octetStream // a truncated or corrupt archive
	}
	if len(z.File) > 0 && z.File[0].Name == "mimetype" && z.File[0].UncompressedSize64 < 128 {
		if rc, err := z.File[0].Open(); err == nil {
			m, err := io.ReadAll(io.LimitReader(rc, 128))
			rc.Close()
			switch t := string(m); {
			case err != nil:
			case t == "application/vnd.oasis.opendocument.text",
				t == "application/vnd.oasis.opendocument.spreadsheet",
				t == "application/vnd.oasis.opendocument.presentation":
				return t
			}
		}
	}
	var contentTypes bool
	var part string
	for _, f := range z.File {
		switch {
		case f.Name == "[Content_Types].xml":
			contentTypes = true
		case part != "":
		case strings.HasPrefix(f.Name, "word/"):
			part = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
		case strings.HasPrefix(f.Name, "xl/"):
			part = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		case strings.HasPrefix(f.Name, "ppt/"):
			part = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
		}
	}
	if contentTypes && part != "" {
		return part
	}
	return "application/zip"
}

// Compound file (CFB, the container of .doc, .xls and .ppt) constants.
const (
	cfbEndOfChain = 0xfffffffe
	cfbNoStream   = 0xffffffff
	cfbDirEntry   = 128
)

// sniffCFB reads a compound file's directory and names the legacy Office
// type by the streams at its root: "WordDocument", "Workbook" (or "Book"
// for Excel 5), "PowerPoint Document". Anything else, or a directory that
// cannot be read, is application/octet-stream.
func sniffCFB(b []byte) string {
	if len(b) < 512 {
		return octetStream
	}
	le := binary.LittleEndian
	shift := le.Uint16(b[0x1e:])
	if shift != 9 && shift != 12 {
		return octetStream
	}
	ss := 1 << shift
	sector := func(n uint32) []byte { // nil when outside the file
		off := (int64(n) + 1) << shift
		if n >= 0xfffffffa || off+int64(ss) > int64(len(b)) {
			return nil
		}
		return b[off : off+int64(ss)]
	}
	maxSectors := len(b)/ss + 1 // bounds every chain walk: no loop runs forever
	// The FAT's sectors: 109 in the header, the rest in the DIFAT chain.
	var fatSectors []uint32
	for i := range 109 {
		if n := le.Uint32(b[0x4c+4*i:]); n < 0xfffffffa {
			fatSectors = append(fatSectors, n)
		}
	}
	next := le.Uint32(b[0x44:])
	for steps := 0; next < 0xfffffffa && steps < maxSectors; steps++ {
		s := sector(next)
		if s == nil {
			return octetStream
		}
		for i := 0; i < ss/4-1; i++ {
			if n := le.Uint32(s[4*i:]); n < 0xfffffffa {
				fatSectors = append(fatSectors, n)
			}
		}
		next = le.Uint32(s[ss-4:])
	}
	perSector := uint32(ss / 4)
	fatNext := func(n uint32) uint32 {
		i := n / perSector
		if int(i) >= len(fatSectors) {
			return cfbEndOfChain
		}
		s := sector(fatSectors[i])
		if s == nil {
			return cfbEndOfChain
		}
		return le.Uint32(s[4*(n%perSector):])
	}
	// The directory: a chain of sectors of 128-byte entries.
	var dir []byte
	for n, steps := le.Uint32(b[0x30:]), 0; n < 0xfffffffa && steps < maxSectors; n, steps = fatNext(n), steps+1 {
		s := sector(n)
		if s == nil {
			return octetStream
		}
		dir = append(dir, s...)
	}
	entries := len(dir) / cfbDirEntry
	if entries == 0 || dir[0x42] != 5 { // entry 0 is the root storage
		return octetStream
	}
	entry := func(id uint32) []byte { return dir[int(id)*cfbDirEntry : (int(id)+1)*cfbDirEntry] }
	// The root's children form a tree linked by left and right siblings.
	names := map[string]bool{}
	stack := []uint32{le.Uint32(entry(0)[0x4c:])}
	seen := map[uint32]bool{}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == cfbNoStream || int(id) >= entries || seen[id] {
			continue
		}
		seen[id] = true
		e := entry(id)
		if n := int(le.Uint16(e[0x40:])); n >= 2 && n <= 64 && n%2 == 0 && e[0x42] == 2 {
			u := make([]uint16, n/2-1) // without the terminating NUL
			for i := range u {
				u[i] = le.Uint16(e[2*i:])
			}
			names[string(utf16.Decode(u))] = true
		}
		stack = append(stack, le.Uint32(e[0x44:]), le.Uint32(e[0x48:]))
	}
	switch {
	case names["WordDocument"]:
		return "application/msword"
	case names["Workbook"], names["Book"]:
		return "application/vnd.ms-excel"
	case names["PowerPoint Document"]:
		return "application/vnd.ms-powerpoint"
	}
	return octetStream
}
