package federation

import (
	"net/netip"
	"sync"
)

// clientSlots bounds the inbox requests under way per client address
// (RAT-09), from the moment their headers are read: one address (an IPv4
// address, or an IPv6 /64, which one subscriber usually holds whole)
// cannot hold more than max of them, slow bodies included. Behind a
// reverse proxy the address is the one internal/server.ClientAddress
// found in X-Forwarded-For.
type clientSlots struct {
	max int

	mu sync.Mutex
	// mu guards busy.
	busy map[netip.Prefix]int // only addresses with requests under way
}

func newClientSlots(max int) *clientSlots {
	return &clientSlots{max: max, busy: make(map[netip.Prefix]int)}
}

// acquire takes a slot of the client at remoteAddr (host:port). It returns
// false when all of the client's slots are taken; otherwise release gives
// the slot back. An address that does not parse is not limited here.
func (c *clientSlots) acquire(remoteAddr string) (release func(), ok bool) {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return func() {}, true
	}
	key := clientKey(ap.Addr())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy[key] >= c.max {
		return nil, false
	}
	c.busy[key]++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.busy[key]--; c.busy[key] <= 0 {
			delete(c.busy, key)
		}
	}, true
}

// clientKey is the unit a client is counted in: its IPv4 address, or the
// /64 of its IPv6 address.
func clientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}
