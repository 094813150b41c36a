// Package crashtest proves a storage.Queue in several operating-system
// processes: workers drain thousands of deliveries to a recording HTTP
// server on loopback while one of them is killed with SIGKILL holding a
// lease, and the test checks that every delivery arrived exactly once and
// in order.
//
// The test binary is its own worker: Run re-executes it with the running
// test selected and an environment variable that turns the same test
// function into a worker process.
package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// Options describes one crash test.
type Options struct {
	// Open opens the queue under test. The parent calls it to enqueue and
	// to check the queue afterwards, and every worker process calls it
	// once; it must find the same queue each time, through values the
	// test put in the environment (which workers inherit).
	Open func(ctx context.Context) (q storage.Queue, close func(), err error)
	// Deliveries is how many deliveries to drain.
	Deliveries int
	// Workers is how many worker processes run at once. The first is the
	// victim: it freezes holding a leased batch and is killed.
	Workers int
	// Restart starts a new worker process in place of the killed one.
	Restart bool
	// Visibility is the workers' lease visibility timeout: how long the
	// killed worker's deliveries stay leased.
	Visibility time.Duration
	// Timeout bounds the whole test.
	Timeout time.Duration
}

// Environment variables that make a re-executed test binary a worker.
const (
	envRole   = "FEDI_CRASHTEST_ROLE"   // "worker"
	envName   = "FEDI_CRASHTEST_NAME"   // the worker's name
	envFreeze = "FEDI_CRASHTEST_FREEZE" // freeze after this many non-empty leases
	envVis    = "FEDI_CRASHTEST_VISIBILITY"
)

// batch is how many deliveries a worker leases at once.
const batch = 16

// Run runs the crash test, or, in a worker process, the worker.
func Run(t *testing.T, opts Options) {
	t.Helper()
	if os.Getenv(envRole) == "worker" {
		worker(t, opts)
		return
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()

	rec := newRecorder()
	srv := &http.Server{Handler: rec}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// Workers start first, against a store that may be brand new, so
	// that they also race to migrate it.
	var (
		mu      sync.Mutex
		workers []*proc
	)
	died := make(chan *proc, opts.Workers+1) // workers that exit unasked
	start := func(name string, freeze int) *proc {
		p, err := startWorker(t, name, freeze, opts.Visibility, died)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		workers = append(workers, p)
		mu.Unlock()
		return p
	}
	victim := start("victim", 2)
	for i := 1; i < opts.Workers; i++ {
		start(fmt.Sprintf("worker%d", i), 0)
	}
	defer func() {
		for _, p := range workers {
			p.stop()
		}
		if t.Failed() {
			for _, p := range workers {
				t.Logf("worker %s output:\n%s", p.name, p.out.String())
			}
		}
	}()

	q, closeQ, err := opts.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeQ()
	want := enqueue(t, ctx, q, base, opts.Deliveries)
	t.Logf("enqueued %d deliveries", len(want))

	// Kill the victim once it holds a lease it will never settle.
	var frozen []frozenDelivery
	select {
	case frozen = <-victim.frozen:
	case p := <-died:
		t.Fatalf("worker %s exited: %v", p.name, p.err)
	case <-ctx.Done():
		t.Fatal("the victim never froze holding a lease")
	}
	if err := victim.kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the victim holding %d leased deliveries", len(frozen))
	if opts.Restart {
		start("restarted", 0)
	}

	// Wait for everything to arrive, then a little more for strays.
	for rec.delivered() < len(want) {
		select {
		case p := <-died:
			t.Fatalf("worker %s exited: %v", p.name, p.err)
		case <-ctx.Done():
			t.Fatalf("%d of %d deliveries arrived before the timeout", rec.delivered(), len(want))
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(200 * time.Millisecond)
	for _, p := range workers[1:] {
		if err := p.stop(); err != nil {
			t.Errorf("worker %s: %v", p.name, err)
		}
	}
	rec.check(t, want, frozen)
	st, err := q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st != (storage.QueueStats{}) {
		t.Errorf("queue not empty after the drain: %+v", st)
	}
}

// delivery numbers: activity n is a Create when n is even and the Delete
// of the same note when n is odd, to the same inbox, so that ordering can
// be checked.
var activityRE = regexp.MustCompile(`/activities/(\d+)$`)

func enqueue(t *testing.T, ctx context.Context, q storage.Queue, base string, n int) map[string]int {
	want := make(map[string]int, n)
	var ds []storage.Delivery
	for i := range n {
		act := fmt.Sprintf("https://example.test/activities/%d", i)
		note := fmt.Sprintf("https://example.test/notes/%d", i/2)
		typ := "Create"
		if i%2 == 1 {
			typ = "Delete"
		}
		body, _ := json.Marshal(map[string]any{"id": act, "type": typ, "object": note})
		ds = append(ds, storage.Delivery{
			Activity:    act,
			Inbox:       fmt.Sprintf("%s/inbox/%d", base, (i/2)%37),
			Body:        body,
			OrderingKey: note,
		})
		want[act] = i
		if len(ds) == 500 || i == n-1 {
			if err := q.Enqueue(ctx, ds...); err != nil {
				t.Fatal(err)
			}
			ds = ds[:0]
		}
	}
	return want
}

// proc is a worker process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *syncBuffer
	frozen chan []frozenDelivery
	done   chan error
	once   sync.Once

	mu       sync.Mutex
	stopping bool  // stop or kill was called
	err      error // how it exited
}

type frozenDelivery struct {
	Activity string
	Expires  time.Time
}

func startWorker(t *testing.T, name string, freeze int, vis time.Duration, died chan<- *proc) (*proc, error) {
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(parts, "/"), "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(),
		envRole+"=worker",
		envName+"="+name,
		envFreeze+"="+strconv.Itoa(freeze),
		envVis+"="+vis.String(),
	)
	p := &proc{name: name, cmd: cmd, out: &syncBuffer{}, frozen: make(chan []frozenDelivery, 1), done: make(chan error, 1)}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.out.WriteString(line + "\n")
			if rest, ok := strings.CutPrefix(line, "CRASHTEST FROZEN "); ok {
				var fs []frozenDelivery
				if json.Unmarshal([]byte(rest), &fs) == nil {
					p.frozen <- fs
				}
			}
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		asked := p.stopping
		p.mu.Unlock()
		if !asked {
			died <- p
		}
		p.done <- err
	}()
	return p, nil
}

// stop asks a worker to finish (by closing its stdin) and waits for it;
// a worker that does not finish in 10 s is killed.
func (p *proc) stop() error {
	var err error
	p.once.Do(func() {
		p.setStopping()
		p.stdin.Close()
		select {
		case err = <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			err = fmt.Errorf("did not stop within 10 s")
		}
	})
	return err
}

// kill kills a worker with SIGKILL and waits for it to be gone.
func (p *proc) kill() error {
	p.setStopping()
	err := p.cmd.Process.Signal(syscall.SIGKILL)
	p.once.Do(func() {
		p.stdin.Close()
		<-p.done
	})
	return err
}

func (p *proc) setStopping() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) WriteString(s string) {
	b.Write([]byte(s))
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
