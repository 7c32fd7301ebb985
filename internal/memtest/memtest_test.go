package memtest

import "testing"

var sink []byte

func TestMeasureSeesRetainedAllocation(t *testing.T) {
	u := Measure(func() { sink = make([]byte, 64<<20) })
	if u.Peak < 64<<20 || u.Total < 64<<20 {
		t.Errorf("64 MiB kept: peak %d, total %d", u.Peak, u.Total)
	}
	sink = nil
	u = Measure(func() {})
	if u.Peak > 1<<20 {
		t.Errorf("nothing allocated: peak %d", u.Peak)
	}
}
