package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/svcnet/svcnet/dnsname"
)

// Server is a DNS server for one cluster: it answers the names of a
// dnsname.Resolver over UDP and TCP, as CoreDNS's kubernetes plugin
// does, and forwards the rest. It is safe for concurrent use; queries
// read the resolver's current snapshot without a lock.
//
// A Server must be made with New; the zero value is unusable.
type Server struct {
	cfg    Config
	zone   string // lowercase, fully qualified
	ttl    uint32
	search []string // cfg.AutopathSearch, lowercase and fully qualified
	fwd    *forwarder
	stats  counters
	res    atomic.Pointer[dnsname.Resolver]
	// scratch holds the *dnsname.Scratch buffers the fast path makes
	// its answers in, one per query in flight.
	scratch sync.Pool
}

// New returns a Server for c, or an error wrapping ErrInvalidConfig that
// names the bad field.
func New(c Config) (*Server, error) {
	c, err := c.validate()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, zone: c.Resolver.Zone() + "."}
	s.scratch.New = func() any { return new(dnsname.Scratch) }
	// The TTL the resolver gives every record but dns-version; the SOA
	// minimum follows it, as CoreDNS's MinTTL is the kubernetes ttl.
	s.ttl = c.Resolver.TTL()
	s.res.Store(c.Resolver)
	for _, d := range c.AutopathSearch {
		n, _ := dnsNameOK(d)
		s.search = append(s.search, n)
	}
	if len(c.Upstreams) > 0 {
		s.fwd = newForwarder(c)
	}
	return s, nil
}

// SetResolver makes the server answer from r from now on, as after a
// reload that built a new cluster; queries being answered finish with the
// resolver they started with. r must have the zone and TTL of the
// resolver it replaces; otherwise SetResolver returns an error wrapping
// ErrInvalidConfig and changes nothing.
func (s *Server) SetResolver(r *dnsname.Resolver) error {
	if r == nil {
		return fmt.Errorf("%w: resolver is nil", ErrInvalidConfig)
	}
	if z := r.Zone() + "."; z != s.zone || r.TTL() != s.ttl {
		return fmt.Errorf("%w: resolver of zone %q ttl %d replaces zone %q ttl %d", ErrInvalidConfig, z, r.TTL(), s.zone, s.ttl)
	}
	s.res.Store(r)
	return nil
}

// Answer answers one DNS message in wire format from client, as the
// server does for a UDP datagram (udp true, the answer truncated to the
// client's buffer) or a TCP message. It returns nil when no answer is to
// be sent: for fewer than 12 octets and for messages with the QR bit
// set, as miekg/dns (and so CoreDNS) drops them. Malformed queries get
// FORMERR, opcodes other than QUERY and NOTIFY NOTIMP.
func (s *Server) Answer(msg []byte, client netip.Addr, udp bool) []byte {
	return s.AppendAnswer(make([]byte, 0, minimumUDPSize), msg, client, udp)
}

// AppendAnswer is Answer appending the answer to dst, as the server's
// UDP readers do with a buffer each: a query the fast path answers (a
// name of the served zones, without compression in the question, that
// needs no truncation) then costs no allocation. It returns nil when
// Answer does.
func (s *Server) AppendAnswer(dst, msg []byte, client netip.Addr, udp bool) []byte {
	start := s.cfg.Now()
	out, rcode := s.appendAnswer(dst, msg, client, udp)
	if out != nil {
		s.stats.response(rcode, s.cfg.Now().Sub(start), 1)
	}
	return out
}

// appendAnswer is AppendAnswer without counting the response, which the
// caller does with its rcode.
func (s *Server) appendAnswer(dst, msg []byte, client netip.Addr, udp bool) ([]byte, int) {
	if udp {
		var q fastQuery
		if parseFast(&q, msg) {
			if out, rcode, ok := s.fastAnswer(dst, msg, &q); ok {
				s.stats.request(true)
				return out, rcode
			}
		}
	}
	m := s.answerWire(msg, client, udp)
	if m == nil {
		return nil, 0
	}
	out, err := m.PackBuffer(dst[:cap(dst)])
	if err != nil {
		// A record the resolver made that does not pack (it validates
		// names, so this is not expected): SERVFAIL rather than silence.
		f := new(dns.Msg)
		f.SetRcode(m, dns.RcodeServerFailure)
		f.Question = m.Question
		out, _ = f.Pack()
		m = f
	}
	return out, m.Rcode
}

