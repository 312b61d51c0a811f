package keys_test

import (
	"fmt"
	"strings"

	"github.com/waflow/waflow/keys"
)

func ExampleParsePrivateKey() {
	k, _ := keys.Generate()
	pemData, _ := keys.MarshalPrivateKey(k, []byte("passphrase"))

	// Keys often travel through environment variables with literal \n.
	env := strings.ReplaceAll(string(pemData), "\n", `\n`)

	_, err := keys.ParsePrivateKey([]byte(env), nil)
	fmt.Println(err)
	_, err = keys.ParsePrivateKey([]byte(env), []byte("wrong"))
	fmt.Println(err)
	parsed, err := keys.ParsePrivateKey([]byte(env), []byte("passphrase"))
	fmt.Println(err, parsed.Equal(k))
	// Output:
	// keys: the private key is encrypted and no passphrase was given
	// keys: wrong passphrase for the private key
	// <nil> true
}
