package zone_test

import (
	"fmt"

	"github.com/ezfs/ezfs/zone"
)

func ExampleParseMarker() {
	m := zone.Marker{ID: [16]byte{0: 0x10, 15: 0x1f}, Key: "securelakekey"}
	b := m.Encode()
	fmt.Printf("%s = %d bytes\n", zone.XattrZone, len(b))
	got, err := zone.ParseMarker(b)
	fmt.Println(got.Key, err)
	_, err = zone.ParseMarker(b[:len(b)-1])
	fmt.Println(err)
	// Output:
	// user.ezfs.zone = 31 bytes
	// securelakekey <nil>
	// malformed user.ezfs.zone: key name: truncated
}
