package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSize is how many datagrams one recvmmsg reads and one sendmmsg
// writes at most.
const batchSize = 32

// mmsghdr is struct mmsghdr (recvmmsg(2)): Go lays it out as C does on
// every Linux architecture (a msghdr, then an unsigned int, padded to the
// msghdr's alignment).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// udpBatchReader serves uc reading and writing up to batchSize datagrams
// per system call, which under load divides the system calls per query
// by up to that much. ok is false when uc cannot be batched.
//
// It makes the calls itself rather than through golang.org/x/net's
// ReadBatch and WriteBatch, which make a *net.UDPAddr (two allocations)
// for every datagram read: an answer is sent to the very sockaddr bytes
// its query came from, and a query costs no allocation. The socket is
// non-blocking (MSG_DONTWAIT), so the calls are raw system calls that
// return at once; the runtime's poller waits for readiness (RawConn.Read
// and Write), as for any socket.
func (s *Server) udpBatchReader(ctx context.Context, uc *net.UDPConn) (ok bool, err error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return false, nil
	}
	// A RawSockaddrInet6 holds an IPv4 sockaddr too.
	var (
		in      = make([]mmsghdr, batchSize)
		inIov   = make([]unix.Iovec, batchSize)
		names   = make([]unix.RawSockaddrInet6, batchSize)
		bufs    = make([][]byte, batchSize)
		out     = make([]mmsghdr, batchSize)
		outIov  = make([]unix.Iovec, batchSize)
		outBufs = make([][]byte, batchSize)
	)
	for i := range in {
		bufs[i] = make([]byte, 65535)
		inIov[i].Base = &bufs[i][0]
		inIov[i].SetLen(len(bufs[i]))
		in[i].hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
		in[i].hdr.Iov = &inIov[i]
		in[i].hdr.SetIovlen(1)
		outBufs[i] = make([]byte, 0, 4096)
		out[i].hdr.Iov = &outIov[i]
		out[i].hdr.SetIovlen(1)
	}
	var (
		n, sent, k int
		errno      syscall.Errno
	)
	recv := func(fd uintptr) bool {
		for i := range in {
			in[i].hdr.Namelen = uint32(unsafe.Sizeof(names[i]))
		}
		for {
			r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&in[0])), batchSize, unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait until readable
			}
			n, errno = int(r), e
			return true
		}
	}
	send := func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&out[sent])), uintptr(k-sent), unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait until writable
			case 0:
				sent += int(r)
			default:
				// The first datagram failed (the others are not sent):
				// a client gone is not the server's failure; skip it.
				sent++
			}
			return true
		}
	}
	for {
		err := rc.Read(recv)
		if ctx.Err() != nil {
			return true, nil
		}
		if err == nil && errno != 0 {
			err = errno
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return true, err
		}
		// One clock reading per batch, not two per query: the
		// duration counted for each answer is the batch's.
		start := s.cfg.Now()
		var rcodes [16]uint64
		k = 0
		for i := range n {
			var from netip.Addr
			switch names[i].Family {
			case unix.AF_INET:
				from = netip.AddrFrom4((*unix.RawSockaddrInet4)(unsafe.Pointer(&names[i])).Addr)
			case unix.AF_INET6:
				from = netip.AddrFrom16(names[i].Addr).Unmap()
			}
			ans, rcode := s.appendAnswer(outBufs[i][:0], bufs[i][:in[i].n], from, true)
			if ans == nil {
				continue
			}
			rcodes[rcode&0xF]++
			if cap(ans) > cap(outBufs[i]) {
				outBufs[i] = ans[:0]
			}
			o := &out[k]
			o.hdr.Name, o.hdr.Namelen = in[i].hdr.Name, in[i].hdr.Namelen
			outIov[k].Base = &ans[0]
			outIov[k].SetLen(len(ans))
			k++
		}
		if k == 0 {
			continue
		}
		for code, c := range rcodes {
			if c > 0 {
				s.stats.rcode[code].Add(c)
			}
		}
		s.stats.durations(s.cfg.Now().Sub(start), uint64(k))
		for sent = 0; sent < k; {
			if rc.Write(send) != nil {
				break // the socket is closing: the next read says so
			}
		}
	}
}
