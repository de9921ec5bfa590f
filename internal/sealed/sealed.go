// Package sealed wraps JSON snapshots in an envelope that names their
// kind and version and carries the SHA-256 of their content, so that a
// flipped bit, a truncation or a snapshot of another kind is an error
// when it is read, never a silently different state.
//
// A sealed snapshot is one JSON object:
//
//	{"kind":"svcnet.registry","version":2,"sha256":"<64 hex digits>","content":{...}}
//
// where the digest is over the exact bytes of content. Open decodes
// strictly: unknown fields, a missing field, trailing data or any other
// kind or version are errors.
package sealed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error of Open.
var ErrCorrupt = errors.New("corrupt or foreign snapshot")

type envelope struct {
	Kind    string          `json:"kind"`
	Version int             `json:"version"`
	SHA256  string          `json:"sha256"`
	Content json.RawMessage `json:"content"`
}

// Seal marshals v and wraps it in an envelope of the given kind and
// version.
func Seal(kind string, version int, v any) ([]byte, error) {
	content, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(content)
	return json.Marshal(envelope{Kind: kind, Version: version, SHA256: hex.EncodeToString(sum[:]), Content: content})
}

// Open checks data's envelope — kind, version, digest — and decodes its
// content into v, rejecting unknown fields. On error v may be partly
// filled and must not be used.
func Open(data []byte, kind string, version int, v any) error {
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if dec.InputOffset() != int64(len(bytes.TrimRight(data, " \t\r\n"))) {
		return fmt.Errorf("%w: data after the snapshot", ErrCorrupt)
	}
	if env.Kind != kind {
		return fmt.Errorf("%w: kind %q, want %q", ErrCorrupt, env.Kind, kind)
	}
	if env.Version != version {
		return fmt.Errorf("%w: version %d, want %d", ErrCorrupt, env.Version, version)
	}
	if env.Content == nil {
		return fmt.Errorf("%w: no content", ErrCorrupt)
	}
	sum := sha256.Sum256(env.Content)
	if env.SHA256 != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("%w: content does not match its sha256", ErrCorrupt)
	}
	cdec := json.NewDecoder(bytes.NewReader(env.Content))
	cdec.DisallowUnknownFields()
	if err := cdec.Decode(v); err != nil {
		return fmt.Errorf("%w: content: %v", ErrCorrupt, err)
	}
	return nil
}
