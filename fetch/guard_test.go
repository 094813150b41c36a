package fetch_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/fetch"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr          string
		allowLoopback bool
		want          string
	}{
		{"93.184.216.34", false, ""},
		{"2606:2800:220:1:248:1893:25c8:1946", false, ""},
		{"127.0.0.1", false, "loopback"},
		{"127.9.9.9", false, "loopback"},
		{"127.0.0.1", true, ""},
		{"::1", false, "loopback"},
		{"::1", true, ""},
		{"::ffff:127.0.0.1", false, "loopback"},
		{"::ffff:127.0.0.1", true, ""}, // IPv4-mapped: 127.0.0.1 itself
		// AllowLoopback allows the loopback addresses and nothing else:
		// the forms that embed 127.0.0.1 in an address routed as IPv6
		// stay refused, like the SIIT form below.
		{"64:ff9b::7f00:1", true, "loopback"}, // NAT64 of 127.0.0.1
		{"64:ff9b::7f00:1", false, "loopback"},
		{"2002:7f00:1::1", true, "loopback"}, // 6to4 of 127.0.0.1
		{"2002:7f00:1::1", false, "loopback"},
		{"::7f00:1", true, "loopback"}, // IPv4-compatible 127.0.0.1
		{"::7f00:1", false, "loopback"},
		{"64:ff9b::a00:1", true, "private"}, // NAT64 of 10.0.0.1
		{"10.1.2.3", false, "private"},
		{"10.1.2.3", true, "private"},
		{"172.16.0.1", false, "private"},
		{"172.31.255.255", false, "private"},
		{"172.32.0.1", false, ""},
		{"192.168.1.1", false, "private"},
		{"169.254.169.254", false, "link-local"},
		{"100.64.0.1", false, "CGNAT"},
		{"100.127.255.255", false, "CGNAT"},
		{"224.0.0.1", false, "multicast"},
		{"239.255.255.250", false, "multicast"},
		{"0.0.0.0", false, "unspecified"},
		{"0.1.2.3", false, "unspecified"},
		{"255.255.255.255", false, "reserved"},
		{"::", false, "unspecified"},
		{"fd00::1", false, "private"},
		{"fe80::1", false, "link-local"},
		{"fe80::1%eth0", false, "link-local"},
		{"ff02::1", false, "multicast"},
		{"::ffff:10.0.0.1", false, "private"},
		{"::ffff:169.254.169.254", false, "link-local"},
		{"::ffff:0.0.0.0", false, "unspecified"},
		{"64:ff9b::a00:1", false, "private"},   // NAT64 of 10.0.0.1
		{"2002:c0a8:101::1", false, "private"}, // 6to4 of 192.168.1.1
		{"::a00:1", false, "private"},          // IPv4-compatible 10.0.0.1
		{"64:ff9b::5db8:d822", false, ""},      // NAT64 of a public address
		{"2002:5db8:d822::1", false, ""},       // 6to4 of a public address
		{"192.0.2.10", false, "reserved"},      // documentation
		{"198.18.0.1", false, "reserved"},      // benchmarking
		{"2001:db8::1", false, "reserved"},     // documentation
		{"::ffff:0:a00:1", false, "reserved"},  // SIIT IPv4-translated 10.0.0.1
		{"::ffff:0:7f00:1", true, "reserved"},  // SIIT IPv4-translated 127.0.0.1
		{"::ffff:0:5db8:d822", false, "reserved"},
		{"2001:0:4136:e378:8000:63bf:f5ff:fffe", false, "reserved"}, // Teredo
		{"2001:0::1", false, "reserved"},
		{"2001:1::1", false, ""},            // outside Teredo's /32
		{"2001:4860:4860::8888", false, ""}, // a public address near it
	}
	for _, tt := range tests {
		name := tt.addr
		if tt.allowLoopback {
			name += " with AllowLoopback"
		}
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tt.want, fetch.Classify(netip.MustParseAddr(tt.addr), tt.allowLoopback))
		})
	}
}

// stubResolver answers from a map and never sends a DNS query.
type stubResolver map[string][]string

