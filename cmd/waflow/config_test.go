package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSettingsPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("from-file\n"), 0o600)
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		addr    string
		secret  string
		wantErr string
	}{
		{name: "defaults", addr: "127.0.0.1:8080"},
		{name: "environment", env: map[string]string{"WAFLOW_ADDR": ":9000", "WAFLOW_APP_SECRET": "env-secret"}, addr: ":9000", secret: "env-secret"},
		{name: "flag wins over environment", env: map[string]string{"WAFLOW_ADDR": ":9000"}, args: []string{"-addr", ":9001"}, addr: ":9001"},
		{name: "_FILE variable, one newline trimmed", env: map[string]string{"WAFLOW_APP_SECRET_FILE": secretFile}, addr: "127.0.0.1:8080", secret: "from-file"},
		{name: "-file flag", args: []string{"-app-secret-file", secretFile}, addr: "127.0.0.1:8080", secret: "from-file"},
		{name: "flag wins over _FILE variable", env: map[string]string{"WAFLOW_APP_SECRET_FILE": secretFile}, args: []string{"-app-secret", "flag"}, addr: "127.0.0.1:8080", secret: "flag"},
		{name: "both variables", env: map[string]string{"WAFLOW_APP_SECRET": "a", "WAFLOW_APP_SECRET_FILE": secretFile}, wantErr: "WAFLOW_APP_SECRET and WAFLOW_APP_SECRET_FILE are both set"},
		{name: "both flags", args: []string{"-app-secret", "a", "-app-secret-file", secretFile}, wantErr: "-app-secret and -app-secret-file are both set"},
		{name: "missing file", env: map[string]string{"WAFLOW_APP_SECRET_FILE": filepath.Join(dir, "nope")}, wantErr: "WAFLOW_APP_SECRET_FILE: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			env := &Env{Getenv: func(k string) string { return tt.env[k] }}
			var cfg appConfig
			s := newSettings(fs, env)
			cfg.declare(s)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := s.resolve()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.addr != tt.addr || cfg.appSecrets != tt.secret {
				t.Fatalf("addr=%q secret=%q, want %q %q", cfg.addr, cfg.appSecrets, tt.addr, tt.secret)
			}
		})
	}
}

func TestLoadSecrets(t *testing.T) {
	t.Parallel()
	env := &Env{Stderr: io.Discard, Getenv: func(string) string { return "" }}
	log, _ := (&appConfig{logLevel: "error", logFormat: "text"}).logger(env)

	t.Run("development secrets are generated once and reused", func(t *testing.T) {
		dir := t.TempDir()
		a := &appConfig{dataDir: dir}
		s1, err := a.loadSecrets(log)
		if err != nil || !s1.dev {
			t.Fatalf("dev secrets: %v", err)
		}
		b := &appConfig{dataDir: dir}
		s2, err := b.loadSecrets(log)
		if err != nil {
			t.Fatal(err)
		}
		if !s1.privateKeys[0].Equal(s2.privateKeys[0]) || string(s1.appSecrets[0]) != string(s2.appSecrets[0]) || string(s1.tokenSecret) != string(s2.tokenSecret) || s1.verifyToken != s2.verifyToken {
			t.Fatal("second start generated new development secrets")
		}
		if fi, _ := os.Stat(filepath.Join(dir, "dev", "private.pem")); fi.Mode().Perm() != 0o600 {
			t.Fatalf("dev private key mode %v", fi.Mode())
		}
	})
	devKey := func(t *testing.T) string {
		d, err := seededDevelopment(t, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d.PrivateKeyPEM
	}
	key := devKey(t)
	for _, tt := range []struct {
		name string
		cfg  appConfig
		want string
	}{
		{"key without app secret", appConfig{privateKey: key, tokenSecret: strings.Repeat("t", 32)}, "no app secret"},
		{"app secret without key", appConfig{appSecrets: "s", tokenSecret: strings.Repeat("t", 32)}, "no private key"},
		{"no token secret", appConfig{privateKey: key, appSecrets: "s"}, "no flow-token secret"},
		{"short token secret", appConfig{privateKey: key, appSecrets: "s", tokenSecret: "short"}, "at least 16"},
		{"not a key", appConfig{privateKey: "/path/to/key.pem", appSecrets: "s", tokenSecret: strings.Repeat("t", 32)}, "no PEM private key found"},
		{"blank app secret list", appConfig{privateKey: key, appSecrets: " , ", tokenSecret: strings.Repeat("t", 32)}, "holds no secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.dataDir = t.TempDir()
			_, err := cfg.loadSecrets(log)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("production: key from an environment variable with literal \\n, two app secrets", func(t *testing.T) {
		cfg := appConfig{privateKey: strings.ReplaceAll(key, "\n", `\n`), appSecrets: "new, old", tokenSecret: strings.Repeat("t", 32), dataDir: t.TempDir()}
		s, err := cfg.loadSecrets(log)
		if err != nil || s.dev || len(s.appSecrets) != 2 || string(s.appSecrets[1]) != "old" {
			t.Fatalf("secrets = %+v, %v", s, err)
		}
		if _, err := os.Stat(filepath.Join(cfg.dataDir, "dev")); err == nil {
			t.Fatal("production start wrote development secrets")
		}
	})
}
