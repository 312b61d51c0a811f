package admission

import (
	"io"
	"sync"
)

// ReadAll's pieces: 4, 8, 16, then 32 KiB each (the largest of the runtime's
// small size classes). A piece is never more than twice the bytes received
// before it, so a sender that stalls holds little it did not send; and
// pieces of four sizes are reused (chunkPools, the allocator's caches)
// rather than carving the heap into buffers of every size.
const (
	firstChunk = 4 << 10
	lastChunk  = 32 << 10
)

// chunkPools holds ReadAll's pieces between requests, one pool per size. A
// sync.Pool is emptied by the garbage collector, so a burst's pieces do not
// stay pinned after it.
var chunkPools = func() map[int]*sync.Pool {
	pools := map[int]*sync.Pool{}
	for size := firstChunk; size <= lastChunk; size *= 2 {
		pools[size] = &sync.Pool{New: func() any { b := make([]byte, size); return &b }}
	}
	return pools
}()

// ReadAll reads r to its end and returns the bytes in one slice of exactly
// their length.
//
// io.ReadAll grows its buffer by a quarter at a time: a body of 3 MiB costs
// about five times its size in buffers of ever-different sizes, which the
// heap can rarely reuse for the next body. ReadAll reads into pooled pieces
// as the bytes arrive, then copies them once into the result: memory
// follows the bytes actually received, and what a burst of bodies leaves
// behind is reusable.
func ReadAll(r io.Reader) ([]byte, error) {
	var chunks []*[]byte
	defer func() {
		for _, c := range chunks {
			chunkPools[len(*c)].Put(c)
		}
	}()
	total, n, size := 0, 0, 0 // n: bytes in the last piece, of size bytes
	for {
		if n == size {
			size = min(max(2*size, firstChunk), lastChunk)
			chunks = append(chunks, chunkPools[size].Get().(*[]byte))
			n = 0
		}
		m, err := r.Read((*chunks[len(chunks)-1])[n:])
		n += m
		total += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, (*c)[:min(len(*c), total-len(out))]...)
	}
	return out, nil
}
