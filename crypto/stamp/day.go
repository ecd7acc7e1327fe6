package stamp

import "time"

// Day is a UTC calendar day, counted from the Unix epoch (1970-01-01 is 0).
type Day uint32

const secondsPerDay = 24 * 60 * 60

// DayOf returns the UTC day of t. Times before the epoch map to day 0.
func DayOf(t time.Time) Day {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	return Day(s / secondsPerDay)
}

// near reports whether d is within one day of today, either way, so that
// sender and recipient clocks may disagree a little and a stamp made just
// before midnight still verifies just after.
func (d Day) near(today Day) bool {
	diff := int64(d) - int64(today)
	return diff >= -1 && diff <= 1
}
