package reencrypt

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/ezfs/ezfs/zone"
)

// RecordPrefix is the key-store key prefix of walk records: "walk/" ‖ hex zone id.
const RecordPrefix = "walk/"

// recordVersion is the first byte of a walk record; any layout change bumps it.
const recordVersion = 1

// recordWhat names walk records in a *zone.ParseError.
const recordWhat = "walk record"

// record is what the key store keeps per zone: the walk's status and the options it runs
// with, so that Resume restarts it as it was submitted.
type record struct {
	Status
	rate  float64 // Options.Rate
	batch int     // Options.Batch, resolved
}

var (
	errState    = errors.New("unknown state")
	errTarget   = errors.New("target version 0 does not exist")
	errNegative = errors.New("negative duration")
	errTooMany  = errors.New("more kept failures than allowed or counted")
	errRate     = errors.New("rate is not a finite number ≥ 0")
	errBatch    = errors.New("batch size out of range")
	errOrder    = errors.New("versions not strictly increasing from 1")
	errNoWalk   = errors.New("version counts without a completed walk")
	errPathRec  = errors.New("not a clean zone-relative path")
)

func recordKey(id [zone.IDLen]byte) string { return RecordPrefix + hex.EncodeToString(id[:]) }

// encode returns the record's bytes (FORMAT.md "Re-encryption walks"). Strings longer than a
// u16 length allows are cut, which only an absurd error message or path can be.
func (r *record) encode() []byte {
	b := []byte{recordVersion, byte(r.State)}
	b = append(b, byte(len(r.Key)))
	b = append(b, r.Key...)
	b = binary.BigEndian.AppendUint32(b, r.TargetVersion)
	b = appendString(b, r.Zone)
	b = appendTime(b, &r.Submitted)
	b = appendTime(appendTime(b, r.Started), r.Completed)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Active))
	for _, n := range []uint64{r.Reencrypted, r.Skipped, r.Failed, r.Seen} {
		b = binary.BigEndian.AppendUint64(b, n)
	}
	b = appendString(b, r.Checkpoint)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.rate))
	b = binary.BigEndian.AppendUint32(b, uint32(r.batch))
	b = appendString(b, r.Error)
	return r.appendTail(b)
}

// appendTail appends the failures, the last completed walk and its version counts.
func (r *record) appendTail(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Failures)))
	for _, f := range r.Failures {
		b = appendString(appendString(b, f.Path), f.Reason)
	}
	b = appendTime(b, r.LastWalk)
	vs := sortedVersions(r.Versions)
	b = binary.BigEndian.AppendUint32(b, uint32(len(vs)))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
		b = binary.BigEndian.AppendUint64(b, r.Versions[v])
	}
	return b
}

func appendString(b []byte, s string) []byte {
	s = s[:min(len(s), math.MaxUint16)]
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendTime appends Unix nanoseconds, 0 for nil.
func appendTime(b []byte, t *time.Time) []byte {
	var n int64
	if t != nil {
		n = t.UnixNano()
	}
	return binary.BigEndian.AppendUint64(b, uint64(n))
}

// decodeRecord parses the record of zone id. It fails closed with a *zone.ParseError naming
// the field for an unknown version or state, an invalid key name or value, or a wrong length.
func decodeRecord(id [zone.IDLen]byte, b []byte) (*record, error) {
	d := zone.NewDecoder(recordWhat, b)
	r := &record{Status: Status{ZoneID: id}}
	d.Version(recordVersion)
	r.State = State(d.U8("state"))
	d.Require("state", r.State.valid(), errState)
	r.Key = d.KeyName("key name")
	r.TargetVersion = d.U32("target version")
	d.Require("target version", r.TargetVersion != 0, errTarget)
	r.Zone = d.Str16("zone path")
	r.decodeTimes(d)
	r.decodeCounts(d)
	r.decodeTail(d)
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *record) decodeTimes(d *zone.Decoder) {
	r.Submitted = time.Unix(0, int64(d.U64("submitted"))).UTC()
	r.Started, r.Completed = readTime(d, "started"), readTime(d, "completed")
	r.Active = time.Duration(d.U64("active"))
	d.Require("active", r.Active >= 0, errNegative)
}

func (r *record) decodeCounts(d *zone.Decoder) {
	r.Reencrypted, r.Skipped = d.U64("reencrypted"), d.U64("skipped")
	r.Failed, r.Seen = d.U64("failed"), d.U64("seen")
	r.Checkpoint = d.Str16("checkpoint")
	d.Check("checkpoint", checkRel(r.Checkpoint))
	r.rate = math.Float64frombits(d.U64("rate"))
	d.Require("rate", !math.IsNaN(r.rate) && !math.IsInf(r.rate, 0) && r.rate >= 0, errRate)
	r.batch = int(d.U32("batch"))
	d.Require("batch", r.batch >= 1 && r.batch <= MaxBatch, errBatch)
	r.Error = d.Str16("error")
}

func (r *record) decodeTail(d *zone.Decoder) {
	n := int(d.U16("failure count"))
	d.Require("failure count", n <= MaxFailures && uint64(n) <= r.Failed, errTooMany)
	for i := 0; i < n && d.Err() == nil; i++ {
		r.Failures = append(r.Failures, Failure{Path: d.Str16("failure path"), Reason: d.Str16("failure reason")})
	}
	r.LastWalk = readTime(d, "last walk")
	r.decodeVersions(d, int(d.U32("version count")))
}

func (r *record) decodeVersions(d *zone.Decoder, n int) {
	d.Require("version count", n == 0 || r.LastWalk != nil, errNoWalk)
	d.Require("version count", n <= d.Len()/12, zone.ErrTruncated)
	if d.Err() != nil {
		return
	}
	if r.LastWalk != nil {
		r.Versions = make(map[uint32]uint64, n)
	}
	last := uint32(0)
	for i := 0; i < n && d.Err() == nil; i++ {
		v := d.U32("version")
		d.Require("version", v > last, errOrder)
		r.Versions[v], last = d.U64("file count"), v
	}
}

// checkRel accepts "" or a clean, local, slash-separated path.
func checkRel(p string) error {
	if p != "" && (!filepath.IsLocal(p) || filepath.Clean(p) != p) {
		return fmt.Errorf("%w: %q", errPathRec, p)
	}
	return nil
}

// readTime reads Unix nanoseconds; 0 is nil.
func readTime(d *zone.Decoder, field string) *time.Time {
	n := int64(d.U64(field))
	if n == 0 {
		return nil
	}
	t := time.Unix(0, n).UTC()
	return &t
}
