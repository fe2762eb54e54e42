// Package wstest holds what the WebSocket tests of package ws (a hub over
// httptest) and of cmd/parley (the whole server) share: the RFC 6455
// conformance cases both endpoints must pass, and a messaging client.
package wstest

import (
	"encoding/json"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// RawSocket is a WebSocket a test writes frames to byte by byte.
type RawSocket struct {
	T  *testing.T
	NC net.Conn
	R  io.Reader // what the server sends, after the handshake
}

// Frame writes one masked frame with payload, whatever the header says.
func (s *RawSocket) Frame(h ws.Header, payload []byte) {
	h.Masked, h.Mask, h.Length = true, ws.NewMask(), int64(len(payload))
	p := append([]byte(nil), payload...)
	ws.Cipher(p, h.Mask, 0)
	if err := ws.WriteHeader(s.NC, h); err != nil {
		s.T.Fatal(err)
	}
	s.NC.Write(p)
}

// Next reads the server's next frame within 5s; ok is false if the socket ended.
func (s *RawSocket) Next() (ws.Header, []byte, bool) {
	s.NC.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := ws.ReadHeader(s.R)
	if err != nil {
		return h, nil, false
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(s.R, p); err != nil {
		return h, nil, false
	}
	return h, p, true
}

// CloseCode reads until the server's close frame and returns its code.
func (s *RawSocket) CloseCode() ws.StatusCode {
	s.T.Helper()
	for {
		h, p, ok := s.Next()
		if !ok {
			s.T.Fatal("the socket ended without a close frame")
		}
		if h.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(p)
			return code
		}
	}
}

// RunStrict checks that each kind of socket open opens closes with the code
// RFC 6455 prescribes for each kind of malformed frame (a client frame or
// message over maxFrame bytes: 1009), and takes what it allows: a message
// in fragments with a ping between them, pings within the control-frame
// burst. A socket must accept SEND_MESSAGE with RequestId "r1" and answer it.
func RunStrict(t *testing.T, open map[string]func(t *testing.T) *RawSocket, maxFrame int) {
	type step struct {
		h ws.Header
		p []byte
	}
	one := func(h ws.Header, p []byte) []step { return []step{{h, p}} }
	closeBody := func(code ws.StatusCode, reason string) []byte { return ws.NewCloseFrameBody(code, reason) }
	cases := []struct {
		name  string
		steps []step
		want  ws.StatusCode
	}{
		{"unmasked frame", nil, ws.StatusProtocolError}, // written by hand below
		{"RSV1 without an extension", one(ws.Header{Fin: true, OpCode: ws.OpText, Rsv: ws.Rsv(true, false, false)}, []byte("{}")), ws.StatusProtocolError},
		{"RSV3", one(ws.Header{Fin: true, OpCode: ws.OpPing, Rsv: ws.Rsv(false, false, true)}, nil), ws.StatusProtocolError},
		{"reserved opcode", one(ws.Header{Fin: true, OpCode: 0x3}, nil), ws.StatusProtocolError},
		{"ping over 125 bytes", one(ws.Header{Fin: true, OpCode: ws.OpPing}, make([]byte, 126)), ws.StatusProtocolError},
		{"close over 125 bytes", one(ws.Header{Fin: true, OpCode: ws.OpClose}, append(closeBody(1000, ""), make([]byte, 124)...)), ws.StatusProtocolError},
		{"fragmented ping", one(ws.Header{Fin: false, OpCode: ws.OpPing}, []byte("a")), ws.StatusProtocolError},
		{"continuation without a start", one(ws.Header{Fin: true, OpCode: ws.OpContinuation}, []byte("{}")), ws.StatusProtocolError},
		{"new message mid-fragment", []step{{ws.Header{Fin: false, OpCode: ws.OpText}, []byte(`{"Action":`)}, {ws.Header{Fin: true, OpCode: ws.OpText}, []byte(`{}`)}}, ws.StatusProtocolError},
		{"frame over 64 KiB", one(ws.Header{Fin: true, OpCode: ws.OpText}, make([]byte, maxFrame+1)), ws.StatusMessageTooBig},
		{"message over 64 KiB in fragments", []step{{ws.Header{Fin: false, OpCode: ws.OpText}, make([]byte, maxFrame/2)}, {ws.Header{Fin: true, OpCode: ws.OpContinuation}, make([]byte, maxFrame/2+1)}}, ws.StatusMessageTooBig},
		{"invalid UTF-8 text", one(ws.Header{Fin: true, OpCode: ws.OpText}, []byte{'"', 0xff, 0xfe, '"'}), ws.StatusInvalidFramePayloadData},
		{"invalid UTF-8 across fragments", []step{{ws.Header{Fin: false, OpCode: ws.OpText}, []byte{'"', 0xe2, 0x82}}, {ws.Header{Fin: true, OpCode: ws.OpContinuation}, []byte{'"'}}}, ws.StatusInvalidFramePayloadData},
		{"close 1005 (never sent)", one(ws.Header{Fin: true, OpCode: ws.OpClose}, closeBody(1005, "")), ws.StatusProtocolError},
		{"close 1004 (reserved)", one(ws.Header{Fin: true, OpCode: ws.OpClose}, closeBody(1004, "")), ws.StatusProtocolError},
		{"close 999", one(ws.Header{Fin: true, OpCode: ws.OpClose}, closeBody(999, "")), ws.StatusProtocolError},
		{"close 2000", one(ws.Header{Fin: true, OpCode: ws.OpClose}, closeBody(2000, "")), ws.StatusProtocolError},
		{"close 5000", one(ws.Header{Fin: true, OpCode: ws.OpClose}, closeBody(5000, "")), ws.StatusProtocolError},
		{"close with one byte", one(ws.Header{Fin: true, OpCode: ws.OpClose}, []byte{3}), ws.StatusProtocolError},
		{"close reason not UTF-8", one(ws.Header{Fin: true, OpCode: ws.OpClose}, append(closeBody(1000, ""), 0xff)), ws.StatusInvalidFramePayloadData},
		{"close 4000 echoed", one(ws.Header{Fin: true, OpCode: ws.OpClose}, closeBody(4000, "bye")), 4000},
		{"close 1001 echoed", one(ws.Header{Fin: true, OpCode: ws.OpClose}, closeBody(1001, "")), 1001},
		{"empty close", one(ws.Header{Fin: true, OpCode: ws.OpClose}, nil), ws.StatusNormalClosure},
	}
	for kind, open := range open {
		for _, tt := range cases {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				s := open(t)
				if tt.steps == nil {
					ws.WriteFrame(s.NC, ws.NewTextFrame([]byte("{}"))) // unmasked
				}
				for _, st := range tt.steps {
					s.Frame(st.h, st.p)
				}
				if got := s.CloseCode(); got != tt.want {
					t.Fatalf("close code %d, want %d", got, tt.want)
				}
			})
		}
		t.Run(kind+"/valid fragments", func(t *testing.T) {
			// A message in three fragments with a ping between them and a
			// character split across two, which is valid UTF-8 once joined.
			s := open(t)
			s.Frame(ws.Header{Fin: false, OpCode: ws.OpText}, []byte(`{"Action":"SEND_MESSAGE","RequestId":"r1","Content":"caf`))
			s.Frame(ws.Header{Fin: true, OpCode: ws.OpPing}, []byte("p"))
			s.Frame(ws.Header{Fin: false, OpCode: ws.OpContinuation}, []byte{0xc3})
			s.Frame(ws.Header{Fin: true, OpCode: ws.OpContinuation}, []byte{0xa9, '"', '}'})
			pong, reply := false, false
			for !pong || !reply {
				h, p, ok := s.Next()
				if !ok {
					t.Fatalf("socket ended (pong %v, reply %v)", pong, reply)
				}
				switch h.OpCode {
				case ws.OpPong:
					pong = string(p) == "p"
				case ws.OpText:
					var f struct {
						RequestID string `json:"RequestId"`
					}
					json.Unmarshal(p, &f)
					reply = reply || f.RequestID == "r1"
				case ws.OpClose:
					code, _ := ws.ParseCloseFrameData(p)
					t.Fatalf("closed with %d", code)
				}
			}
		})
		t.Run(kind+"/ping flood", func(t *testing.T) {
			s := open(t)
			for range 10 {
				s.Frame(ws.Header{Fin: true, OpCode: ws.OpPing}, []byte("x"))
			}
			for range 10 {
				if h, _, ok := s.Next(); !ok || h.OpCode != ws.OpPong {
					t.Fatalf("a ping within the burst was not answered: %v %v", h.OpCode, ok)
				}
			}
			for range 1000 {
				s.Frame(ws.Header{Fin: true, OpCode: ws.OpPing}, []byte("x"))
			}
			if got := s.CloseCode(); got != ws.StatusPolicyViolation {
				t.Fatalf("close code %d, want 1008", got)
			}
		})
	}
}
