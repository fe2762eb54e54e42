package inmem_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/bustest"
	"github.com/parley-chat/parley/inmem"
)

func TestBus(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (parley.Bus, parley.Bus) {
		r := inmem.NewRouter()
		a, b := r.Bus(), r.Bus()
		t.Cleanup(func() { a.Close(context.Background()); b.Close(context.Background()) })
		return a, b
	})
}
