package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/waflow/waflow/graph"
)

// metaFlowJSON downloads the Flow JSON Meta holds for a flow: GET
// /{FLOW_ID}/assets lists the assets with a download_url (protocol.md 5.3),
// and the FLOW_JSON one is fetched. deploy uses it when it has no record of
// a flow that exists on Meta (another machine deployed it), so that an
// unchanged flow is not uploaded again: an upload would put a published
// flow back to DRAFT.
//
// The graph package has no call for the assets edge yet; this is one plain
// request, without retries, whose failure only costs an upload.
func (g *graphConfig) metaFlowJSON(ctx context.Context, flowID string) ([]byte, error) {
	timeout, err := g.requestTimeout()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	base, err := url.Parse(g.baseURL)
	if err != nil {
		return nil, err
	}
	list := base.JoinPath(g.version, flowID, "assets")
	var assets struct {
		Data []struct {
			Name        string `json:"name"`
			AssetType   string `json:"asset_type"`
			DownloadURL string `json:"download_url"`
		} `json:"data"`
	}
	if err := g.getJSON(ctx, list.String(), true, &assets); err != nil {
		return nil, fmt.Errorf("listing the assets of flow %s: %w", flowID, err)
	}
	for _, a := range assets.Data {
		if a.AssetType != "FLOW_JSON" || a.DownloadURL == "" {
			continue
		}
		u, err := url.Parse(a.DownloadURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("flow %s: asset download_url %q is not an http(s) URL", flowID, a.DownloadURL)
		}
		// The access token goes to the Graph API host only, never to a
		// CDN the download URL may name.
		withToken := u.Host == base.Host
		var raw json.RawMessage
		if err := g.getJSON(ctx, u.String(), withToken, &raw); err != nil {
			return nil, fmt.Errorf("downloading the Flow JSON of flow %s: %w", flowID, err)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("flow %s has no FLOW_JSON asset", flowID)
}

func (g *graphConfig) getJSON(ctx context.Context, u string, withToken bool, out any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	if withToken {
		req.Header.Set("Authorization", "Bearer "+g.accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// url.Error quotes the URL, which holds no secret here.
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, graph.MaxFlowJSONSize+1))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	if len(body) > graph.MaxFlowJSONSize {
		return errors.New("answer larger than a Flow JSON can be")
	}
	return json.Unmarshal(body, out)
}

// sameJSON reports whether a and b hold the same JSON value, whatever their
// spacing and key order: Meta may store the Flow JSON reformatted.
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}
