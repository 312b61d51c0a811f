package waflow

import (
	"context"
	"time"
)

// User is one WhatsApp user as waflow has seen them: their phone number,
// their business-scoped user id (BSUID), or both, kept together once both
// were seen in one webhook (protocol.md 4.2). A user who adopted a username
// may arrive with a BSUID and no phone number at all; the same user seen
// later with their phone number stays one User.
type User struct {
	ID    int64  // assigned by the store
	Phone string // the wa_id, the phone number; empty when never seen
	// BSUID is the business-scoped user id, such as
	// "US.13491208655302741918"; empty when never seen.
	BSUID string
	// ParentBSUID is the parent BSUID shared by the businesses of a managed
	// portfolio ("US.ENT.…"), when Meta sends one.
	ParentBSUID string
	Username    string // the user's WhatsApp username, the latest seen
	FirstSeen   time.Time
	LastSeen    time.Time
}

// UserSighting is what one webhook says about a user: the identifiers it
// carried, at the time of the message or status.
type UserSighting struct {
	Phone       string
	BSUID       string
	ParentBSUID string
	Username    string
	// PreviousBSUID is the user's former BSUID, when the webhook reports a
	// change (a system message user_changed_user_id or
	// user_changed_number): the user kept under it is the same user.
	PreviousBSUID string
	At            time.Time
}

// Validate checks s: it needs a phone number or a BSUID, and a BSUID (and a
// previous or parent one) must look like one.
func (s UserSighting) Validate() error {
	if s.Phone == "" && s.BSUID == "" {
		return Invalidf("a user sighting needs a phone number or a business-scoped user id")
	}
	// The messages name the field, never the user's identifier.
	for _, f := range []struct{ name, id string }{{"BSUID", s.BSUID}, {"previous BSUID", s.PreviousBSUID}, {"parent BSUID", s.ParentBSUID}} {
		if f.id != "" && !IsBSUID(f.id) {
			return Invalidf("the %s of a user sighting is not a business-scoped user id (want a country code, a period and letters or digits)", f.name)
		}
	}
	if s.Phone != "" && IsBSUID(s.Phone) {
		return Invalidf("the phone number of a user sighting is a business-scoped user id")
	}
	return nil
}

// UserStore keeps the users waflow has seen.
type UserStore interface {
	// SeeUser records s and returns the user it belongs to, in one
	// transaction: the user with s.Phone, or s.BSUID, or s.PreviousBSUID
	// (whose BSUID becomes s.BSUID). When s names two users kept apart so
	// far (one known by phone, one by BSUID), they become one, the older,
	// which takes the other's identifiers; but a user kept under another
	// BSUID is another person, who loses the phone number (SplitSighting). The newest non-empty Username
	// and ParentBSUID win; FirstSeen and LastSeen span every sighting,
	// LastSeen to LastSeenResolution: a sighting that changes nothing else
	// and is less than that after the stored LastSeen writes nothing (a
	// user who writes often costs a read, not a write). A zero At is set
	// to the store's clock. It returns ErrInvalid when s.Validate fails.
	SeeUser(ctx context.Context, s UserSighting) (User, error)

	// UserByPhone returns the user with phone number phone, or ErrNotFound.
	UserByPhone(ctx context.Context, phone string) (User, error)

	// UserByBSUID returns the user whose BSUID or parent BSUID is id, or
	// ErrNotFound.
	UserByBSUID(ctx context.Context, id string) (User, error)
}

// LastSeenResolution is how finely UserStore.SeeUser keeps a user's
// LastSeen.
const LastSeenResolution = time.Hour

// SightingNeedsWrite reports whether keep and merged, MergeSighting's
// answer for found, differ from what is stored enough to be written: new
// identifiers, a merge, a new username, an earlier FirstSeen, or a LastSeen
// at least LastSeenResolution later.
func SightingNeedsWrite(found []User, keep User, merged []int64) bool {
	if len(found) != 1 || len(merged) > 0 || keep.ID == 0 {
		return true
	}
	f := found[0]
	if keep.Phone != f.Phone || keep.BSUID != f.BSUID || keep.ParentBSUID != f.ParentBSUID || keep.Username != f.Username ||
		!keep.FirstSeen.Equal(f.FirstSeen) {
		return true
	}
	return keep.LastSeen.Sub(f.LastSeen) >= LastSeenResolution
}

// IsBSUID reports whether s has the shape of a business-scoped user id: a
// two-letter country code, a period, then letters, digits and periods (a
// parent BSUID has "ENT." after the country code), at most 140 bytes. A
// phone number (digits only) never has it.
func IsBSUID(s string) bool {
	if len(s) < 4 || len(s) > 140 || s[2] != '.' || !isUpper(s[0]) || !isUpper(s[1]) {
		return false
	}
	alnum := false
	for i := 3; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			alnum = true
		case c == '.':
		default:
			return false
		}
	}
	return alnum
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// Address returns where to send a message to a user: their phone number
// when known, else their BSUID (sent as the Messages API's recipient,
// protocol.md 4.2), else "".
func Address(phone, bsuid string) string {
	if phone != "" {
		return phone
	}
	return bsuid
}

