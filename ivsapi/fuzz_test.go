package ivsapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/parley-chat/parley/internal/apitest"
	"github.com/parley-chat/parley/ivsapi"
)

var operations = []string{"CreateRoom", "GetRoom", "UpdateRoom", "DeleteRoom", "ListRooms", "CreateChatToken", "SendEvent",
	"DeleteMessage", "DisconnectUser", "CreateLoggingConfiguration", "GetLoggingConfiguration", "UpdateLoggingConfiguration",
	"DeleteLoggingConfiguration", "ListLoggingConfigurations", "tags"}

// FuzzIVSAPI sends any body (and, for the tag operations, any ARN) to
// every IVS Chat operation of a real service. Whatever the input, the
// answer is a client error or success, never a server error, and an error
// is one the AWS clients can parse: X-Amzn-ErrorType and a JSON body.
func FuzzIVSAPI(f *testing.F) {
	svc, _ := apitest.Service(f)
	api := ivsapi.New(svc.IVS(), nil, nil)
	arn := "arn:aws:ivschat:us-east-1:123456789012:room/abcdEFGH1234"
	for i, body := range []string{`{}`, `{"name":"a","maximumMessageLength":500,"tags":{"k":"v"}}`,
		`{"identifier":"` + arn + `"}`, `{"roomIdentifier":"` + arn + `","userId":"u","capabilities":["SEND_MESSAGE"],"attributes":{"a":"b"}}`,
		`{"maxResults":0,"nextToken":"x"}`, `{"destinationConfiguration":{"s3":{"bucketName":"b"}}}`,
		`{"messageReviewHandler":{"uri":"arn:aws:lambda:us-east-1:123456789012:function:f","fallbackResult":"DENY"}}`,
		`{"tags":{"":"x"}}`, `[]`, `{"name":1}`, `null`, "\xff"} {
		f.Add(byte(i), body, arn)
	}
	f.Fuzz(func(t *testing.T, op byte, body, resource string) {
		name := operations[int(op)%len(operations)]
		method, path := "POST", "/"+name
		if name == "tags" {
			method = []string{"GET", "POST", "DELETE"}[int(op)%3]
			path = "/tags/" + url.PathEscape(resource) + "?tagKeys=" + url.QueryEscape(body)
		}
		r := httptest.NewRequest(method, "http://parley"+path, bytes.NewReader([]byte(body)))
		w := httptest.NewRecorder()
		api.ServeHTTP(w, apitest.Request(r, apitest.Principal))
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			if w.Header().Get("X-Amzn-ErrorType") == "" || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %s %q: error %d without a type or JSON body: %q", method, path, body, w.Code, w.Body)
			}
		} else if w.Code != http.StatusNoContent && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s %q: %d body is not JSON: %q", method, path, body, w.Code, w.Body)
		}
	})
}
