package fetch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// Resolver resolves host names. *net.Resolver implements it; tests pass a
// stub so that no lookup leaves the machine.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// blocked lists the ranges no fetch may reach, with the reason reported.
// Loopback is handled apart because Options.AllowLoopback lets it through.
var blocked = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "CGNAT"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("192.0.2.0/24"), "reserved"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
	{netip.MustParsePrefix("198.51.100.0/24"), "reserved"},
	{netip.MustParsePrefix("203.0.113.0/24"), "reserved"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // includes 255.255.255.255
	{netip.MustParsePrefix("::/128"), "unspecified"},
	// SIIT's IPv4-translated form (RFC 2765) and Teredo (RFC 4380) both
	// reach IPv4 hosts through a translator, so no address in them is
	// known to be public.
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "reserved"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "reserved"},
	{netip.MustParsePrefix("100::/64"), "reserved"},
	{netip.MustParsePrefix("2001::/32"), "reserved"},
	{netip.MustParsePrefix("2001:db8::/32"), "reserved"},
	{netip.MustParsePrefix("fc00::/7"), "private"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "private"}, // deprecated site-local
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

var (
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4  = netip.MustParsePrefix("2002::/16")
	v4compa = netip.MustParsePrefix("::/96") // deprecated IPv4-compatible
)

// classify returns why addr is refused, or "" when it may be reached.
// IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4)
// are judged by the embedded address, so that ::ffff:10.0.0.1 is as
// private as 10.0.0.1. allowLoopback lets through the loopback addresses
// themselves, 127.0.0.0/8 and ::1 (the IPv4-mapped ::ffff:127.0.0.1 is
// 127.0.0.1 on the wire). A compatible, NAT64 or 6to4 address that
// embeds 127.0.0.1 is none of them: it is routed as IPv6, to a tunnel, a
// translator or a relay, whose own loopback it may reach, so it stays
// refused.
func classify(addr netip.Addr, allowLoopback bool) string {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		addr = addr.Unmap()
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			return classify(netip.AddrFrom4([4]byte(b[12:16])), false)
		case sixTo4.Contains(addr):
			return classify(netip.AddrFrom4([4]byte(b[2:6])), false)
		case v4compa.Contains(addr) && addr != netip.IPv6Loopback() && addr != netip.IPv6Unspecified():
			return classify(netip.AddrFrom4([4]byte(b[12:16])), false)
		}
	}
	if addr.IsLoopback() {
		if allowLoopback {
			return ""
		}
		return "loopback"
	}
	for _, b := range blocked {
		if b.prefix.Contains(addr) {
			return b.reason
		}
	}
	return ""
}

// guard dials through the resolver and refuses blocked addresses in the
// dialer's Control hook: Control runs after the socket is made and before
// connect(2), so a refused address never sees a packet, whatever the name
// resolved to (this is what defeats DNS rebinding: the address checked is
// the address connected to).
type guard struct {
	resolver      Resolver
	dialer        net.Dialer
	allowLoopback bool
	// afterAllow, when set (by tests only), is called for every address
	// the guard let through, before connect. Tests of refusals set it to
	// fail, so that a broken guard still sends nothing.
	afterAllow func(netip.AddrPort) error
}

func (g *guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Reason: fmt.Sprintf("not an IP address (%q)", address)}
	}
	if reason := classify(ap.Addr(), g.allowLoopback); reason != "" {
		return &RefusedError{Addr: ap.Addr(), Reason: reason}
	}
	if g.afterAllow != nil {
		return g.afterAllow(ap)
	}
	return nil
}

// dialContext resolves addr's host and dials each address in turn. The
// Control hook refuses blocked ones; the first refusal or failure is
// returned when none connects.
func (g *guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid port %q", portStr)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		addrs, err = g.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, &dnsError{host: host, err: err}
		}
		if len(addrs) == 0 {
			return nil, &dnsError{host: host, err: fmt.Errorf("no addresses")}
		}
	}
	var first error
	for _, ip := range addrs {
		c, err := g.dialer.DialContext(ctx, network, netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// dnsError marks a failed look-up so that the client maps it to ErrDNS.
type dnsError struct {
	host string
	err  error
}

func (e *dnsError) Error() string { return "lookup " + e.host + ": " + e.err.Error() }
func (e *dnsError) Unwrap() error { return e.err }
