package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/waflow/waflow/keyfiles"
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
	kp, err := keyfiles.WriteKeyPair(dir, passphrase)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "private key: %s (PKCS#8, encrypted, mode 0600)\n", kp.PrivateKeyPath)
	passPath := "<your passphrase file>"
	if kp.PassphrasePath != "" {
		passPath = kp.PassphrasePath
		fmt.Fprintf(env.Stdout, "passphrase:  %s (mode 0600)\n", kp.PassphrasePath)
	}
	fmt.Fprintf(env.Stdout, "public key:  %s\nfingerprint: %s\n", kp.PublicKeyPath, kp.Fingerprint)
	fmt.Fprintf(env.Stdout, "\nRun the backend with:\n  WAFLOW_PRIVATE_KEY_FILE=%s WAFLOW_PRIVATE_KEY_PASSPHRASE_FILE=%s ...\n", kp.PrivateKeyPath, passPath)
	return nil
}
