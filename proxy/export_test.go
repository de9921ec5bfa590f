package proxy

import (
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// The test-only mutators of a Proxy: they change the proxy's own table in
// one step, which the Cluster never does (it builds one Table and syncs
// every node to it).

func (p *Proxy) apply(f func(b *TableBuilder) error) error {
	b := p.table.Builder()
	if err := b.SetDefaultAlgorithm(p.cfg.Algorithm); err != nil {
		return err
	}
	if err := f(b); err != nil {
		return err
	}
	p.Sync(b.Build())
	return nil
}

// UpsertService adds or replaces a Service in the proxy's own table.
func (p *Proxy) UpsertService(svc *service.Service) error {
	return p.apply(func(b *TableBuilder) error { return b.UpsertService(svc) })
}

// DeleteService removes a Service from the proxy's own table.
func (p *Proxy) DeleteService(key service.NamespacedName) {
	_ = p.apply(func(b *TableBuilder) error { b.DeleteService(key); return nil })
}

// ApplySlices applies EndpointSlice changes to the proxy's own table.
func (p *Proxy) ApplySlices(changes []endpoints.Change) error {
	return p.apply(func(b *TableBuilder) error { b.ApplySlices(changes); return nil })
}
