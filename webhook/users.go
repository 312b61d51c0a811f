package webhook

import (
	"cmp"
	"encoding/json"
	"time"

	"github.com/waflow/waflow"
)

// UserIDUpdateField is the change field "user_id_update", which Meta's
// business-scoped user id page named for a user's changed BSUID. Meta's
// changelog of 2026-08-11 says it is not a subscribable field: the change
// comes as a system message of the messages field (UserChangedUserID). A
// change with this field is stored as EventOther; its identifiers are read
// all the same, leniently (protocol.md 4.2).
const UserIDUpdateField = "user_id_update"

// Users returns what e says about users, as sightings for
// waflow.UserStore.SeeUser: the sender of a message (with the identifiers
// its contact adds), the new and previous identifiers of a system message,
// the recipient of a status, every entry of the notification's contacts,
// and the entries of a user_id_update change. A sighting is dated by its
// message or status, else by at. Identifiers that do not have their
// documented shape (a phone number that is a BSUID, a BSUID that is not
// one) are left out rather than stored.
func (e *Event) Users(at time.Time) []waflow.UserSighting {
	var out []waflow.UserSighting
	add := func(s waflow.UserSighting, when time.Time) {
		if s.At = when; s.At.IsZero() {
			s.At = at
		}
		if s.Phone != "" && waflow.IsBSUID(s.Phone) {
			s.Phone = ""
		}
		for _, id := range []*string{&s.BSUID, &s.ParentBSUID, &s.PreviousBSUID} {
			if *id != "" && !waflow.IsBSUID(*id) {
				*id = ""
			}
		}
		if s.Phone == "" && s.BSUID == "" {
			return
		}
		for _, o := range out {
			if o.Phone == s.Phone && o.BSUID == s.BSUID && o.PreviousBSUID == s.PreviousBSUID {
				return // the contact of the message just added
			}
		}
		out = append(out, s)
	}
	var when time.Time
	if len(e.Message) > 0 {
		if m, err := e.DecodeMessage(); err == nil {
			when = m.Timestamp
			if sys := m.System; sys != nil && (sys.Type == UserChangedNumber || sys.Type == UserChangedUserID) {
				// From is the number the user left; the user goes on under
				// the new identifiers.
				add(waflow.UserSighting{Phone: sys.WAID, BSUID: sys.UserID, ParentBSUID: sys.ParentUserID,
					PreviousBSUID: sys.PreviousUserID}, when)
			} else {
				add(waflow.UserSighting{Phone: m.From, BSUID: m.UserID, ParentBSUID: m.ParentUserID, Username: m.Username}, when)
			}
		}
	}
	if len(e.Status) > 0 {
		if st, err := e.DecodeStatus(); err == nil {
			when = st.Timestamp
			s := waflow.UserSighting{Phone: st.RecipientID, BSUID: st.RecipientUserID, ParentBSUID: st.RecipientParentUserID}
			if c, ok := findContact(e.DecodeContacts(), s.Phone, s.BSUID); ok {
				s.Phone, s.BSUID, s.ParentBSUID = cmp.Or(s.Phone, c.WAID), cmp.Or(s.BSUID, c.UserID), cmp.Or(s.ParentBSUID, c.ParentUserID)
				s.Username = c.Username
			}
			add(s, when)
		}
	}
	for _, c := range e.DecodeContacts() {
		add(waflow.UserSighting{Phone: c.WAID, BSUID: c.UserID, ParentBSUID: c.ParentUserID, Username: c.Username}, when)
	}
	if e.Field == UserIDUpdateField {
		for _, u := range decodeUserIDUpdate(e.Value) {
			add(u, u.At)
		}
	}
	return out
}

// decodeUserIDUpdate reads a user_id_update value leniently: an object, or
// an array of them under "user_id_update", each with wa_id, user_id,
// parent_user_id and previous_user_id (the names Meta uses for the same
// facts in system messages; the field's own reference is unconfirmed).
func decodeUserIDUpdate(raw json.RawMessage) []waflow.UserSighting {
	type entry struct {
		WAID     flexString `json:"wa_id"`
		UserID   flexString `json:"user_id"`
		Parent   flexString `json:"parent_user_id"`
		Previous flexString `json:"previous_user_id"`
		Time     flexString `json:"timestamp"`
	}
	var v struct {
		entry
		List []entry `json:"user_id_update"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []waflow.UserSighting
	for _, e := range append([]entry{v.entry}, v.List...) {
		out = append(out, waflow.UserSighting{Phone: string(e.WAID), BSUID: string(e.UserID), ParentBSUID: string(e.Parent),
			PreviousBSUID: string(e.Previous), At: unixTime(e.Time)})
	}
	return out
}
