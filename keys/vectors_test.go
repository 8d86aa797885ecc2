package keys_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ezfs/ezfs/keys"
	"github.com/ezfs/ezfs/keys/keystest"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from the generators")

const vectorDir = "testdata/vectors"

type field = keystest.Field

var vf = keystest.F

var seq = keystest.Seq

// wrapNames names the Wrap of an EDEK vector.
var wrapNames = map[keys.Wrap]string{keys.WrapAEAD: "aead", keys.WrapKW: "kw"}

// edekVectors returns the EDEK vector files of both wraps (WrapKW's names start
// with "edek-kw-"): one good EDEK and the ways it must fail.
func edekVectors() map[string][]field {
	out := map[string][]field{}
	for w, prefix := range map[keys.Wrap]string{keys.WrapAEAD: "edek-", keys.WrapKW: "edek-kw-"} {
		for name, f := range edekWrapVectors(w) {
			out[prefix+name] = f
		}
	}
	return out
}

func edekWrapVectors(w keys.Wrap) map[string][]field {
	zk, dek, nonce := seq(0x00, 32), seq(0x40, 32), seq(0x80, 24)
	ref := keys.Ref{Name: "logs", Version: 2}
	binding := []byte("file-A header")
	ok := keys.SealEDEK(zk, w, volID, ref, binding, dek, nonce)
	flipped := bytes.Clone(ok.Wrapped)
	flipped[30] ^= 0x04
	v := func(expect, vol, key string, bind, wrapped []byte) []field {
		f := []field{vf("kind", "edek"), vf("expect", expect), vf("wrap", wrapNames[w]), vf("volume_id", vol), vf("key", key),
			vf("zone_key", zk), vf("binding", bind)}
		if expect == "ok" {
			c := keys.EDEKContext(w, vol, ref, bind)
			f = append(f, vf("dek", dek), vf("context", c))
			if w == keys.WrapKW {
				kek, _ := keys.KEK(zk, c)
				f = append(f, vf("kek", kek))
			}
		}
		return append(f, vf("wrapped", wrapped))
	}
	return map[string][]field{
		"ok":           v("ok", volID, "logs@2", binding, ok.Wrapped),
		"moved":        v("auth", volID, "logs@2", []byte("file-B header"), ok.Wrapped),
		"relabelled":   v("auth", volID, "logs@1", binding, ok.Wrapped),
		"renamed":      v("auth", volID, "logs2@2", binding, ok.Wrapped),
		"other-volume": v("auth", "ffffffffffffffffffffffffffffffff", "logs@2", binding, ok.Wrapped),
		"flipped-bit":  v("auth", volID, "logs@2", binding, flipped),
		"truncated":    v("auth", volID, "logs@2", binding, ok.Wrapped[:w.Len()-1]),
	}
}

var vecTime = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

// recordVectors returns key-record vector files.
func recordVectors() map[string][]field {
	rec := func(name string, cur uint32, vers ...uint32) *keys.KeyRecord {
		r := &keys.KeyRecord{Name: name, Current: cur}
		for _, v := range vers {
			r.Versions = append(r.Versions, keys.StoredVersion{Version: v, Created: vecTime.Add(time.Duration(v) * time.Hour), Wrapped: seq(byte(v)<<4, 72)})
		}
		return r
	}
	good := func(r *keys.KeyRecord) []field {
		f := []field{vf("kind", "key-record"), vf("expect", "ok"), vf("name", r.Name), vf("current_version", fmt.Sprint(r.Current))}
		for _, v := range r.Versions {
			f = append(f, vf("version", fmt.Sprintf("%d %s %x", v.Version, v.Created.Format(time.RFC3339Nano), v.Wrapped)))
		}
		return append(f, vf("record", keys.EncodeKeyRecord(r)))
	}
	bad := func(expect, fieldName string, b []byte) []field {
		return []field{vf("kind", "key-record"), vf("expect", expect), vf("field", fieldName), vf("record", b)}
	}
	two := keys.EncodeKeyRecord(rec("logs", 3, 2, 3))
	future := bytes.Clone(two)
	future[0] = 2
	return map[string][]field{
		"record-one-version":      good(rec("logs", 1, 1)),
		"record-pruned-two":       good(rec("securelakekey", 3, 2, 3)),
		"record-unknown-format":   bad("version", "format", future),
		"record-trailing-byte":    bad("malformed", "end", append(bytes.Clone(two), 0)),
		"record-truncated":        bad("truncated", "wrapped", two[:len(two)-1]),
		"record-current-not-last": bad("malformed", "current_version", keys.EncodeKeyRecord(rec("logs", 2, 2, 3))),
		"record-versions-order":   bad("malformed", "version", keys.EncodeKeyRecord(rec("logs", 2, 3, 2))),
		"record-bad-name":         bad("malformed", "name", keys.EncodeKeyRecord(rec("a/b", 1, 1))),
		"record-no-versions":      bad("malformed", "count", keys.EncodeKeyRecord(rec("logs", 0))),
	}
}

