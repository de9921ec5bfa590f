//go:build !linux

package dnsserver

import (
	"context"
	"net"
)

// udpBatchReader batches only on Linux (recvmmsg, sendmmsg).
func (s *Server) udpBatchReader(context.Context, *net.UDPConn) (bool, error) { return false, nil }
