package reencrypt

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ezfs/ezfs/zone"
)

func sampleRecord() *record {
	t1 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	t2, t3 := t1.Add(time.Second), t1.Add(time.Hour)
	return &record{Status: Status{
		ZoneID: [16]byte{1, 2, 3}, Zone: "/mnt/securelake", State: StateCompleted, Key: "securelakekey",
		TargetVersion: 2, Submitted: t1, Started: &t2, Completed: &t3, Reencrypted: 99998, Skipped: 1, Failed: 1,
		Failures: []Failure{{Path: "a/b", Reason: "re-encrypt EDEK: key authentication failed"}},
		Seen:     100000, Checkpoint: "z/last", Versions: map[uint32]uint64{1: 1, 2: 99999}, LastWalk: &t3,
		Active: 4 * time.Second,
	}, rate: 500, batch: 1000}
}

func TestRecordRoundTrip(t *testing.T) {
	fresh := &record{Status: Status{Zone: "/z", State: StateSubmitted, Key: "k", TargetVersion: 1,
		Submitted: time.Unix(1, 0).UTC()}, batch: 1}
	for name, r := range map[string]*record{"full": sampleRecord(), "fresh": fresh} {
		t.Run(name, func(t *testing.T) {
			b := r.encode()
			got, err := decodeRecord(r.ZoneID, b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.encode(), b) {
				t.Fatal("re-encoding differs")
			}
			j1, _ := json.Marshal(r.clone())
			j2, _ := json.Marshal(got.clone())
			if string(j1) != string(j2) {
				t.Fatalf("\n%s\n%s", j1, j2)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	b, err := json.Marshal(sampleRecord().clone())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"zone":"/mnt/securelake","state":"completed","key":"securelakekey","target_version":2,` +
		`"submitted":"2026-05-01T12:00:00Z","started":"2026-05-01T12:00:01Z","completed":"2026-05-01T13:00:00Z",` +
		`"reencrypted":99998,"skipped":1,"failed":1,"failures":[{"path":"a/b","reason":"re-encrypt EDEK: key authentication failed"}],` +
		`"seen":100000,"rate":25000,"checkpoint":"z/last"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	fresh := &Status{Zone: "/z", State: StateSubmitted}
	if b, _ := json.Marshal(fresh.clone()); !strings.Contains(string(b), `"started":null,"completed":null`) || !strings.Contains(string(b), `"failures":[]`) {
		t.Fatalf("fresh: %s", b)
	}
}

func TestRecordRejects(t *testing.T) {
	good := sampleRecord().encode()
	cases := map[string]struct {
		b     []byte
		field string
	}{
		"version":    {append([]byte{2}, good[1:]...), "format version"},
		"state":      {append([]byte{1, 9}, good[2:]...), "state"},
		"truncated":  {good[:len(good)-1], "version count"},
		"cut-string": {good[:30], "zone path"},
		"trailing":   {append(bytes.Clone(good), 0), "end"},
		"empty":      {nil, "format version"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decodeRecord([16]byte{1}, c.b)
			var pe *zone.ParseError
			if !errors.As(err, &pe) || pe.Field != c.field || pe.What != recordWhat {
				t.Fatalf("err %v, want field %q", err, c.field)
			}
		})
	}
}

func TestRecordKey(t *testing.T) {
	id := [16]byte{0xab, 1}
	got, err := parseRecordKey(recordKey(id))
	if err != nil || got != id || recordKey(id) != "walk/ab010000000000000000000000000000" {
		t.Fatalf("%x %v", got, err)
	}
	if _, err := parseRecordKey("walk/xyz"); err == nil {
		t.Fatal("bad key accepted")
	}
}

func FuzzRecord(f *testing.F) {
	f.Add(sampleRecord().encode())
	r := sampleRecord()
	r.State, r.Completed, r.Failures, r.Failed, r.Checkpoint = StateProcessing, nil, nil, 0, ""
	f.Add(r.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord([16]byte{}, b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encode(), b) {
			t.Fatalf("decode→encode changed the bytes:\n%x\n%x", b, r.encode())
		}
	})
}