func (s *Server) answerWire(b []byte, client netip.Addr, udp bool) *dns.Msg {
	h, ok := parseHeader(b)
	if !ok {
		return nil
	}
	s.stats.request(udp)
	action := dns.DefaultMsgAcceptFunc(dns.Header{Id: h.id, Bits: h.bits, Qdcount: h.qdcount, Ancount: h.ancount, Nscount: h.nscount, Arcount: h.arcount})
	req := new(dns.Msg)
	if action == dns.MsgAccept {
		// miekg/dns stops quietly at the end of a message, so a
		// header that promises a question the message lacks unpacks
		// to none: that is malformed too.
		if err := req.Unpack(b); err != nil || len(req.Question) != 1 {
			action = dns.MsgReject
		}
	}
	switch action {
	case dns.MsgIgnore:
		s.stats.dropped.Add(1)
		return nil
	case dns.MsgReject, dns.MsgRejectNotImplemented:
		// As miekg/dns's server: the header echoed, no sections.
		req = &dns.Msg{MsgHdr: dns.MsgHdr{Id: h.id, Opcode: int(h.bits>>11) & 0xF, RecursionDesired: h.bits&(1<<8) != 0, CheckingDisabled: h.bits&(1<<4) != 0}}
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		if action == dns.MsgRejectNotImplemented {
			m.Rcode = dns.RcodeNotImplemented
		}
		return m
	}
	m := s.answer(request{msg: req, client: client, udp: udp})
	s.finish(req, m, udp)
	return m
}

// finish sets the EDNS0 record and truncates a UDP answer to what the
// client can take: 512 octets without EDNS0, its buffer size with it,
// never more than Config.UDPSize (RFC 6891 §6.2.5; DNS flag day 2020).
func (s *Server) finish(req, m *dns.Msg, udp bool) {
	m.Compress = true
	for i := 0; i < len(m.Extra); i++ {
		if m.Extra[i].Header().Rrtype == dns.TypeOPT {
			m.Extra = append(m.Extra[:i:i], m.Extra[i+1:]...)
			i--
		}
	}
	size := minimumUDPSize
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(s.cfg.UDPSize, opt.Do())
		size = max(minimumUDPSize, min(int(opt.UDPSize()), int(s.cfg.UDPSize)))
	}
	if udp {
		m.Truncate(size)
		if m.Truncated {
			s.stats.truncated.Add(1)
		}
	}
}

// Serve answers queries on udp and tcp (either may be nil, not both)
// until ctx ends; it then stops reading, lets the queries in flight
// finish, and returns nil. It returns an error when a socket fails
// otherwise.
func (s *Server) Serve(ctx context.Context, udp net.PacketConn, tcp net.Listener) error {
	if udp == nil && tcp == nil {
		return fmt.Errorf("%w: no socket to serve", ErrInvalidConfig)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	if udp != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.serveUDP(ctx, udp)
		}()
	}
	var tcpSrv *dns.Server
	if tcp != nil {
		tcpSrv = &dns.Server{
			Listener:    &limitListener{Listener: tcp, sem: make(chan struct{}, s.cfg.MaxTCPConns)},
			Handler:     tcpHandler{s},
			IdleTimeout: func() time.Duration { return s.cfg.TCPIdleTimeout },
			// Reading a message is bounded too, so a slow client cannot
			// hold a connection open past the idle timeout.
			ReadTimeout:  s.cfg.TCPIdleTimeout,
			WriteTimeout: s.cfg.TCPIdleTimeout,
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := tcpSrv.ActivateAndServe()
			if ctx.Err() != nil {
				err = nil
			}
			errs <- err
		}()
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
		cancel()
	}
	if udp != nil {
		// Unblock the readers; they see ctx done and return.
		_ = udp.SetReadDeadline(time.Unix(1, 0))
	}
	if tcpSrv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), s.cfg.TCPIdleTimeout)
		_ = tcpSrv.ShutdownContext(sctx)
		scancel()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if first == nil {
			first = err
		}
	}
	return first
}

