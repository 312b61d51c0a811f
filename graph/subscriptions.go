package graph

import (
	"context"
	"encoding/json"
	"fmt"
)

// SubscribedApps returns the apps subscribed to a WhatsApp Business
// Account's webhooks, with GET /{WABA_ID}/subscribed_apps. WhatsApp sends a
// WABA's webhooks (messages, flow status changes) only to the callback URL
// of an app subscribed to it.
//
// Meta answers {"data": [{"whatsapp_business_api_data": {"id", "name",
// "link"}}]}; entries holding the fields at the top level are read too.
func (c *Client) SubscribedApps(ctx context.Context, wabaID string) ([]Application, error) {
	op := "list subscribed apps of WABA " + wabaID
	if err := checkID("WABA ID", wabaID); err != nil {
		return nil, fmt.Errorf("graph: list subscribed apps: %w", err)
	}
	var raw json.RawMessage
	cl := &call{op: op, method: "GET", segments: []string{wabaID, "subscribed_apps"}}
	if err := c.do(ctx, cl, &raw); err != nil {
		return nil, err
	}
	var r struct {
		Data []struct {
			Application
			API *Application `json:"whatsapp_business_api_data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("graph: %s: %w: %w", op, ErrUnexpectedResponse, err)
	}
	apps := []Application{}
	for _, d := range r.Data {
		a := d.Application
		if d.API != nil {
			a = *d.API
		}
		apps = append(apps, a)
	}
	return apps, nil
}
