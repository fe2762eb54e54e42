package control

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Ensure callers that arrive while a read of the live nodes runs share
// the next read, which starts after they asked, and never the running one:
// a node that became live before a command was durable is always seen.
func TestLiveReaderReadsAfterEachCaller(t *testing.T) {
	var reads atomic.Int32
	release := make(chan struct{})
	started := make(chan int32, 10)
	l := &liveReader{timeout: time.Second, read: func(context.Context) ([]string, error) {
		n := reads.Add(1)
		started <- n
		<-release
		return []string{"node-" + string('0'+rune(n))}, nil
	}}
	first := make(chan []string)
	go func() { nodes, _ := l.get(t.Context()); first <- nodes }()
	if n := <-started; n != 1 {
		t.Fatalf("read %d started, want 1", n)
	}
	// Five callers arrive while read 1 runs: they must wait for read 2.
	var wg sync.WaitGroup
	later := make([][]string, 5)
	for i := range later {
		wg.Add(1)
		go func() { defer wg.Done(); later[i], _ = l.get(t.Context()) }()
	}
	time.Sleep(50 * time.Millisecond) // let them queue
	release <- struct{}{}
	if got := <-first; len(got) != 1 || got[0] != "node-1" {
		t.Fatalf("first caller got %v, want node-1", got)
	}
	if n := <-started; n != 2 {
		t.Fatalf("read %d started, want 2", n)
	}
	release <- struct{}{}
	wg.Wait()
	for i, got := range later {
		if len(got) != 1 || got[0] != "node-2" {
			t.Errorf("caller %d that arrived during read 1 got %v, want read 2's node-2", i, got)
		}
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d reads for six callers in two rounds, want 2", n)
	}
}

// Ensure a caller that gives up does not fail the others sharing its read.
func TestLiveReaderCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	l := &liveReader{timeout: time.Second, read: func(context.Context) ([]string, error) {
		<-release
		return []string{"a"}, nil
	}}
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error)
	go func() { _, err := l.get(ctx); gaveUp <- err }()
	stayed := make(chan []string)
	go func() { nodes, _ := l.get(t.Context()); stayed <- nodes }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("a caller that gave up got no error")
	}
	close(release)
	if got := <-stayed; len(got) != 1 || got[0] != "a" {
		t.Fatalf("the other caller got %v, want [a]", got)
	}
}
