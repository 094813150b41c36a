package fetch

import "net/netip"

// SetAfterAllow installs the guard's test hook.
func (c *Client) SetAfterAllow(f func(netip.AddrPort) error) { c.guard.afterAllow = f }

// Control exposes the guard's Control hook.
func (c *Client) Control(network, address string) error {
	return c.guard.control(network, address, nil)
}

var Classify = classify
