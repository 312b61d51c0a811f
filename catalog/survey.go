package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/catalog/catalogstore"
	"github.com/waflow/waflow/registry"
)

// Feedback Survey (P2): RATING → COMMENTS → FOLLOW_UP → SEND, a static flow:
// WhatsApp navigates on the phone, and the answers arrive only with the
// completion webhook. The follow-up questions are shown with If only when
// the user agrees to be contacted.

func init() { builders["feedback_survey"] = newSurvey }

type survey struct{ *env }

func newSurvey(e *env) (*registry.Flow, error) {
	src, spec, err := loadSpec("feedback_survey")
	if err != nil {
		return nil, err
	}
	s := &survey{env: e}
	return &registry.Flow{
		Name:     "feedback_survey",
		Title:    "Feedback Survey",
		Summary:  "rating, comments and an optional follow-up contact, stored from the completion webhook",
		Source:   src,
		Spec:     spec,
		Complete: s.complete,
		CheckCompletion: func(values map[string]any) error {
			_, err := surveyResponse(values)
			return err
		},
	}, nil
}

// surveyResponse reads the completion's values. The flow's value
// validation already checked them against the components; this reads them
// into their types and applies what If expressed: contact details only with
// the user's consent.
func surveyResponse(v map[string]any) (catalogstore.SurveyResponse, error) {
	var r catalogstore.SurveyResponse
	rating, _ := v["rating"].(string)
	n, err := strconv.Atoi(rating)
	if err != nil || n < 1 || n > 5 {
		return r, errors.New("rating is not 1 to 5")
	}
	r.Rating = n
	r.Comments, _ = v["comments"].(string)
	r.Comments = strings.TrimSpace(r.Comments)
	r.FollowUp, _ = v["follow_up"].(bool)
	if r.FollowUp {
		r.ContactMethod, _ = v["contact_method"].(string)
		r.ContactValue, _ = v["contact_value"].(string)
		r.ContactTime, _ = v["contact_time"].(string)
		r.ContactValue = strings.TrimSpace(r.ContactValue)
		if r.ContactMethod == "" {
			return r, fmt.Errorf("follow-up agreed without a contact method")
		}
		if r.ContactMethod != "whatsapp" && r.ContactValue == "" {
			return r, errors.New("a contact method other than whatsapp without a phone number or email")
		}
	}
	return r, nil
}

// complete stores the response, once per completion message.
func (s *survey) complete(ctx context.Context, c registry.Completion) error {
	r, err := surveyResponse(c.Values)
	if err != nil {
		return fmt.Errorf("%w: feedback_survey completion: %w", waflow.ErrRejected, err)
	}
	r.MessageID = c.MessageID
	r.TokenID = c.Token.ID
	r.WAID = c.WAID
	r.CreatedAt = s.now()
	_, err = s.store.SaveSurveyResponse(ctx, r)
	return err
}
