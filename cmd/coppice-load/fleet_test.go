package main

import (
	"testing"

	"github.com/coppice-dev/coppice/storage"
)

func TestHostMixGivesEachHostItsSoftware(t *testing.T) {
	t.Parallel()
	m := hostMix{hosts: 100, microblog: 40, group: 30}
	count := map[storage.Family]int{}
	names := map[string]int{}
	for i := range m.hosts {
		name, family := m.software(i)
		count[family]++
		names[name]++
	}
	if count[storage.FamilyMicroblog] != 40 || count[storage.FamilyGroup] != 30 || count[storage.FamilyUnknown] != 30 {
		t.Errorf("families of hostMix{100, 40, 30} = %v, want 40 microblog, 30 group, 30 unknown", count)
	}
	if names["mastodon"] != 20 || names["gotosocial"] != 20 || names["lemmy"] != 30 || names["fakesoft"] != 15 || names[""] != 15 {
		t.Errorf("software of hostMix{100, 40, 30} = %v, want 20 mastodon, 20 gotosocial, 30 lemmy, 15 fakesoft, 15 without NodeInfo", names)
	}
	if got := m.perPost(); got != 130 {
		t.Errorf("perPost of hostMix{100, 40, 30} = %d, want 130 (one Announce per known host, two per unknown)", got)
	}
}
