package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// centrifugoConfig is the configuration Centrifugo runs with (the file
// bench/chatbench/centrifugo.json): memory engine, no history, no
// presence, error logs only; the port is given on its command line.
//
//go:embed centrifugo.json
var centrifugoConfig []byte

// centrifugo runs a Centrifugo server (v6; built with
// `go install github.com/centrifugal/centrifugo/v6@v6.9.1`) as a target
// of the storm phases.
type centrifugo struct {
	bin    string
	b      *bench
	cmd    *exec.Cmd
	addr   string
	secret []byte // client.token.hmac_secret_key
	apiKey string // http_api.key
	http   *http.Client
}

const centrifugoChannel = "room"

func (b *bench) centrifugoTarget(bin string) (*target, error) {
	var cfg struct {
		Client struct {
			Token struct {
				HMACSecretKey string `json:"hmac_secret_key"`
			} `json:"token"`
		} `json:"client"`
		HTTPAPI struct {
			Key string `json:"key"`
		} `json:"http_api"`
	}
	if err := json.Unmarshal(centrifugoConfig, &cfg); err != nil {
		return nil, fmt.Errorf("centrifugo.json: %w", err)
	}
	c := &centrifugo{bin: bin, b: b, secret: []byte(cfg.Client.Token.HMACSecretKey), apiKey: cfg.HTTPAPI.Key,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}}
	return &target{
		name:       "centrifugo",
		publishVia: "the server HTTP API (POST /api/publish, data {\"bt\": send time})",
		start:      c.start,
		stop:       c.stop,
		pid:        func() int { return c.cmd.Process.Pid },
		wsURL:      func() string { return "ws://" + c.addr + "/connection/websocket" },
		creds:      c.creds,
		publish:    c.publish,
	}, nil
}

func (c *centrifugo) start() error {
	dir, err := os.MkdirTemp("", "chatbench-centrifugo")
	if err != nil {
		return err
	}
	conf := filepath.Join(dir, "config.json")
	if err := os.WriteFile(conf, centrifugoConfig, 0o600); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c.addr = l.Addr().String()
	_, port, _ := net.SplitHostPort(c.addr)
	l.Close()
	c.cmd = exec.Command(c.bin, "--config", conf, "--http_server.address", "127.0.0.1", "--http_server.port", port)
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = os.Stderr, os.Stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := c.api(context.Background(), "info", []byte(`{}`)); err == nil {
			return nil
		}
	}
	c.stop()
	return errors.New("centrifugo did not start")
}

func (c *centrifugo) stop() {
	c.b.stopStorm()
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		os.RemoveAll(c.cmd.Dir)
	}
}

// api calls one method of the server HTTP API.
func (c *centrifugo) api(ctx context.Context, method string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.addr+"/api/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return &refusal{fmt.Sprintf("centrifugo %s: %s: %s", method, resp.Status, data)}
	}
	if bytes.Contains(data, []byte(`"error"`)) {
		return &refusal{fmt.Sprintf("centrifugo %s: %s", method, data)}
	}
	return nil
}

func (c *centrifugo) publish(ctx context.Context, sent int64) error {
	return c.api(ctx, "publish", fmt.Appendf(nil, `{"channel":%q,"data":{"bt":"%d"}}`, centrifugoChannel, sent))
}

// creds mints n connection JWTs (HS256), each subscribing its connection
// to the channel on the server side (the "channels" claim).
func (c *centrifugo) creds(n int) ([]string, error) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	exp := time.Now().Add(3 * time.Hour).Unix()
	lines := make([]string, n)
	for i := range lines {
		user := "c" + strconv.Itoa(i)
		claims, _ := json.Marshal(map[string]any{"sub": user, "exp": exp, "channels": []string{centrifugoChannel}})
		signing := header + "." + enc.EncodeToString(claims)
		mac := hmac.New(sha256.New, c.secret)
		mac.Write([]byte(signing))
		lines[i] = signing + "." + enc.EncodeToString(mac.Sum(nil)) + " " + user
	}
	return lines, nil
}
