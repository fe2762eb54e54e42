package parley

import "crypto/rand"

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns a 12-character ID over [A-Za-z0-9] from a CSPRNG, the shape
// of IVS room, logging configuration, message and event IDs. With 62^12
// (about 2^71) values, collisions are negligible for the life of a server.
func NewID() string { return randomString(12, idAlphabet) }

// randomString draws n characters uniformly from alphabet (len < 256),
// rejecting bytes that would bias the draw.
func randomString(n int, alphabet string) string {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(alphabet)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		rand.Read(buf) // never fails (crypto/rand since Go 1.24)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// NewAccessKeyID returns an AWS-shaped access key ID ("AKIA" + 16 of [A-Z2-7]).
func NewAccessKeyID() string { return "AKIA" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") }

// NewSecretAccessKey returns a 40-character secret of the shape AWS uses.
func NewSecretAccessKey() string {
	return randomString(40, idAlphabet+"+/")
}

// NewAccountID returns a random 12-digit AWS account ID.
func NewAccountID() string {
	return randomString(1, "123456789") + randomString(11, "0123456789")
}
