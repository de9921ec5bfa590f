package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchSize is how many datagrams one recvmmsg reads and one sendmmsg
// writes at most.
const batchSize = 32

// batchConn is what golang.org/x/net's ipv4 and ipv6 PacketConns offer
// on Linux: recvmmsg and sendmmsg.
type batchConn interface {
	ReadBatch([]ipv4.Message, int) (int, error)
	WriteBatch([]ipv4.Message, int) (int, error)
}

// udpBatchReader serves uc reading and writing up to batchSize datagrams
// per system call, which under load divides the system calls per query
// by up to that much. ok is false when uc cannot be batched.
func (s *Server) udpBatchReader(ctx context.Context, uc *net.UDPConn) (ok bool, err error) {
	la, _ := uc.LocalAddr().(*net.UDPAddr)
	if la == nil {
		return false, nil
	}
	var bc batchConn
	if la.IP.To4() != nil {
		bc = ipv4.NewPacketConn(uc)
	} else {
		bc = ipv6.NewPacketConn(uc)
	}
	in := make([]ipv4.Message, batchSize)
	out := make([]ipv4.Message, 0, batchSize)
	bufs := make([][]byte, batchSize)
	outBufs := make([][]byte, batchSize)
	for i := range in {
		bufs[i] = make([]byte, 65535)
		in[i].Buffers = [][]byte{bufs[i]}
		outBufs[i] = make([]byte, 0, 4096)
	}
	outHolders := make([][][]byte, batchSize)
	for i := range outHolders {
		outHolders[i] = make([][]byte, 1)
	}
	for {
		n, err := bc.ReadBatch(in, 0)
		if ctx.Err() != nil {
			return true, nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return true, err
		}
		out = out[:0]
		// One clock reading per batch, not two per query: the
		// duration counted for each answer is the batch's.
		start := s.cfg.Now()
		var rcodes [16]uint64
		for i := range n {
			ua, _ := in[i].Addr.(*net.UDPAddr)
			var from netip.Addr
			if ua != nil {
				from = ua.AddrPort().Addr().Unmap()
			}
			ans, rcode := s.appendAnswer(outBufs[i][:0], bufs[i][:in[i].N], from, true)
			if ans == nil {
				continue
			}
			rcodes[rcode&0xF]++
			if cap(ans) > cap(outBufs[i]) {
				outBufs[i] = ans[:0]
			}
			outHolders[i][0] = ans
			out = append(out, ipv4.Message{Buffers: outHolders[i], Addr: in[i].Addr})
		}
		if len(out) > 0 {
			for rc, k := range rcodes {
				if k > 0 {
					s.stats.rcode[rc].Add(k)
				}
			}
			s.stats.durations(s.cfg.Now().Sub(start), uint64(len(out)))
		}
		for sent := 0; sent < len(out); {
			k, err := bc.WriteBatch(out[sent:], 0)
			if err != nil {
				break // a client gone is not the server's failure
			}
			sent += k
		}
	}
}
