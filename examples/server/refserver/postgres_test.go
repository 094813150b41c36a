package refserver_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/internal/testenv"
)

// TestPostgresProcesses: two reference server processes share one
// PostgreSQL database and its delivery queue; 60 notes to a remote
// follower each reach it exactly once, whichever process delivers them.
func TestPostgresProcesses(t *testing.T) {
	dsn := os.Getenv("FEDI_TEST_POSTGRES")
	if dsn == "" {
		testenv.Missing(t, "FEDI_TEST_POSTGRES is not set: this test needs a PostgreSQL database")
	}
	if testing.Short() {
		t.Skip("builds and runs two server processes")
	}
	ctx := context.Background()
	schema := "fedi_ref_" + randomHex()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	shared := dsn + sep + "search_path=" + schema

	bin := filepath.Join(t.TempDir(), "fedi-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/fedi-go/fedi/examples/server")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	portA, portB := freePort(t), freePort(t)
	origin := fmt.Sprintf("http://127.0.0.1:%d", portA)
	startProcess(t, bin, "-addr", fmt.Sprintf("127.0.0.1:%d", portA), "-origin", origin, "-postgres", shared, "-allow-loopback", "-control")
	startProcess(t, bin, "-addr", fmt.Sprintf("127.0.0.1:%d", portB), "-origin", origin, "-postgres", shared, "-allow-loopback", "-control")
	b := fmt.Sprintf("http://127.0.0.1:%d", portB)

	rem := fedtest.NewRemote(t)
	rob := rem.Actor(t, "rob", 0)
	alice := origin + "/users/alice"
	follow := fedtest.JSON(`{"id":%q,"type":"Follow","actor":%q,"object":%q}`, rob+"/follow/1", rob, alice)
	status, msg := fedtest.Do(t, rem.Signed(t, rob, alice+"/inbox", follow))
	require.Equal(t, http.StatusAccepted, status, msg)

	const n = 60
	for i := range n {
		// Half the notes are posted through each process.
		base := origin
		if i%2 == 1 {
			base = b
		}
		body := fmt.Sprintf(`{"content":"note %d","visibility":"public"}`, i)
		resp, err := http.Post(base+"/_control/note", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	creates := func() map[string]int {
		seen := map[string]int{}
		for _, b := range rem.Got("/inbox") {
			var a struct{ ID, Type string }
			if json.Unmarshal(b, &a) == nil && a.Type == "Create" {
				seen[a.ID]++
			}
		}
		return seen
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(creates()) < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // time for a second copy to show up, if one were sent
	seen := creates()
	for name, base := range map[string]string{"A": origin, "B": b} {
		var out []struct{ Outcome, URL string }
		resp, err := http.Get(base + "/_control/outgoing")
		require.NoError(t, err)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		resp.Body.Close()
		delivered := 0
		for _, o := range out {
			if o.Outcome == "delivered" && strings.HasPrefix(o.URL, rem.URL) {
				delivered++
			}
		}
		t.Logf("process %s delivered %d", name, delivered)
	}
	assert.Len(t, seen, n, "every note reached the follower")
	for id, c := range seen {
		assert.Equal(t, 1, c, "%s was delivered %d times", id, c)
	}
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startProcess runs the server binary until the test ends, waiting for
// its banner; it stops it with SIGTERM (SIGKILL after 10 s), by PID.
func startProcess(t *testing.T, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, append(args, "-log-level", "warn")...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.HasPrefix(sc.Text(), "fedi reference server on") {
				close(ready)
				signalled = true
			}
		}
	}()
	select {
	case <-ready:
	case <-waited:
		t.Fatalf("the server exited: %s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start within 60 s: %s", stderr.String())
	}
}
