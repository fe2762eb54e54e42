package parley

import "context"

// Principal is the authenticated caller of an API request.
type Principal struct {
	AccessKeyID string
	Scope              // the key's account and the region the request was signed for
	Service     string // the SigV4 service name: "ivschat" or "chime"
}

type contextKey int

const principalKey contextKey = 0

// NewContextWithPrincipal returns ctx carrying p.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFromContext returns the caller; ok is false for unauthenticated contexts.
func PrincipalFromContext(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey).(Principal)
	return p, ok
}
