//go:build !linux

package ws

import (
	"errors"
	"syscall"
)

// poller is Linux's epoll; elsewhere every connection keeps a reader goroutine.
type poller struct{}

func newPoller() (*poller, error)   { return nil, errors.ErrUnsupported }
func (p *poller) add(*conn) error   { return errors.ErrUnsupported }
func (p *poller) rearm(*conn) error { return errors.ErrUnsupported }
func (p *poller) remove(*conn)      {}
func (p *poller) close()            {}
func readable(*conn) bool           { return true }

// canWritevNow: elsewhere every burst of frames is written by a writer
// goroutine (see flusher).
const canWritevNow = false

// writevNow writes nothing here: the frames are the writer's.
func writevNow(_ syscall.RawConn, bufs [][]byte) ([][]byte, error) {
	return bufs, errors.ErrUnsupported
}
