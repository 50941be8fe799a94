package state

import (
	"runtime"

	"github.com/pixform/pixform/addrs"
)

func runtimeGosched() { runtime.Gosched() }

// parseAddrs parses address strings known to be valid.
func parseAddrs(ss []string) []addrs.Addr {
	if ss == nil {
		return nil
	}
	as := make([]addrs.Addr, len(ss))
	for i, s := range ss {
		as[i] = addrs.MustParse(s)
	}
	return as
}

// addrStrings renders addresses as strings.
func addrStrings(as []addrs.Addr) []string {
	if as == nil {
		return nil
	}
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return ss
}

// parseKeyed rekeys entries keyed by valid address strings.
func parseKeyed(m map[string]Entry) map[addrs.Addr]Entry {
	if m == nil {
		return nil
	}
	out := make(map[addrs.Addr]Entry, len(m))
	for k, e := range m {
		out[addrs.MustParse(k)] = e
	}
	return out
}

// stringKeyed rekeys entries by their addresses' strings, as the lockfile's
// JSON keys them.
func stringKeyed(m map[addrs.Addr]Entry) map[string]Entry {
	out := make(map[string]Entry, len(m))
	for a, e := range m {
		out[a.String()] = e
	}
	return out
}
