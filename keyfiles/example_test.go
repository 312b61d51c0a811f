package keyfiles_test

import (
	"fmt"
	"os"

	"github.com/waflow/waflow/keyfiles"
	"github.com/waflow/waflow/keys"
)

// A Go program serving flows in development gets the same key and secrets
// as "waflow serve" with the same data folder, so "waflow simulate" and
// "waflow bench" find them with no flags.
func ExampleDevelopment() {
	data, _ := os.MkdirTemp("", "waflow-data")
	defer os.RemoveAll(data)

	dev, err := keyfiles.Development(data)
	if err != nil {
		panic(err)
	}
	key, err := keys.ParsePrivateKey([]byte(dev.PrivateKeyPEM), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(dev.Generated, key.N.BitLen(), len(dev.AppSecret))
	again, _ := keyfiles.Development(data)
	fmt.Println(again.Generated, again.AppSecret == dev.AppSecret)
	// Output:
	// true 2048 64
	// false true
}
