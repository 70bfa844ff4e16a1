package archive

import (
	"fmt"
	"strconv"
	"time"
)

// DefaultTime is the timestamp of every entry when SOURCE_DATE_EPOCH is not
// set: the earliest time a zip header can hold.
var DefaultTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// SourceDateEpoch returns the timestamp for archive entries: the
// SOURCE_DATE_EPOCH variable read through getenv (decimal seconds since the
// Unix epoch, see reproducible-builds.org) in UTC, else DefaultTime. A value
// that is not a non-negative integer is an error rather than ignored, since a
// silently ignored value would produce different bytes than the user expects.
func SourceDateEpoch(getenv func(string) string) (time.Time, error) {
	v := getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return DefaultTime, nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a non-negative integer number of seconds", v)
	}
	return time.Unix(secs, 0).UTC(), nil
}
