package local_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"testing"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
	"github.com/ezfs/ezfs/keys/local"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from the generators")

const vectorDir = "testdata/vectors"

var vf = keystest.F

var seq = keystest.Seq

// sealVector builds an envelope from fixed inputs.
func sealVector(kind local.Kind, secret []byte, kdf local.KDFParams) (*local.Envelope, []byte) {
	e := &local.Envelope{Kind: kind, KDF: kdf}
	copy(e.Salt[:], seq(0xa0, 16))
	b, err := local.SealEnvelope(seq(0x10, 32), secret, e, [24]byte(seq(0xc0, 24)))
	if err != nil {
		panic(err)
	}
	return e, b
}

func envelopeVectors() map[string][]keystest.Field {
	pass := []byte("correct horse battery staple")
	good := func(kind local.Kind, secret []byte, kdf local.KDFParams) []keystest.Field {
		e, b := sealVector(kind, secret, kdf)
		return []keystest.Field{vf("expect", "ok"), vf("kind", kind), vf("secret", secret), vf("salt", e.Salt[:]),
			vf("argon2.time", kdf.Time), vf("argon2.memory", kdf.MemoryKiB), vf("argon2.threads", kdf.Threads),
			vf("nonce", e.Nonce[:]), vf("main_key", seq(0x10, 32)), vf("envelope", b)}
	}
	bad := func(expect, field string, secret, b []byte) []keystest.Field {
		return []keystest.Field{vf("expect", expect), vf("field", field), vf("secret", secret), vf("envelope", b)}
	}
	_, pe := sealVector(local.Passphrase, pass, local.TestKDF)
	_, ke := sealVector(local.KeyFile, keyFile, local.KDFParams{})
	edit := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	return map[string][]keystest.Field{
		"envelope-passphrase":      good(local.Passphrase, pass, local.TestKDF),
		"envelope-keyfile":         good(local.KeyFile, keyFile, local.KDFParams{}),
		"envelope-wrong-secret":    bad("wrong-secret", "", []byte("correct horse battery stapler"), pe),
		"envelope-tampered-params": bad("wrong-secret", "", pass, edit(pe, 18+3, 2)), // argon2.time 1 → 2
		"envelope-flipped-tag":     bad("wrong-secret", "", keyFile, edit(ke, len(ke)-1, ke[len(ke)-1]^1)),
		"envelope-unknown-format":  bad("version", "format", pass, edit(pe, 0, 2)),
		"envelope-unknown-kind":    bad("malformed", "kind", pass, edit(pe, 1, 3)),
		"envelope-zero-time":       bad("malformed", "argon2.time", pass, edit(pe, 21, 0)),
		"envelope-keyfile-params":  bad("malformed", "argon2", keyFile, edit(ke, 26, 1)),
		"envelope-truncated":       bad("truncated", "length", pass, pe[:len(pe)-1]),
	}
}

func TestVectors(t *testing.T) {
	if *update {
		for name, f := range envelopeVectors() {
			keystest.WriteVector(t, vectorDir, name, "main-key envelope, FORMAT.md \"Main-key envelope\"", f...)
		}
	}
	for _, v := range keystest.ReadVectors(t, vectorDir) {
		t.Run(v.Name, func(t *testing.T) { checkEnvelopeVector(t, v) })
	}
}

func checkEnvelopeVector(t *testing.T, v *keystest.Vector) {
	b, secret := v.Hex(t, "envelope"), v.Hex(t, "secret")
	mk, err := local.Unlock(b, secret)
	switch expect := v.Get(t, "expect"); expect {
	case "ok":
		if err != nil || !bytes.Equal(local.MainKeyBytes(mk), v.Hex(t, "main_key")) {
			t.Fatalf("Unlock: %v", err)
		}
		e := envelopeFromFields(t, v)
		got, err := local.SealEnvelope(v.Hex(t, "main_key"), secret, e, [24]byte(v.Hex(t, "nonce")))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("encode = %x, %v", got, err)
		}
	case "wrong-secret":
		if !errors.Is(err, keys.ErrWrongSecret) {
			t.Fatalf("error = %v, want ErrWrongSecret", err)
		}
	case "version", "malformed", "truncated":
		keystest.WantParseError(t, err, v.Get(t, "field"))
	default:
		t.Fatalf("unknown expect %q", expect)
	}
}

func envelopeFromFields(t *testing.T, v *keystest.Vector) *local.Envelope {
	num := func(name string) uint32 {
		n, err := strconv.ParseUint(v.Get(t, name), 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		return uint32(n)
	}
	e := &local.Envelope{KDF: local.KDFParams{Time: num("argon2.time"), MemoryKiB: num("argon2.memory"), Threads: uint8(num("argon2.threads"))}}
	switch v.Get(t, "kind") {
	case "passphrase":
		e.Kind = local.Passphrase
	case "keyfile":
		e.Kind = local.KeyFile
	default:
		t.Fatalf("unknown kind %s", v.Get(t, "kind"))
	}
	copy(e.Salt[:], v.Hex(t, "salt"))
	return e
}

func FuzzEnvelope(f *testing.F) {
	var seeds [][]byte
	for _, v := range keystest.ReadVectors(f, vectorDir) {
		seeds = append(seeds, v.Hex(f, "envelope"))
	}
	keystest.FuzzRoundTrip(f, seeds, local.DecodeEnvelope, func(e *local.Envelope) []byte {
		_ = fmt.Sprint(e.Kind)
		return local.EncodeEnvelope(e)
	})
}
