// Package webhook calls the application code that AWS would run as a
// Lambda function or reach at an HTTPS endpoint: message review handlers
// and bot events. parley cannot invoke Lambda, so each function ARN is
// mapped to an HTTP endpoint by configuration; the JSON payload is what the
// function would have received.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Client posts JSON to endpoints.
type Client struct {
	Lambdas map[string]string // Lambda function ARN -> URL
	Timeout time.Duration     // zero means 5 seconds
	HTTP    *http.Client      // nil means http.DefaultClient
}

// Call POSTs in as JSON to target (an http(s) URL, or a Lambda ARN mapped
// to one) and decodes a JSON answer into out, if out is not nil. A target
// without a mapping, a transport error, a non-2xx answer or an undecodable
// answer is an error.
func (c *Client) Call(ctx context.Context, target string, in, out any) error {
	url := target
	if strings.HasPrefix(target, "arn:aws:lambda:") {
		var ok bool
		if url, ok = c.Lambdas[target]; !ok {
			return fmt.Errorf("no endpoint configured for %s", target)
		}
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", target, resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("answer of %s: %w", target, err)
	}
	return nil
}
