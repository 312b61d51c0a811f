package flowjson

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Version is a Flow JSON version such as 7.3.
type Version struct{ Major, Minor int }

// ParseVersion parses "major.minor".
func ParseVersion(s string) (Version, bool) {
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 || strings.HasPrefix(min, "+") || strings.HasPrefix(maj, "+") {
		return Version{}, false
	}
	return Version{a, b}, true
}

// String formats v as "major.minor".
func (v Version) String() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	return v.Major < w.Major || v.Major == w.Major && v.Minor < w.Minor
}

// AtLeast reports whether v is w or newer.
func (v Version) AtLeast(w Version) bool { return !v.Less(w) }

// Versions of Flow JSON that changed what the validator accepts.
var (
	V2_1 = Version{2, 1}
	V3_0 = Version{3, 0}
	V3_1 = Version{3, 1}
	V4_0 = Version{4, 0}
	V5_0 = Version{5, 0}
	V5_1 = Version{5, 1}
	V6_0 = Version{6, 0}
	V6_1 = Version{6, 1}
	V6_2 = Version{6, 2}
	V6_3 = Version{6, 3}
	V7_0 = Version{7, 0}
	V7_1 = Version{7, 1}
	V7_2 = Version{7, 2}
	V7_3 = Version{7, 3}
)

// Latest is the newest Flow JSON version waflow knows (protocol.md 6.1).
var Latest = V7_3

// versionStates says, for every known Flow JSON version, whether new flows
// can still be published with it (protocol.md 6.1: 2.1–5.0 are frozen and can
// only be sent as existing flows).
var versionStates = map[Version]bool{
	V2_1: false, V3_0: false, V3_1: false, V4_0: false, V5_0: false,
	V5_1: true, V6_0: true, V6_1: true, V6_2: true, V6_3: true,
	V7_0: true, V7_1: true, V7_2: true, V7_3: true,
}

// KnownVersions returns every Flow JSON version waflow validates, oldest first.
func KnownVersions() []Version {
	vs := slices.Collect(maps.Keys(versionStates))
	slices.SortFunc(vs, func(a, b Version) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	return vs
}

// Publishable reports whether new flows can be published with v.
func (v Version) Publishable() bool { return versionStates[v] }

// Known reports whether v is a Flow JSON version waflow knows.
func (v Version) Known() bool { _, ok := versionStates[v]; return ok }

// DataAPIVersions are the data_api_version values the platform accepts.
var DataAPIVersions = []string{"3.0", "4.0"}
