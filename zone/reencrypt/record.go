package reencrypt

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/ezfs/ezfs/keys"
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
	d := &decoder{b: b}
	r := &record{Status: Status{ZoneID: id}}
	d.version()
	r.State = State(d.u8("state"))
	d.check("state", r.State.valid(), errState)
	r.Key = string(d.take("key name", int(d.u8("key name length"))))
	d.checkErr("key name", keys.CheckName(r.Key))
	r.TargetVersion = d.u32("target version")
	d.check("target version", r.TargetVersion != 0, errTarget)
	r.Zone = d.str("zone path")
	r.decodeTimes(d)
	r.decodeCounts(d)
	r.decodeTail(d)
	if err := d.finish(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *record) decodeTimes(d *decoder) {
	r.Submitted = time.Unix(0, int64(d.u64("submitted"))).UTC()
	r.Started, r.Completed = d.time("started"), d.time("completed")
	r.Active = time.Duration(d.u64("active"))
	d.check("active", r.Active >= 0, errNegative)
}

func (r *record) decodeCounts(d *decoder) {
	r.Reencrypted, r.Skipped = d.u64("reencrypted"), d.u64("skipped")
	r.Failed, r.Seen = d.u64("failed"), d.u64("seen")
	r.Checkpoint = d.str("checkpoint")
	d.checkErr("checkpoint", checkRel(r.Checkpoint))
	r.rate = math.Float64frombits(d.u64("rate"))
	d.check("rate", !math.IsNaN(r.rate) && !math.IsInf(r.rate, 0) && r.rate >= 0, errRate)
	r.batch = int(d.u32("batch"))
	d.check("batch", r.batch >= 1 && r.batch <= MaxBatch, errBatch)
	r.Error = d.str("error")
}

func (r *record) decodeTail(d *decoder) {
	n := int(d.u16("failure count"))
	d.check("failure count", n <= MaxFailures && uint64(n) <= r.Failed, errTooMany)
	for i := 0; i < n && d.err == nil; i++ {
		r.Failures = append(r.Failures, Failure{Path: d.str("failure path"), Reason: d.str("failure reason")})
	}
	r.LastWalk = d.time("last walk")
	r.decodeVersions(d, int(d.u32("version count")))
}

func (r *record) decodeVersions(d *decoder, n int) {
	d.check("version count", n == 0 || r.LastWalk != nil, errNoWalk)
	d.check("version count", n <= len(d.b)/12, zone.ErrTruncated)
	if d.err != nil {
		return
	}
	if r.LastWalk != nil {
		r.Versions = make(map[uint32]uint64, n)
	}
	last := uint32(0)
	for i := 0; i < n && d.err == nil; i++ {
		v := d.u32("version")
		d.check("version", v > last, errOrder)
		r.Versions[v], last = d.u64("file count"), v
	}
}

// checkRel accepts "" or a clean, local, slash-separated path.
func checkRel(p string) error {
	if p != "" && (!filepath.IsLocal(p) || filepath.Clean(p) != p) {
		return fmt.Errorf("%w: %q", errPathRec, p)
	}
	return nil
}

// decoder reads fields from b and remembers the first failure.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(field string, err error) {
	if d.err == nil {
		d.err = &zone.ParseError{What: recordWhat, Field: field, Err: err}
	}
}

func (d *decoder) check(field string, ok bool, err error) {
	if !ok {
		d.fail(field, err)
	}
}

func (d *decoder) checkErr(field string, err error) {
	if err != nil {
		d.fail(field, err)
	}
}

// take returns the next n bytes, or nil after a failure.
func (d *decoder) take(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail(field, zone.ErrTruncated)
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8(field string) uint8 {
	if p := d.take(field, 1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16(field string) uint16 {
	if p := d.take(field, 2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32(field string) uint32 {
	if p := d.take(field, 4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64(field string) uint64 {
	if p := d.take(field, 8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) str(field string) string {
	return string(d.take(field, int(d.u16(field+" length"))))
}

// time reads Unix nanoseconds; 0 is nil.
func (d *decoder) time(field string) *time.Time {
	n := int64(d.u64(field))
	if n == 0 {
		return nil
	}
	t := time.Unix(0, n).UTC()
	return &t
}

func (d *decoder) version() {
	if v := d.u8("format version"); d.err == nil && v != recordVersion {
		d.fail("format version", fmt.Errorf("%w %d (this ezfs reads %d)", zone.ErrFormatVersion, v, recordVersion))
	}
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) > 0 {
		d.fail("end", zone.ErrTrailing)
	}
	return d.err
}
