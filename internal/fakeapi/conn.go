package fakeapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// connServer serves HTTP/1.1 on a listener with a handler, as
// http.Server does for what the fake answers, at a fraction of its cost
// per request: the request is parsed by http.ReadRequest, the answer is
// gathered and sent in one write, and nothing runs beside the handler
// (no read in the background, no deadlines) unless the handler asks for
// its request's context to be done: then a read in the background
// watches the connection, as http.Server's does for every request. A
// benchmark against the fake measures the client, not the fake's HTTP
// server.
type connServer struct {
	h  http.Handler
	ln net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newConnServer(ln net.Listener, h http.Handler) *connServer {
	return &connServer{h: h, ln: ln, conns: map[net.Conn]struct{}{}}
}

// serve accepts connections until close; it returns nil once closed.
func (s *connServer) serve() error {
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// closeConns closes the listener and every connection, then waits for
// their handlers (which the caller has let go: the api's done).
func (s *connServer) close() {
	s.mu.Lock()
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// closeClientConns closes every connection, as
// httptest.Server.CloseClientConnections does.
func (s *connServer) closeClientConns() {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

// maxDrain is how much of a request body the handler left unread is
// read past to keep the connection; beyond, it is closed.
const maxDrain = 256 << 10

// serveConn answers the requests of one connection in turn.
func (s *connServer) serveConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 16<<10)
	bw := bufio.NewWriterSize(c, 16<<10)
	var gather []byte // an answer's bytes, kept for the next
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request")
			}
			return
		}
		req.RemoteAddr = c.RemoteAddr().String()
		ctx := &connCtx{conn: c, br: br}
		req = req.WithContext(ctx)
		if req.Header.Get("Expect") == "100-continue" && req.ContentLength != 0 {
			bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if bw.Flush() != nil {
				return
			}
		}
		w := &respWriter{c: c, br: br, bw: bw, req: req, header: http.Header{}, buf: gather[:0]}
		s.h.ServeHTTP(w, req)
		if w.hijacked {
			return
		}
		if cap(w.buf) <= maxGather {
			gather = w.buf
		}
		if !ctx.end() || !w.finish() {
			return
		}
		if n, _ := io.CopyN(io.Discard, req.Body, maxDrain+1); n > maxDrain {
			return
		}
		if w.close || req.Close || !req.ProtoAtLeast(1, 1) {
			return
		}
	}
}

// connCtx is a request's context: done once the client closes the
// connection (or sends more), which a read in the background watches from
// the first call of Done on.
type connCtx struct {
	conn net.Conn
	br   *bufio.Reader

	once    sync.Once
	mu      sync.Mutex
	done    chan struct{}
	cause   error
	peekErr error
	stopped chan struct{} // closed when the background read returns
}

func (x *connCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (x *connCtx) Value(any) any               { return nil }

func (x *connCtx) Done() <-chan struct{} {
	x.once.Do(func() {
		x.mu.Lock()
		x.done, x.stopped = make(chan struct{}), make(chan struct{})
		x.mu.Unlock()
		go func() {
			defer close(x.stopped)
			// Peek leaves what it reads for the next request.
			_, err := x.br.Peek(1)
			x.mu.Lock()
			x.peekErr, x.cause = err, context.Canceled
			close(x.done)
			x.mu.Unlock()
		}()
	})
	return x.done
}

func (x *connCtx) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.cause
}

// end stops the background read, if any, once the handler returned, and
// reports whether the connection can carry another request: it can
// unless the read found it closed (or broken).
func (x *connCtx) end() bool {
	started := true
	x.once.Do(func() { started = false }) // and no read starts after this
	if !started {
		return true
	}
	x.conn.SetReadDeadline(time.Unix(1, 0))
	<-x.stopped
	x.conn.SetReadDeadline(time.Time{})
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.peekErr == nil || errors.Is(x.peekErr, os.ErrDeadlineExceeded)
}

