package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/keyfiles"
	"github.com/waflow/waflow/keys"
)

func keysCommand() *Command {
	return &Command{
		Name:    "keys",
		Args:    "upload | check",
		Summary: "register the data endpoint's public key with Meta, or check the one Meta has",
		Help: `
WhatsApp encrypts every data-endpoint request to the business public key
registered for the phone number (WAFLOW_PHONE_NUMBER_ID). When that key is not
the one serve decrypts with, every request fails to decrypt and is answered
421, and WhatsApp retries it forever.

  waflow keys upload   uploads the public key of the current private key
                       (the first of WAFLOW_PRIVATE_KEY, or the development
                       key), then reads it back: Meta signs it on upload
  waflow keys check    compares the fingerprint of the key Meta has with ours
                       and says whether WhatsApp can encrypt to us

Each phone number has exactly one key: upload again after every rotation and
after the number is re-registered or migrated. Exit status of check: 0 when
WhatsApp encrypts to our current key, 1 otherwise.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			declareCLI(&cfg, s)
			return func(ctx context.Context, args []string) error {
				rest, err := parseInterleaved("keys", fs, args)
				if errors.Is(err, flag.ErrHelp) {
					return nil
				} else if err != nil {
					return err
				}
				if len(rest) != 1 || (rest[0] != "upload" && rest[0] != "check") {
					return usagef("keys", "want upload or check")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				if err := cfg.graph.require(needToken, needPhoneID); err != nil {
					return err
				}
				ours, err := ourPublicKeys(env, &cfg)
				if err != nil {
					return err
				}
				sess, err := newGraphSession(env, &cfg)
				if err != nil {
					return err
				}
				if rest[0] == "upload" {
					return runKeysUpload(ctx, env, sess, ours[0])
				}
				return runKeysCheck(ctx, env, sess, ours)
			}
		},
	}
}

// ourPublicKeys returns the public keys of the configured private keys,
// current first; the development key when none is configured, as serve
// does.
func ourPublicKeys(env *Env, cfg *appConfig) ([]*rsa.PublicKey, error) {
	pem := cfg.privateKey
	if pem == "" {
		if cfg.appSecrets != "" {
			return nil, errors.New("no private key: set WAFLOW_PRIVATE_KEY_FILE (or -private-key-file), the key serve decrypts with")
		}
		dev, err := keyfiles.Development(cfg.dataDir)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(env.Stderr, "waflow keys: no private key configured: using the development key of %s\n", dev.Dir)
		pem = dev.PrivateKeyPEM
	}
	ks, err := keys.ParsePrivateKeys([]byte(pem), []byte(cfg.passphrase))
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	pubs := make([]*rsa.PublicKey, len(ks))
	for i, k := range ks {
		pubs[i] = &k.PublicKey
	}
	return pubs, nil
}

func runKeysUpload(ctx context.Context, env *Env, sess *graphSession, pub *rsa.PublicKey) error {
	phone := sess.cfg.graph.phoneNumberID
	pemBytes, err := keys.MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	if err := sess.client.SetBusinessPublicKey(ctx, phone, string(pemBytes)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "uploaded public key %s for phone number %s\n", keys.Fingerprint(pub), phone)
	got, err := sess.client.BusinessPublicKey(ctx, phone)
	if err != nil {
		return fmt.Errorf("reading the key back: %w", err)
	}
	return reportKey(env.Stdout, phone, got, []*rsa.PublicKey{pub})
}

func runKeysCheck(ctx context.Context, env *Env, sess *graphSession, ours []*rsa.PublicKey) error {
	phone := sess.cfg.graph.phoneNumberID
	got, err := sess.client.BusinessPublicKey(ctx, phone)
	if errors.Is(err, graph.ErrNoPublicKey) {
		fmt.Fprintf(env.Stdout, "Meta has no business public key for phone number %s.\n", phone)
		fmt.Fprintf(env.Stdout, "WhatsApp cannot encrypt to us: flows with a data endpoint cannot be published nor opened.\nRun: waflow keys upload\n")
		return &exitError{code: 1}
	}
	if err != nil {
		return err
	}
	return reportKey(env.Stdout, phone, got, ours)
}

// reportKey says whether WhatsApp can encrypt to us with the key Meta has,
// and what to run if not. It returns an exitError with status 1 when not.
func reportKey(w io.Writer, phone string, got *graph.BusinessPublicKey, ours []*rsa.PublicKey) error {
	theirs, err := keys.ParsePublicKey([]byte(got.PEM))
	if err != nil {
		fmt.Fprintf(w, "Meta's business public key for phone number %s does not parse (%v).\nRun: waflow keys upload\n", phone, err)
		return &exitError{code: 1}
	}
	fmt.Fprintf(w, "Meta's key for phone number %s: %s (signature %s)\n", phone, keys.Fingerprint(theirs), got.SignatureStatus)
	fmt.Fprintf(w, "our current key:                    %s\n", keys.Fingerprint(ours[0]))
	match := -1
	for i, k := range ours {
		if keys.Equal(k, theirs) {
			match = i
			break
		}
	}
	switch {
	case got.SignatureStatus != graph.SignatureValid:
		fmt.Fprintf(w, "Meta's signature over the key is %s: WhatsApp clients will not use it, so they cannot encrypt to us.\nRun: waflow keys upload\n", orUnknown(string(got.SignatureStatus)))
	case match == 0:
		fmt.Fprintln(w, "OK: WhatsApp encrypts to our current key, and serve can decrypt.")
		return nil
	case match > 0:
		fmt.Fprintf(w, "Meta has our previous key (number %d of the configured keys): serve still decrypts with it, but the rotation is not finished.\nRun: waflow keys upload\n", match+1)
	default:
		fmt.Fprintln(w, "MISMATCH: WhatsApp encrypts to a key we do not have, so every data-endpoint request fails to decrypt and is answered 421 (and retried forever).")
		fmt.Fprintln(w, "Run: waflow keys upload   (or configure the private key that matches Meta's)")
	}
	return &exitError{code: 1}
}

func orUnknown(s string) string {
	if s == "" {
		return "missing"
	}
	return s
}
