package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// worker is the body of a worker process: it leases, POSTs and acks until
// its stdin closes. The victim freezes after its freeze-th non-empty
// lease, announcing what it holds, and waits to be killed.
func worker(t *testing.T, opts Options) {
	name := os.Getenv(envName)
	freeze, _ := strconv.Atoi(os.Getenv(envFreeze))
	vis, err := time.ParseDuration(os.Getenv(envVis))
	if err != nil {
		t.Fatalf("worker %s: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin) // the parent closes stdin to stop us
		cancel()
	}()
	q, closeQ, err := opts.Open(ctx)
	if err != nil {
		t.Fatalf("worker %s: open: %v", name, err)
	}
	defer closeQ()

	client := &http.Client{Timeout: 10 * time.Second}
	leases := 0
	for ctx.Err() == nil {
		ds, err := q.Lease(ctx, batch, vis)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			t.Fatalf("worker %s: lease: %v", name, err)
		}
		if len(ds) == 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		leases++
		if leases == freeze {
			fs := make([]frozenDelivery, len(ds))
			for i, d := range ds {
				fs[i] = frozenDelivery{Activity: d.Activity, Expires: d.LeaseExpires}
			}
			b, _ := json.Marshal(fs)
			fmt.Fprintf(os.Stdout, "CRASHTEST FROZEN %s\n", b)
			time.Sleep(time.Hour) // hold the lease until SIGKILL
		}
		var acks []string
		for _, d := range ds {
			if err := post(ctx, client, name, d); err != nil {
				if ctx.Err() != nil {
					return // told to stop; the lease will expire
				}
				if err := q.Retry(ctx, d.Receipt, time.Now().Add(50*time.Millisecond), err.Error()); err != nil {
					t.Fatalf("worker %s: retry: %v", name, err)
				}
				continue
			}
			acks = append(acks, d.Receipt)
		}
		if err := q.Ack(ctx, acks...); err != nil {
			t.Fatalf("worker %s: ack: %v", name, err)
		}
	}
}

func post(ctx context.Context, client *http.Client, name string, d storage.Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Inbox, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("X-Worker", name)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