func TestVectors(t *testing.T) {
	if *update {
		for name, f := range edekVectors() {
			keystest.WriteVector(t, vectorDir, name, "EDEK wrapping, FORMAT.md \"EDEK\"", f...)
		}
		for name, f := range recordVectors() {
			keystest.WriteVector(t, vectorDir, name, "key record, FORMAT.md \"Key record\"", f...)
		}
	}
	for _, v := range keystest.ReadVectors(t, vectorDir) {
		t.Run(v.Name, func(t *testing.T) {
			switch kind := v.Get(t, "kind"); kind {
			case "edek":
				checkEDEKVector(t, v)
			case "key-record":
				checkRecordVector(t, v)
			default:
				t.Fatalf("unknown kind %q", kind)
			}
		})
	}
}

func checkEDEKVector(t *testing.T, v *keystest.Vector) {
	ref, err := keys.ParseRef(v.Get(t, "key"))
	if err != nil {
		t.Fatal(err)
	}
	w := keys.WrapAEAD
	if v.Get(t, "wrap") == wrapNames[keys.WrapKW] {
		w = keys.WrapKW
	}
	zk, bind, vol := v.Hex(t, "zone_key"), v.Hex(t, "binding"), v.Get(t, "volume_id")
	e := keys.EDEK{Key: ref, Wrap: w, Wrapped: v.Hex(t, "wrapped")}
	dek, err := keys.OpenEDEK(zk, vol, e, bind)
	switch expect := v.Get(t, "expect"); expect {
	case "ok":
		if err != nil || !bytes.Equal(dek.Bytes(), v.Hex(t, "dek")) {
			t.Fatalf("decode: %v", err)
		}
		if c := keys.EDEKContext(w, vol, ref, bind); !bytes.Equal(c, v.Hex(t, "context")) {
			t.Fatalf("context = %x", c)
		}
		var nonce []byte
		if w == keys.WrapAEAD {
			nonce = e.Wrapped[:keys.NonceLen]
		} else if kek, err := keys.KEK(zk, v.Hex(t, "context")); err != nil || !bytes.Equal(kek, v.Hex(t, "kek")) {
			t.Fatalf("kek = %x, %v", kek, err)
		}
		again := keys.SealEDEK(zk, w, vol, ref, bind, v.Hex(t, "dek"), nonce)
		if !bytes.Equal(again.Wrapped, e.Wrapped) {
			t.Fatalf("encode = %x", again.Wrapped)
		}
	case "auth":
		if !errors.Is(err, keys.ErrAuth) {
			t.Fatalf("error = %v, want ErrAuth", err)
		}
	default:
		t.Fatalf("unknown expect %q", expect)
	}
}

func checkRecordVector(t *testing.T, v *keystest.Vector) {
	b := v.Hex(t, "record")
	rec, err := keys.DecodeKeyRecord(b)
	switch expect := v.Get(t, "expect"); expect {
	case "ok":
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		want := recordFromFields(t, v)
		if fmt.Sprint(rec) != fmt.Sprint(want) {
			t.Fatalf("decoded %+v, want %+v", rec, want)
		}
		if enc := keys.EncodeKeyRecord(want); !bytes.Equal(enc, b) {
			t.Fatalf("encode = %x", enc)
		}
	case "version", "truncated", "malformed":
		keystest.WantParseError(t, err, v.Get(t, "field"))
		if expect == "truncated" && !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("error = %v, want truncated", err)
		}
	default:
		t.Fatalf("unknown expect %q", expect)
	}
}

func recordFromFields(t *testing.T, v *keystest.Vector) *keys.KeyRecord {
	cur, err := strconv.ParseUint(v.Get(t, "current_version"), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	r := &keys.KeyRecord{Name: v.Get(t, "name"), Current: uint32(cur)}
	for _, line := range v.All("version") {
		var sv keys.StoredVersion
		var created, wrapped string
		if _, err := fmt.Sscanf(line, "%d %s %s", &sv.Version, &created, &wrapped); err != nil {
			t.Fatalf("version line %q: %v", line, err)
		}
		sv.Created, err = time.Parse(time.RFC3339Nano, created)
		if err != nil {
			t.Fatal(err)
		}
		if sv.Wrapped, err = hex.DecodeString(wrapped); err != nil {
			t.Fatal(err)
		}
		r.Versions = append(r.Versions, sv)
	}
	return r
}

func FuzzKeyRecord(f *testing.F) {
	var seeds [][]byte
	for _, v := range keystest.ReadVectors(f, vectorDir) {
		if v.Get(f, "kind") == "key-record" {
			seeds = append(seeds, v.Hex(f, "record"))
		}
	}
	keystest.FuzzRoundTrip(f, seeds, keys.DecodeKeyRecord, keys.EncodeKeyRecord)
}
