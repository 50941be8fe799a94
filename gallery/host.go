package gallery

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// checkHost refuses a request whose Host header does not name the address
// the connection came in on. A page from another site that rebinds its DNS
// name to this machine reaches the gallery with its own name in Host: the
// browser treats the gallery as that site's origin and would let the page
// read the prompts and images, so such requests get 421 and nothing else.
//
// Accepted are the connection's local address as host:port, the names of
// the loopback interface (localhost, 127.0.0.1, [::1]) with that port when
// the connection came in on loopback, and any host:port given to
// AllowHost. A request with no local address (not from a listener) is
// refused.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !s.hostAllowed(r.Host, local) {
			securityHeaders(w)
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "pixform gallery: this request names another host; open the gallery at the address pixform watch printed, such as http://localhost:PORT/", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// AllowHost makes the gallery also answer requests whose Host header is
// hostport, such as the "name:port" the user asked it to listen on. The
// port must be the one it listens on for this to matter. Call it before
// Serve.
func (s *Server) AllowHost(hostport string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" || port == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hosts = append(s.hosts, strings.ToLower(net.JoinHostPort(host, port)))
}

// hostAllowed reports whether the Host header host may be answered on a
// connection whose local address is local.
func (s *Server) hostAllowed(host string, local net.Addr) bool {
	tcp, ok := local.(*net.TCPAddr)
	if !ok || host == "" {
		return false
	}
	localIP, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return false
	}
	localIP = localIP.Unmap()
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		// No port: the browser leaves out the default port of http.
		name, port = host, "80"
		if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
			name = name[1 : len(name)-1]
		}
	}
	if port != strconv.Itoa(tcp.Port) {
		return false
	}
	name = strings.ToLower(name)
	if ip, err := netip.ParseAddr(name); err == nil && ip.Zone() == "" {
		if ip.Unmap() == localIP {
			return true
		}
		if localIP.IsLoopback() && ip.Unmap().IsLoopback() {
			return true
		}
	}
	if name == "localhost" && localIP.IsLoopback() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hosts {
		if h == net.JoinHostPort(name, port) {
			return true
		}
	}
	return false
}