func (s stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := s[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// TestGuardRefusesBeforeConnecting resolves names to refused addresses
// through a stub resolver and checks that the Control hook refuses them.
// The afterAllow hook fails the test and refuses too, so that even a
// broken guard never lets a packet reach a non-loopback address.
func TestGuardRefusesBeforeConnecting(t *testing.T) {
	res := stubResolver{
		"private.example":   {"10.0.0.5"},
		"metadata.example":  {"169.254.169.254"},
		"mapped.example":    {"::ffff:192.168.1.1"},
		"cgnat.example":     {"100.64.1.1"},
		"multicast.example": {"224.0.0.251"},
		"zero.example":      {"0.0.0.0"},
		"loopback.example":  {"127.0.0.1"},
		"v6local.example":   {"fd12:3456::1"},
		"all-bad.example":   {"10.0.0.1", "172.16.5.4", "::1"},
	}
	for host := range res {
		t.Run(host, func(t *testing.T) {
			c, err := fetch.New(fetch.Options{Resolver: res})
			require.NoError(t, err)
			c.SetAfterAllow(func(ap netip.AddrPort) error {
				t.Errorf("guard let %s through", ap)
				return errors.New("test: refusing to connect")
			})
			_, err = c.Get(context.Background(), "https://"+host+"/users/alice")
			require.ErrorIs(t, err, fetch.ErrRefused)
			var re *fetch.RefusedError
			require.ErrorAs(t, err, &re)
			assert.NotEmpty(t, re.Reason)
		})
	}
}

func TestControlHook(t *testing.T) {
	c, err := fetch.New(fetch.Options{AllowLoopback: true})
	require.NoError(t, err)
	for _, addr := range []string{"10.0.0.1:443", "[::ffff:10.0.0.1]:443", "[fe80::1%lo]:80", "0.0.0.0:80", "not-an-ip:80",
		// 127.0.0.1 embedded in NAT64, 6to4, IPv4-compatible and SIIT
		// addresses is not loopback.
		"[64:ff9b::7f00:1]:80", "[2002:7f00:1::1]:80", "[::7f00:1]:80", "[::ffff:0:7f00:1]:80"} {
		assert.ErrorIs(t, c.Control("tcp", addr), fetch.ErrRefused, addr)
	}
	assert.NoError(t, c.Control("tcp4", "127.0.0.1:8080"))
	assert.NoError(t, c.Control("tcp6", "[::1]:8080"))
	assert.NoError(t, c.Control("tcp6", "[::ffff:127.0.0.1]:8080"))
}

func TestDNSFailure(t *testing.T) {
	c, err := fetch.New(fetch.Options{Resolver: stubResolver{}})
	require.NoError(t, err)
	_, err = c.Get(context.Background(), "https://nowhere.example/x")
	require.ErrorIs(t, err, fetch.ErrDNS)
	var dnsErr *net.DNSError
	assert.ErrorAs(t, err, &dnsErr)
}

// envProxyChild names the child run of TestNoEnvironmentProxy.
const envProxyChild = "FEDI_FETCH_PROXY_CHILD"

// TestNoEnvironmentProxy: the client never goes through a proxy named in
// the environment, which would connect on our behalf, past the guard. The
// check runs in a child process started with HTTP_PROXY and HTTPS_PROXY
// set, because net/http reads them once per process. A stub resolver gives
// a public address, and the guard's test hook records what it allowed and
// then refuses, so nothing leaves the machine: the guard must have judged
// the target's own address, not the proxy's.
func TestNoEnvironmentProxy(t *testing.T) {
	if os.Getenv(envProxyChild) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoEnvironmentProxy$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), envProxyChild+"=1",
			"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9",
			"http_proxy=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9", "NO_PROXY=", "no_proxy=")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNoEnvironmentProxy") {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		return
	}
	c, err := fetch.New(fetch.Options{Resolver: stubResolver{"public.example": {"93.184.216.34"}}})
	require.NoError(t, err)
	var allowed []netip.AddrPort
	c.SetAfterAllow(func(ap netip.AddrPort) error {
		allowed = append(allowed, ap)
		return errors.New("test: refusing to connect")
	})
	for _, u := range []string{"https://public.example/users/alice", "https://93.184.216.34/users/alice"} {
		allowed = nil
		_, err = c.Get(context.Background(), u)
		require.Error(t, err)
		assert.NotErrorIs(t, err, fetch.ErrRefused, "the guard refused an address: the proxy's?")
		assert.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("93.184.216.34:443")}, allowed, "the guard judged the target itself")
	}
}
