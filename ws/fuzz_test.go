package ws

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// FuzzClientFrames reads any byte stream as a client's frames, through the
// checks readLoop applies (header rules, sizes, UTF-8, close payloads) and
// the decoding of each complete message into a request, as the IVS
// messaging and Chime device handlers decode it. Nothing may panic, every
// close code sent must be one an endpoint may send, and a message handed
// on must satisfy what the checks promise.
func FuzzClientFrames(f *testing.F) {
	frame := func(fin bool, op ws.OpCode, p []byte) []byte {
		var b bytes.Buffer
		h := ws.Header{Fin: fin, OpCode: op, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: int64(len(p))}
		ws.WriteHeader(&b, h)
		m := append([]byte(nil), p...)
		ws.Cipher(m, h.Mask, 0)
		b.Write(m)
		return b.Bytes()
	}
	cat := func(fs ...[]byte) []byte { return bytes.Join(fs, nil) }
	f.Add(frame(true, ws.OpText, []byte(`{"Action":"SEND_MESSAGE","RequestId":"r","Content":"hi","Attributes":{"a":"b"}}`)))
	f.Add(cat(frame(false, ws.OpText, []byte(`{"Action":"GET_MESSAGES",`)), frame(true, ws.OpPing, []byte("p")),
		frame(true, ws.OpContinuation, []byte(`"RoomId":"r","Limit":5}`))))
	f.Add(frame(true, ws.OpClose, ws.NewCloseFrameBody(4000, "bye")))
	f.Add(frame(true, ws.OpClose, []byte{3}))
	f.Add(frame(true, ws.OpText, []byte{0xff}))
	f.Add(frame(true, ws.OpContinuation, nil))
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		var message []byte
		var messageOp ws.OpCode
		for {
			h, err := ws.ReadHeader(r)
			if err != nil {
				return
			}
			if !h.Masked {
				return
			}
			if code, _ := checkHeader(h, messageOp != 0); code != 0 {
				if code != ws.StatusProtocolError {
					t.Fatalf("header check closes with %d", code)
				}
				return
			}
			if h.Length > maxFrame || int64(len(message))+h.Length > maxFrame {
				return
			}
			if h.OpCode.IsControl() && (h.Length > 125 || !h.Fin) {
				t.Fatalf("control frame %+v passed the checks", h)
			}
			payload := make([]byte, h.Length)
			if _, err := io.ReadFull(r, payload); err != nil {
				return
			}
			ws.Cipher(payload, h.Mask, 0)
			switch h.OpCode {
			case ws.OpClose:
				code, reason := closeReply(payload)
				if !sendableCloseCode(code) {
					t.Fatalf("close payload %x answered with code %d", payload, code)
				}
				if !utf8.ValidString(reason) {
					t.Fatalf("close reason %q", reason)
				}
				return
			case ws.OpText, ws.OpBinary, ws.OpContinuation:
				if h.OpCode != ws.OpContinuation {
					messageOp = h.OpCode
				} else if messageOp == 0 {
					t.Fatal("a continuation passed with no message open")
				}
				message = append(message, payload...)
				if !h.Fin {
					continue
				}
				op := messageOp
				messageOp = 0
				if op == ws.OpText && !utf8.Valid(message) {
					return
				}
				var req request
				if json.Unmarshal(message, &req) == nil {
					for _, raw := range []json.RawMessage{req.Action, req.RequestID, req.Content, req.ID, req.UserID, req.Reason, req.RoomID} {
						if s, present, ok := str(raw); ok && !present && s != "" {
							t.Fatalf("absent member decoded to %q", s)
						}
					}
					attrs(req.Attributes)
				}
				message = nil
			}
		}
	})
}
