package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/waflow/waflow/keys"
)

func keygenCommand() *Command {
	return &Command{
		Name:    "keygen",
		Summary: "create the RSA-2048 key pair of the data endpoint",
		Help: `
Writes DIR/private.pem, a passphrase-protected PKCS#8 private key (mode 0600),
and DIR/public.pem, the SPKI "BEGIN PUBLIC KEY" file to register with Meta
("waflow keys upload", or POST /{PHONE_NUMBER_ID}/whatsapp_business_encryption),
and prints the public key's SHA-256 fingerprint.

The passphrase comes from -passphrase-file or WAFLOW_PRIVATE_KEY_PASSPHRASE(_FILE);
with none, a random one is generated and written to DIR/passphrase (mode 0600).
Existing files are never overwritten.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			out := fs.String("out", ".", "folder to write the keys to")
			var passphrase string
			s := newSettings(fs, env)
			s.Secret(&passphrase, "passphrase", "WAFLOW_PRIVATE_KEY_PASSPHRASE", "passphrase to protect the private key with")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usagef("keygen", "unexpected argument %q (use -out DIR)", args[0])
				}
				if err := s.resolve(); err != nil {
					return err
				}
				return runKeygen(env, *out, passphrase)
			}
		},
	}
}

func runKeygen(env *Env, dir, passphrase string) error {
	privPath := filepath.Join(dir, "private.pem")
	pubPath := filepath.Join(dir, "public.pem")
	passPath := filepath.Join(dir, "passphrase")
	check := []string{privPath, pubPath}
	if passphrase == "" {
		check = append(check, passPath)
	}
	for _, p := range check {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s already exists; keygen never overwrites a key (move it away first)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	generated := passphrase == ""
	if generated {
		var r [24]byte
		rand.Read(r[:])
		passphrase = base64.RawURLEncoding.EncodeToString(r[:])
	}
	k, err := keys.Generate()
	if err != nil {
		return err
	}
	priv, err := keys.MarshalPrivateKey(k, []byte(passphrase))
	if err != nil {
		return err
	}
	pub, err := keys.MarshalPublicKey(&k.PublicKey)
	if err != nil {
		return err
	}
	if generated {
		if err := writeNew(passPath, []byte(passphrase+"\n"), 0o600); err != nil {
			return err
		}
	}
	if err := writeNew(privPath, priv, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pub, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "private key: %s (PKCS#8, encrypted, mode 0600)\n", privPath)
	if generated {
		fmt.Fprintf(env.Stdout, "passphrase:  %s (mode 0600)\n", passPath)
	}
	fmt.Fprintf(env.Stdout, "public key:  %s\nfingerprint: %s\n", pubPath, keys.Fingerprint(&k.PublicKey))
	fmt.Fprintf(env.Stdout, "\nRun the backend with:\n  WAFLOW_PRIVATE_KEY_FILE=%s WAFLOW_PRIVATE_KEY_PASSPHRASE_FILE=%s ...\n", privPath, passPathOr(generated, passPath))
	return nil
}

func passPathOr(generated bool, p string) string {
	if generated {
		return p
	}
	return "<your passphrase file>"
}
