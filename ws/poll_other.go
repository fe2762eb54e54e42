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

// writeNow writes nothing here: the frame is queued for the writer.
func writeNow(syscall.RawConn, []byte) int { return 0 }

// canWritevNow: elsewhere every burst of frames is written by a writer
// goroutine (see flusher).
const canWritevNow = false

func writevNow(syscall.RawConn, [][]byte) ([][]byte, error) { return nil, errors.ErrUnsupported }
