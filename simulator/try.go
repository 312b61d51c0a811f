package simulator

import (
	"errors"
	"maps"
)

// Try sets the input called name as Set does, then checks it at once as the
// phone checks it when the form is submitted (listed options, selection
// counts, character limits, input types, patterns, dates). A refused value
// is not kept: the form is left as it was, and the error is the message the
// phone shows under the input. A terminal that asks for each input uses it
// to refuse a wrong answer as it is typed rather than at the Footer.
func (s *Session) Try(name string, value any) error {
	if err := s.ready(); err != nil {
		return err
	}
	id := s.st.Screen
	before := maps.Clone(s.st.Form[id])
	if err := s.Set(name, value); err != nil {
		return err
	}
	for _, fe := range s.phoneCheck() {
		if fe.Component == name || fe.Key == name {
			s.st.Form[id] = before
			return errors.New(fe.Message)
		}
	}
	return nil
}
