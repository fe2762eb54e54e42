package parley_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// FuzzParseARN parses anything as an IVS Chat ARN: what it accepts puts
// back together into the input, with no colon inside region or account.
func FuzzParseARN(f *testing.F) {
	for _, s := range []string{"arn:aws:ivschat:us-east-1:123456789012:room/abcdEFGH1234",
		"arn:aws:ivschat:us-west-2:123456789012:logging-configuration/ABcdef34ghIJ", "arn:aws:ivschat:::", "arn::ivschat:a:b:c/d/e", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parley.ParseARN(s)
		if !ok {
			return
		}
		if strings.Contains(p.Region, ":") || strings.Contains(p.AccountID, ":") || strings.Contains(p.Kind, "/") {
			t.Fatalf("%q parsed to %+v", s, p)
		}
		partition := strings.SplitN(s, ":", 3)[1]
		if back := "arn:" + partition + ":ivschat:" + p.Region + ":" + p.AccountID + ":" + p.Kind + "/" + p.ID; back != s {
			t.Fatalf("%q parsed to %+v, which reads back as %q", s, p, back)
		}
	})
}
