package envelope_test

import (
	"fmt"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/keys"
)

func Example() {
	priv, _ := keys.Generate()
	unwrapper, _ := envelope.NewPrivateKeys(priv)

	// The WhatsApp client encrypts to the business public key.
	body, client, _ := envelope.EncryptRequest(&priv.PublicKey, []byte(`{"version":"3.0","action":"ping"}`), nil)

	// The endpoint opens the request and seals its answer.
	plain, responder, err := envelope.Open(body, unwrapper)
	fmt.Println(string(plain), err)
	answer := responder.Seal([]byte(`{"data":{"status":"active"}}`))

	// The client opens the answer with its own key and the flipped IV.
	reply, err := client.DecryptResponse(answer)
	fmt.Println(string(reply), err)
	// Output:
	// {"version":"3.0","action":"ping"} <nil>
	// {"data":{"status":"active"}} <nil>
}
