package crashtest

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recorder is the remote inboxes: it records every delivery that it
// accepts, and fails the first attempt of some, so that retries happen
// too.
type recorder struct {
	mu       sync.Mutex
	got      map[string][]arrival // activity → accepted arrivals
	attempts map[string]int
}

type arrival struct {
	at     time.Time
	worker string
	inbox  string
}

func newRecorder() *recorder {
	return &recorder{got: make(map[string][]arrival), attempts: make(map[string]int)}
}

// flaky reports whether the first attempt of activity n fails with 503.
func flaky(n int) bool { return n%97 == 5 }

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	var doc struct{ ID string }
	if err != nil || req.Method != http.MethodPost || json.Unmarshal(body, &doc) != nil || doc.ID == "" {
		http.Error(w, "bad delivery", http.StatusBadRequest)
		return
	}
	now := time.Now()
	r.mu.Lock()
	r.attempts[doc.ID]++
	first := r.attempts[doc.ID] == 1
	n := number(doc.ID)
	if first && flaky(n) {
		r.mu.Unlock()
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	r.got[doc.ID] = append(r.got[doc.ID], arrival{at: now, worker: req.Header.Get("X-Worker"), inbox: req.URL.Path})
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// delivered counts the activities accepted at least once.
func (r *recorder) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func number(activity string) int {
	m := activityRE.FindStringSubmatch(activity)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// check asserts exactly once, ordering, and that the victim's deliveries
// were taken over only after its lease expired.
func (r *recorder) check(t *testing.T, want map[string]int, frozen []frozenDelivery) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var dups, missing, unknown []string
	for act := range want {
		switch len(r.got[act]) {
		case 1:
		case 0:
			missing = append(missing, act)
		default:
			dups = append(dups, act)
		}
	}
	for act := range r.got {
		if _, ok := want[act]; !ok {
			unknown = append(unknown, act)
		}
	}
	sort.Strings(dups)
	sort.Strings(missing)
	if len(dups)+len(missing)+len(unknown) > 0 {
		t.Fatalf("%d duplicated (%.5q), %d missing (%.5q), %d unknown deliveries", len(dups), dups, len(missing), missing, len(unknown))
	}
	retried := 0
	for act, n := range want {
		if flaky(n) {
			if r.attempts[act] != 2 {
				t.Errorf("%s: %d attempts, want 2 (one 503, one success)", act, r.attempts[act])
			}
			retried++
		}
		if n%2 == 1 {
			create := r.got[activityOf(n-1)][0]
			del := r.got[act][0]
			if del.at.Before(create.at) {
				t.Errorf("%s (a Delete) arrived at %v, before its Create at %v", act, del.at, create.at)
			}
		}
	}
	for _, f := range frozen {
		a := r.got[f.Activity][0]
		if a.worker == "victim" {
			t.Errorf("%s was delivered by the killed worker", f.Activity)
		}
		if a.at.Before(f.Expires.Add(-5 * time.Millisecond)) {
			t.Errorf("%s was taken over at %v, before the killed worker's lease expired at %v", f.Activity, a.at, f.Expires)
		}
	}
	by := map[string]int{}
	for _, as := range r.got {
		by[as[0].worker]++
	}
	t.Logf("%d deliveries arrived exactly once, in order; %d after a 503 and a retry; %d taken over from the killed worker; by worker: %v", len(want), retried, len(frozen), by)
}

func activityOf(n int) string {
	return "https://example.test/activities/" + strconv.Itoa(n)
}
