package signature_test

import (
	"fmt"

	"github.com/waflow/waflow/signature"
)

func Example() {
	secret := []byte("app-secret")
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)

	// Meta computes this header over the raw body; so does a test client.
	header := signature.Sign(secret, body)

	v, err := signature.New(secret)
	if err != nil {
		panic(err) // no secret configured: refuse to start
	}
	fmt.Println(v.Verify(body, header))
	fmt.Println(v.Verify([]byte(`{"tampered":true}`), header))
	// Output:
	// <nil>
	// signature: X-Hub-Signature-256 does not match the body
}