// ListenAndServe listens on addr ("127.0.0.1:5353") for UDP and TCP and
// serves both until ctx ends. Port 0 picks a free UDP port and the same
// port for TCP.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	udp, tcp, err := Listen(ctx, addr)
	if err != nil {
		return err
	}
	defer udp.Close()
	defer tcp.Close()
	return s.Serve(ctx, udp, tcp)
}

// Listen opens the UDP socket and TCP listener ListenAndServe serves on:
// both on addr, the TCP listener on the UDP socket's port, so that a port
// of 0 gives one port for both. On error nothing stays open.
func Listen(ctx context.Context, addr string) (net.PacketConn, net.Listener, error) {
	var lc net.ListenConfig
	udp, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, nil, err
	}
	tcp, err := lc.Listen(ctx, "tcp", udp.LocalAddr().String())
	if err != nil {
		udp.Close()
		return nil, nil, err
	}
	return udp, tcp, nil
}

// NSAddrs is Config.NSAddrs for a server listening on a: its address, or
// none when it listens on every address (0.0.0.0, ::), whose own
// addresses the server does not know.
func NSAddrs(a net.Addr) []netip.Addr {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil || ap.Addr().IsUnspecified() {
		return nil
	}
	return []netip.Addr{ap.Addr()}
}

// serveUDP reads datagrams with one goroutine per core, answers each in
// the goroutine that read it, and returns when ctx ends, after every
// reader has sent the answer it was making.
func (s *Server) serveUDP(ctx context.Context, pc net.PacketConn) error {
	n := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.udpReader(ctx, pc)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) udpReader(ctx context.Context, pc net.PacketConn) error {
	uc, _ := pc.(*net.UDPConn)
	if uc != nil {
		if ok, err := s.udpBatchReader(ctx, uc); ok {
			return err
		}
	}
	buf := make([]byte, 65535)
	out := make([]byte, 0, 4096)
	for {
		var (
			n    int
			from netip.AddrPort
			addr net.Addr
			err  error
		)
		if uc != nil {
			n, from, err = uc.ReadFromUDPAddrPort(buf)
		} else {
			n, addr, err = pc.ReadFrom(buf)
			if ua, ok := addr.(*net.UDPAddr); ok {
				from = ua.AddrPort()
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		out = s.AppendAnswer(out[:0], buf[:n], from.Addr().Unmap(), true)
		if out == nil {
			out = make([]byte, 0, 4096)
			continue
		}
		if uc != nil {
			_, err = uc.WriteToUDPAddrPort(out, from)
		} else {
			_, err = pc.WriteTo(out, addr)
		}
		_ = err // a client gone is not the server's failure
	}
}

// tcpHandler answers TCP queries through miekg/dns's server, which reads
// pipelined queries on a connection one after another and closes it
// when idle.
type tcpHandler struct{ s *Server }

func (h tcpHandler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s := h.s
	start := s.cfg.Now()
	s.stats.request(false)
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		m.Question = nil
		_ = w.WriteMsg(m)
		return
	}
	var client netip.Addr
	if ta, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		client = ta.AddrPort().Addr().Unmap()
	}
	m := s.answer(request{msg: req, client: client})
	s.finish(req, m, false)
	if err := w.WriteMsg(m); err != nil {
		return
	}
	s.stats.response(m.Rcode, s.cfg.Now().Sub(start), 1)
}

// limitListener closes connections beyond the bound at once, so that a
// flood of idle connections cannot exhaust the server.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		default:
			c.Close()
		}
	}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