// FlowHealth is the sending state of a flow as Meta's flows webhooks last
// reported it (protocol.md 4.3): while Paused, the outbox does not send the
// messages that carry its flow tokens. It is stored, so every replica sees
// it.
type FlowHealth struct {
	Flow   string // the flow's name
	FlowID string // Meta's id of the flow, when known
	// Status is the last status Meta reported: PUBLISHED, BLOCKED,
	// THROTTLED...
	Status    string
	Paused    bool // BLOCKED or THROTTLED
	Message   string
	UpdatedAt time.Time
}

// FlowHealthStore keeps the health of flows.
type FlowHealthStore interface {
	// SetFlowHealth stores h, replacing the record of h.Flow; a zero
	// UpdatedAt is set to the store's clock. A record older than the stored
	// one (an event delivered late) changes nothing. It returns ErrInvalid
	// when Flow or Status is empty.
	SetFlowHealth(ctx context.Context, h FlowHealth) error
	// FlowHealth returns the record of flow, or ErrNotFound.
	FlowHealth(ctx context.Context, flow string) (FlowHealth, error)
}

// PausesSending reports whether Meta's flow status status stops a flow
// from being sent (protocol.md 3.3 and 5.1: 132068 blocked, 132069
// throttled).
func PausesSending(status string) bool { return status == "BLOCKED" || status == "THROTTLED" }

// SplitSighting separates found, the stored users s names, into the users
// s belongs to and others: a user kept under another BSUID than s's (and
// not s.PreviousBSUID) is another person, found by a phone number that has
// since passed to s's user (a recycled number; a BSUID names one user and
// its changes come with the previous one, protocol.md 4.2). The store
// takes the phone number from the others and gives found's first part to
// MergeSighting, so that two people are never joined.
func SplitSighting(found []User, s UserSighting) (same, others []User) {
	for _, u := range found {
		if s.BSUID != "" && u.BSUID != "" && u.BSUID != s.BSUID && u.BSUID != s.PreviousBSUID {
			others = append(others, u)
		} else {
			same = append(same, u)
		}
	}
	return same, others
}

// MergeSighting applies s to found, the stored users it names (by phone,
// BSUID or previous BSUID, each at most once, any order), as
// UserStore.SeeUser describes: it returns the user to store (ID 0 when
// found is empty: a new user) and the IDs of the users merged into it,
// which the store deletes. Both drivers call it inside their transaction.
func MergeSighting(found []User, s UserSighting) (keep User, merged []int64) {
	if len(found) == 0 {
		return User{Phone: s.Phone, BSUID: s.BSUID, ParentBSUID: s.ParentBSUID, Username: s.Username,
			FirstSeen: s.At, LastSeen: s.At}, nil
	}
	keep = found[0]
	for _, u := range found[1:] {
		if u.ID < keep.ID {
			keep = u
		}
	}
	newest := true // s is at least as new as every stored sighting
	for _, u := range found {
		if u.LastSeen.After(s.At) {
			newest = false
		}
	}
	pick := func(fromSighting string, stored func(User) string) string {
		if fromSighting != "" && newest {
			return fromSighting
		}
		if v := stored(keep); v != "" {
			return v
		}
		for _, u := range found {
			if v := stored(u); v != "" {
				return v
			}
		}
		return fromSighting
	}
	// The identifiers of the sighting are the user's now: a phone number
	// and a BSUID seen together belong together, and a previous BSUID is
	// replaced by the new one.
	phone, bsuid := s.Phone, s.BSUID
	if phone == "" {
		phone = pick("", func(u User) string { return u.Phone })
	}
	if bsuid == "" {
		bsuid = pick("", func(u User) string {
			if s.PreviousBSUID != "" && u.BSUID == s.PreviousBSUID {
				return ""
			}
			return u.BSUID
		})
	}
	out := keep
	out.Phone, out.BSUID = phone, bsuid
	out.ParentBSUID = pick(s.ParentBSUID, func(u User) string { return u.ParentBSUID })
	out.Username = pick(s.Username, func(u User) string { return u.Username })
	for _, u := range found {
		if u.ID != keep.ID {
			merged = append(merged, u.ID)
		}
		if !u.FirstSeen.IsZero() && (out.FirstSeen.IsZero() || u.FirstSeen.Before(out.FirstSeen)) {
			out.FirstSeen = u.FirstSeen
		}
		if u.LastSeen.After(out.LastSeen) {
			out.LastSeen = u.LastSeen
		}
	}
	if s.At.Before(out.FirstSeen) {
		out.FirstSeen = s.At
	}
	if s.At.After(out.LastSeen) {
		out.LastSeen = s.At
	}
	return out, merged
}

// Validate checks h: it needs a flow and a status.
func (h FlowHealth) Validate() error {
	if h.Flow == "" || h.Status == "" {
		return Invalidf("a flow health record needs the flow's name and a status")
	}
	return nil
}
