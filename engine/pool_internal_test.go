package engine

import (
	"errors"
	"testing"
)

// TestPoolPick: a run goes to the engine of its platform with the fewest
// containers per slot, the first configured on a tie, never to one taken
// out.
func TestPoolPick(t *testing.T) {
	a := &poolMember{PoolMember: PoolMember{Platforms: []string{"linux/amd64"}, Slots: 2}}
	b := &poolMember{PoolMember: PoolMember{Platforms: []string{"linux/amd64", "linux/arm64"}, Slots: 1}}
	c := &poolMember{PoolMember: PoolMember{Platforms: []string{"linux/arm64"}, Slots: 4}}
	p := &Pool{members: []*poolMember{a, b, c}}
	name := map[*poolMember]string{a: "a", b: "b", c: "c", nil: "none"}
	var got string
	for range 5 {
		got += name[p.pick("linux/amd64")]
	}
	// Busy per slot: 0/2 ties 0/1 (a); 1/2 > 0/1 (b); 1/2 < 1/1 (a);
	// 2/2 ties 1/1 (a); 3/2 > 1/1 (b).
	if want := "abaab"; got != want {
		t.Errorf("picks %s, want %s", got, want)
	}
	a.busy, b.busy = 0, 0
	b.down = errors.New("gone")
	if m := p.pick("linux/amd64"); m != a {
		t.Errorf("picked %s with b down, want a", name[m])
	}
	if m := p.pick("linux/arm64"); m != c {
		t.Errorf("picked %s for arm64, want c", name[m])
	}
	if m := p.pick("linux/s390x"); m != nil {
		t.Errorf("picked %s for a platform no engine builds for", name[m])
	}
}
