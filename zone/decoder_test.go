package zone_test

import (
	"errors"
	"testing"

	"github.com/ezfs/ezfs/zone"
)

func TestDecoder(t *testing.T) {
	errOdd := errors.New("odd")
	tests := []struct {
		name   string
		in     []byte
		field  string // "" for success
		reason error
		read   func(t *testing.T, d *zone.Decoder)
	}{
		{name: "ok", in: []byte{1, 0, 2, 'a', 'b', 0, 0, 0, 9}, read: func(t *testing.T, d *zone.Decoder) {
			d.Version(1)
			if s, n := d.Str16("path"), d.U32("n"); s != "ab" || n != 9 {
				t.Errorf("read %q %d", s, n)
			}
		}},
		{name: "version", in: []byte{2}, field: "format version", reason: zone.ErrFormatVersion,
			read: func(t *testing.T, d *zone.Decoder) { d.Version(1) }},
		{name: "truncated-length", in: []byte{0}, field: "path length", reason: zone.ErrTruncated,
			read: func(t *testing.T, d *zone.Decoder) { d.Str16("path") }},
		{name: "truncated-string", in: []byte{0, 3, 'a'}, field: "path", reason: zone.ErrTruncated,
			read: func(t *testing.T, d *zone.Decoder) { d.Str16("path") }},
		{name: "trailing", in: []byte{7, 0}, field: "end", reason: zone.ErrTrailing,
			read: func(t *testing.T, d *zone.Decoder) { d.U8("a") }},
		{name: "first-failure-kept", in: []byte{3}, field: "a", reason: errOdd, read: func(t *testing.T, d *zone.Decoder) {
			d.Require("a", d.U8("a")%2 == 0, errOdd)
			d.Check("b", errors.New("later"))
			if d.U64("c") != 0 || d.Take("d", 0) != nil {
				t.Error("read after a failure returned data")
			}
		}},
		{name: "bad-key-name", in: []byte{3, 'a', '/', 'b'}, field: "key",
			read: func(t *testing.T, d *zone.Decoder) { d.KeyName("key") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := zone.NewDecoder("thing", tt.in)
			tt.read(t, d)
			err := d.Finish()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *zone.ParseError
			if !errors.As(err, &pe) || pe.What != "thing" || pe.Field != tt.field {
				t.Fatalf("error = %v, want a ParseError of thing naming %s", err, tt.field)
			}
			if tt.reason != nil && !errors.Is(err, tt.reason) {
				t.Fatalf("error = %v, want %v", err, tt.reason)
			}
		})
	}
}
