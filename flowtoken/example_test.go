package flowtoken_test

import (
	"fmt"
	"time"

	"github.com/waflow/waflow/flowtoken"
)

func ExampleIssuer() {
	iss, err := flowtoken.NewIssuer([]byte("a long random server secret"))
	if err != nil {
		panic(err) // no secret: refuse to start
	}
	iss.TTL = 24 * time.Hour

	// Put token in the flow message's flow_token parameter.
	token, claims, _ := iss.Issue("appointment_booking", "4915112345678")

	// Every endpoint request carries it back.
	got, err := iss.Verify(token, "appointment_booking")
	fmt.Println(err, got.ID == claims.ID, got.WAID)
	_, err = iss.Verify(token, "expense_entry")
	fmt.Println(err)
	// Output:
	// <nil> true 4915112345678
	// flowtoken: issued for another flow: token is for "appointment_booking"
}
