package kubelet

// Back-off schedules of crash loops and image pulls. Both are functions of timestamps that are
// in the pod status (a container's last finish time, the pod's start time), never of in-memory
// timers, so a restarted kubelet continues each schedule where it stood.

import "time"

// backoff is a doubling delay with a ceiling, as the kubelet uses for restarts and pulls.
type backoff struct {
	Initial time.Duration
	Max     time.Duration
}

// delay is the wait before retry number attempt+1 (attempt 0 is the first retry).
func (b backoff) delay(attempt int32) time.Duration {
	d := b.Initial
	for i := int32(0); i < attempt && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// errImagePullShown is how long ErrImagePull stays visible after each failed pull before the
// status settles on ImagePullBackOff, long enough for a polling client to see both.
const errImagePullShown = 2 * time.Second

// imagePullPhase tells, for a pull that fails every time and was first tried at start, whether
// the status shows ErrImagePull (just failed) or ImagePullBackOff (waiting to retry) at now, and
// when that next changes. Attempts happen at start, start+d(0), start+d(0)+d(1), ...
func (b backoff) imagePullPhase(start, now time.Time) (reason string, next time.Time) {
	attempt := start
	for n := int32(0); ; n++ {
		following := attempt.Add(b.delay(n))
		if now.Before(following) {
			shownUntil := attempt.Add(errImagePullShown)
			if now.Before(shownUntil) {
				return reasonErrImagePull, shownUntil
			}
			return reasonImagePullBackOff, following
		}
		attempt = following
	}
}