// respWriter is the http.ResponseWriter of connServer: it gathers the
// answer and sends it whole when the handler returns, or streams it once
// the handler flushes or writes more than a buffer holds (with
// Transfer-Encoding: chunked when it set no Content-Length).
type respWriter struct {
	c      net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	req    *http.Request
	header http.Header

	status   int
	buf      []byte
	stream   bool  // the head is sent; writes go out as they come
	chunked  bool  // streamed with chunked encoding
	length   int64 // the Content-Length sent, or -1
	sent     int64 // body bytes sent
	close    bool  // close the connection after the answer
	hijacked bool
	err      error
}

// maxGather is how much of an answer is gathered before it streams.
const maxGather = 64 << 10

func (w *respWriter) Header() http.Header { return w.header }

func (w *respWriter) WriteHeader(code int) {
	if w.status != 0 || w.hijacked {
		return
	}
	w.status = code
}

func (w *respWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if !w.stream {
		w.buf = append(w.buf, p...)
		if len(w.buf) > maxGather {
			w.startStream()
		}
		return len(p), w.err
	}
	return w.writeBody(p)
}

// Flush sends what was written so far.
func (w *respWriter) Flush() {
	if w.hijacked {
		return
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.stream {
		w.startStream()
	}
	if w.err == nil {
		w.err = w.bw.Flush()
	}
}

// Hijack hands the connection to the handler.
func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	w.hijacked = true
	return w.c, bufio.NewReadWriter(w.br, w.bw), nil
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == http.StatusNoContent || status == http.StatusNotModified)
}

// head writes the status line and the header, with Date, Content-Type
// (sniffed from body where the handler set none) and the framing.
func (w *respWriter) head(body []byte, length int64) {
	h := w.header
	if _, ok := h["Date"]; !ok {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if _, ok := h["Content-Type"]; !ok && len(body) > 0 {
		h.Set("Content-Type", http.DetectContentType(body))
	}
	w.length = -1
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.length = n
		} else {
			h.Del("Content-Length")
		}
	}
	if w.length < 0 && bodyAllowed(w.status) {
		if length >= 0 {
			w.length = length
			h.Set("Content-Length", strconv.FormatInt(length, 10))
		} else {
			w.chunked = true
			h.Set("Transfer-Encoding", "chunked")
		}
	}
	if w.req.Close || !w.req.ProtoAtLeast(1, 1) {
		w.close = true
	}
	if w.close {
		h.Set("Connection", "close")
	}
	w.bw.WriteString("HTTP/1.1 ")
	w.bw.WriteString(strconv.Itoa(w.status))
	w.bw.WriteByte(' ')
	w.bw.WriteString(http.StatusText(w.status))
	w.bw.WriteString("\r\n")
	h.Write(w.bw)
	w.bw.WriteString("\r\n")
}

// startStream sends the head and what was gathered.
func (w *respWriter) startStream() {
	w.stream = true
	w.head(w.buf, -1)
	buf := w.buf
	w.buf = nil
	if len(buf) > 0 {
		w.writeBody(buf)
	}
}

func (w *respWriter) writeBody(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.length >= 0 && w.sent+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	if w.chunked && len(p) > 0 {
		w.bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		w.bw.WriteString("\r\n")
	}
	n, err := w.bw.Write(p)
	if w.chunked && len(p) > 0 {
		w.bw.WriteString("\r\n")
	}
	w.sent += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// finish sends the answer once the handler returned, and reports whether
// the connection may carry another request.
func (w *respWriter) finish() bool {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.stream {
		w.stream = true
		n := int64(len(w.buf))
		if !bodyAllowed(w.status) {
			n = -1
		}
		w.head(w.buf, n)
		if w.length >= 0 && int64(len(w.buf)) > w.length {
			w.buf = w.buf[:w.length]
		}
		if bodyAllowed(w.status) {
			w.writeBody(w.buf)
		}
	}
	if w.chunked {
		w.bw.WriteString("0\r\n\r\n")
	}
	if err := w.bw.Flush(); err != nil || w.err != nil {
		return false
	}
	if w.length >= 0 && w.sent < w.length {
		// Cut short: the client can tell only by the connection's end.
		return false
	}
	return true
}
