package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// call sends one SigV4-signed request to a parley server and prints the
// answer: a way to reach parley's /parley/v1 extensions, which no AWS CLI
// command knows. Credentials and endpoint come from the environment that
// "parley env" sets up.
//
//	parley call [--service chime] METHOD PATH [BODY]
func call(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	service := fs.String("service", "chime", "signing name: chime or ivschat")
	endpoint := fs.String("endpoint", os.Getenv("PARLEY_ENDPOINT"), "server URL (env PARLEY_ENDPOINT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 || fs.NArg() > 3 {
		return errors.New("usage: parley call [--service chime] METHOD PATH [BODY]")
	}
	out, err := signedCall(ctx, *endpoint, *service, fs.Arg(0), fs.Arg(1), []byte(fs.Arg(2)))
	if err != nil {
		return err
	}
	stdout.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	return nil
}

// signedCall sends a request signed for service with the exported AWS_*
// credentials and returns the body of a successful answer; any other
// answer is an error carrying the status, exception and body.
func signedCall(ctx context.Context, endpoint, service, method, path string, body []byte) ([]byte, error) {
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	if key == "" || secret == "" || endpoint == "" {
		return nil, errors.New(`set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and PARLEY_ENDPOINT first: eval "$(parley env)"`)
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), strings.TrimSuffix(endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s", resp.Status, resp.Header.Get("X-Amzn-ErrorType"), bytes.TrimSpace(out))
	}
	return out, nil
}
