package kubelet

import (
	"testing"
	"time"
)

func TestBackoffDoublesUpToTheCeiling(t *testing.T) {
	want := []time.Duration{10, 20, 40, 80, 160, 300, 300}
	for attempt, w := range want {
		if got := testBackoff.delay(int32(attempt)); got != w*time.Second {
			t.Errorf("delay(%d) = %s, want %s", attempt, got, w*time.Second)
		}
	}
	if got := testBackoff.delay(1 << 30); got != 300*time.Second {
		t.Errorf("huge attempt counts stay at the ceiling, got %s", got)
	}
}

func TestImagePullPhaseAlternates(t *testing.T) {
	cases := []struct {
		at     float64
		reason string
		next   float64
	}{
		{0, reasonErrImagePull, 2},
		{2, reasonImagePullBackOff, 10},
		{10, reasonErrImagePull, 12},
		{29, reasonImagePullBackOff, 30},
		{30, reasonErrImagePull, 32},
		{-5, reasonErrImagePull, 2}, // clock skew: treat as the first attempt
	}
	for _, c := range cases {
		reason, next := testBackoff.imagePullPhase(t0, at(c.at))
		if reason != c.reason || !next.Equal(at(c.next)) {
			t.Errorf("at %gs: %s until %s, want %s until %s", c.at, reason, next, c.reason, at(c.next))
		}
	}
}
