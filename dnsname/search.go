package dnsname

import "strconv"

// Query is one query a stub resolver made while expanding a name.
type Query struct {
	Name  string
	Type  Type
	Rcode Rcode
	// Answers is the number of answer records.
	Answers int
}

// String formats the query and its outcome:
// "web.default.svc.cluster.local. A: NOERROR, 1 answer",
// "web.svc.cluster.local. A: NXDOMAIN".
func (q Query) String() string {
	s := q.Name + " " + q.Type.String() + ": " + q.Rcode.String()
	if q.Rcode != RcodeNoError {
		return s
	}
	switch q.Answers {
	case 0:
		return s + ", no answers"
	case 1:
		return s + ", 1 answer"
	}
	return s + ", " + strconv.Itoa(q.Answers) + " answers"
}

// SearchResult is the outcome of ResolveSearch.
type SearchResult struct {
	// Name is the candidate that answered, or "" when none did.
	Name string
	// Response is that candidate's response; when none answered, the
	// response to the last query.
	Response Response
	// Queries lists every query made, in order.
	Queries []Query
}

// ResolveSearch resolves name of type qtype as a pod's stub resolver with
// configuration conf would: it queries the candidates of
// conf.Candidates in order and stops at the first that has answers (a
// NOERROR response with records). NXDOMAIN, NODATA and any other failure
// move on to the next candidate, as in Go's resolver. It reports every
// query it made, which shows why "curl http://my-service" works from a
// pod and what ndots:5 costs a name like www.example.com: four queries
// through the search list before the name itself.
//
// Real stub resolvers (glibc's getaddrinfo, Go's net.Resolver) ask for A
// and AAAA at every candidate, doubling the count. Queries outside the
// zone go to the resolver's Upstream, or are REFUSED without one.
func (r *Resolver) ResolveSearch(conf ResolvConf, name string, qtype Type) SearchResult {
	var res SearchResult
	s := r.snap.Load() // one snapshot for the whole expansion
	for _, c := range conf.Candidates(name) {
		resp := r.resolve(s, c, qtype, 0)
		res.Queries = append(res.Queries, Query{Name: c, Type: qtype, Rcode: resp.Rcode, Answers: len(resp.Answer)})
		res.Response = resp
		if resp.Rcode == RcodeNoError && len(resp.Answer) > 0 {
			res.Name = c
			return res
		}
	}
	return res
}
