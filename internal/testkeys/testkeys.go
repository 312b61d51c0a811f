// Package testkeys holds four RSA-2048 key pairs for tests, made once with
// openssl genpkey and committed: TEST KEYS, known to anyone who reads this
// repository, never to be used by a server.
//
// Generating an RSA-2048 key costs 30 to 250 ms of CPU (several times that
// under the race detector), and the tests used to make 87 of them in a
// go test -short run; a test whose subject is not key generation takes
// one of these instead. Development seeds a data folder with one, so that
// keyfiles.Development (what waflow serve runs on its first start) finds a
// key pair rather than generating one.
package testkeys

import (
	"crypto/rsa"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/waflow/waflow/keyfiles"
	"github.com/waflow/waflow/keys"
)

//go:embed key*.pem
var files embed.FS

// Count is how many keys there are: Key(0) to Key(Count-1).
const Count = 4

var parsed = sync.OnceValues(func() ([]*rsa.PrivateKey, error) {
	out := make([]*rsa.PrivateKey, Count)
	for i := range out {
		b, err := files.ReadFile(fmt.Sprintf("key%d.pem", i))
		if err != nil {
			return nil, err
		}
		if out[i], err = keys.ParsePrivateKey(b, nil); err != nil {
			return nil, fmt.Errorf("testkeys: key%d.pem: %w", i, err)
		}
	}
	return out, nil
})

// Key returns test key i (0 to Count-1); each is a different key, the same
// one on every call.
func Key(i int) *rsa.PrivateKey {
	ks, err := parsed()
	if err != nil {
		panic(err)
	}
	return ks[i]
}

// PEM returns test key i as PKCS#8 PEM, unencrypted.
func PEM(i int) []byte {
	b, err := files.ReadFile(fmt.Sprintf("key%d.pem", i))
	if err != nil {
		panic(err)
	}
	return b
}

// Development writes test key 0's pair into the development folder of the
// data folder dataDir (keyfiles.DevDir), where keyfiles.Development and
// waflow serve read it instead of generating one; the development secrets
// are still made on first use. It returns the key. A key pair already there
// is an error: no file is overwritten.
func Development(dataDir string) (*rsa.PrivateKey, error) {
	k := Key(0)
	dir := keyfiles.DevDir(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	pub, err := keys.MarshalPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
		perm os.FileMode
	}{{keyfiles.PrivateKeyFile, PEM(0), 0o600}, {keyfiles.PublicKeyFile, pub, 0o644}} {
		fh, err := os.OpenFile(filepath.Join(dir, f.name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.perm)
		if err != nil {
			return nil, err
		}
		if _, err := fh.Write(f.data); err != nil {
			fh.Close()
			return nil, err
		}
		if err := fh.Close(); err != nil {
			return nil, err
		}
	}
	return k, nil
}
