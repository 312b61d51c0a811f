package flowjson

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Severity says whether a problem stops a flow from being published.
type Severity uint8

// Severities.
const (
	// SeverityError is a mistake Meta rejects (or waflow would reject at run time).
	SeverityError Severity = iota
	// SeverityWarning is worth fixing but does not stop the flow, such as a
	// version that can no longer publish new flows.
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// MarshalText writes "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "error" or "warning".
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = SeverityError
	case "warning":
		*s = SeverityWarning
	default:
		return fmt.Errorf("flowjson: unknown severity %q", b)
	}
	return nil
}

// Problem is one finding about a Flow JSON document.
type Problem struct {
	Severity Severity `json:"severity"`
	// Code is Meta's error code (protocol.md 6.8) where Meta has one for the
	// rule, else a waflow code; see the Code constants.
	Code string `json:"code"`
	// Message says what is wrong and what to change.
	Message string `json:"message"`
	// Pointer is the RFC 6901 JSON pointer of the offending value ("" is the
	// whole document).
	Pointer string `json:"pointer"`
	// Line and Column locate the offending value in the source (1-based,
	// column in bytes); both are 0 when the flow was not parsed from source.
	Line   int `json:"line"`
	Column int `json:"column"`
}

// String formats the problem as "line:col: CODE: message", with "warning: "
// before the code of a warning.
func (p Problem) String() string { return p.Format("") }

// Format formats the problem for file as "file:line:col: CODE: message"
// (compilers' convention, so editors can jump to it), with "warning: "
// before the code of a warning. Without a position it is "file: CODE: ...".
func (p Problem) Format(file string) string {
	var b strings.Builder
	b.WriteString(file)
	if p.Line > 0 {
		if file != "" {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Column))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Code)
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Problems is the list of findings of a validation, sorted by position.
type Problems []Problem

// Errors returns the number of problems with SeverityError.
func (ps Problems) Errors() int {
	n := 0
	for _, p := range ps {
		if p.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Warnings returns the number of problems with SeverityWarning.
func (ps Problems) Warnings() int { return len(ps) - ps.Errors() }

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool { return ps.Errors() > 0 }

// Err returns nil when ps has no errors, else a *ValidationError holding
// every problem.
func (ps Problems) Err() error {
	if !ps.HasErrors() {
		return nil
	}
	return &ValidationError{Problems: ps}
}

// WriteText writes one line per problem, formatted by [Problem.Format].
func (ps Problems) WriteText(w io.Writer, file string) error {
	for _, p := range ps {
		if _, err := io.WriteString(w, p.Format(file)+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// FileReport is the JSON form of the problems of one file, as written by
// "waflow validate -json".
type FileReport struct {
	File     string   `json:"file"`
	Errors   int      `json:"errors"`
	Warnings int      `json:"warnings"`
	Problems Problems `json:"problems"`
}

// Report returns the JSON report of ps for file. Problems is never nil, so
// a clean file gives "problems": [].
func (ps Problems) Report(file string) FileReport {
	if ps == nil {
		ps = Problems{}
	}
	return FileReport{File: file, Errors: ps.Errors(), Warnings: ps.Warnings(), Problems: ps}
}

// MarshalJSON writes the problems as a JSON array ([] when empty).
func (ps Problems) MarshalJSON() ([]byte, error) {
	if ps == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Problem(ps))
}

// ValidationError is the error form of a validation with errors.
type ValidationError struct {
	Problems Problems
}

// Error names the first error and how many more there are.
func (e *ValidationError) Error() string {
	n := e.Problems.Errors()
	var first string
	for _, p := range e.Problems {
		if p.Severity == SeverityError {
			first = p.String()
			break
		}
	}
	if n == 1 {
		return "flowjson: invalid Flow JSON: " + first
	}
	return fmt.Sprintf("flowjson: invalid Flow JSON: %s (and %d more errors)", first, n-1)
}

func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Pointer, b.Pointer),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Problem codes. Codes documented as Meta's are the ones Meta's Flow
// Builder and Flows API report for the same rule (protocol.md 6.8); the
// others are waflow's own, for rules Meta states without naming a code or
// that only waflow checks.
const (
	// Meta's codes.
	CodeInvalidFlowJSON                 = "INVALID_FLOW_JSON"
	CodeInvalidPropertyKey              = "INVALID_PROPERTY_KEY"
	CodeInvalidPropertyValue            = "INVALID_PROPERTY_VALUE"
	CodeInvalidPropertyType             = "INVALID_PROPERTY_TYPE"
	CodeInvalidPropertyValueFormat      = "INVALID_PROPERTY_VALUE_FORMAT"
	CodeMinItemsRequired                = "MIN_ITEMS_REQUIRED"
	CodeMinCharsRequired                = "MIN_CHARS_REQUIRED"
	CodeMissingRequiredTypeProperty     = "MISSING_REQUIRED_TYPE_PROPERTY"
	CodeMissingRequiredProperty         = "MISSING_REQUIRED_PROPERTY"
	CodePatternMismatch                 = "PATTERN_MISMATCH"
	CodeInvalidEnumValue                = "INVALID_ENUM_VALUE"
	CodeInvalidDependencies             = "INVALID_DEPENDENCIES"
	CodeNotKeywordSchemaValidation      = "NOT_KEYWORD_SCHEMA_VALIDATION_FAILED"
	CodeKeywordOneOf                    = "KEYWORD_ONE_OF"
	CodeInvalidFlowJSONVersion          = "INVALID_FLOW_JSON_VERSION"
	CodeMissingFlowJSONVersion          = "MISSING_FLOW_JSON_VERSION"
	CodeUnsupportedFlowJSONVersion      = "UNSUPPORTED_FLOW_JSON_VERSION"
	CodeNoSupportedDataAPIVersion       = "NO_SUPPORTED_DATA_API_VERSION"
	CodeInvalidRoutingModel             = "INVALID_ROUTING_MODEL"
	CodeInvalidOnClickActionPayload     = "INVALID_ON_CLICK_ACTION_PAYLOAD"
	CodeInvalidCompleteAction           = "INVALID_COMPLETE_ACTION"
	CodeInvalidNavigateActionPayload    = "INVALID_NAVIGATE_ACTION_PAYLOAD"
	CodeInvalidNavigateActionNextScreen = "INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME"
	CodeInvalidScreenDynamicData        = "INVALID_SCREEN_DYNAMIC_DATA"
	CodeInvalidScreenData               = "INVALID_SCREEN_DATA"
	CodeMaxScreensNumber                = "MAX_SCREENS_NUMBER"
	CodeMaxFooterPerScreen              = "MAX_FOOTER_PER_SCREEN"
	CodeMaxEmbeddedLinkPerScreen        = "MAX_EMBEDDED_LINK_PER_SCREEN"
	CodeMaxImagePerScreen               = "MAX_IMAGE_PER_SCREEN"
	CodeMaxOptInPerScreen               = "MAX_OPT_IN_PER_SCREEN"
	CodeMinValueGreaterThanMax          = "MIN_VALUE_GREATER_THAN_MAX"
	CodeMinimumValueRequired            = "MINIMUM_VALUE_REQUIRED"
	CodeMaximumValueRequired            = "MAXIMUM_VALUE_REQUIRED"
	CodeDuplicateFormComponentNames     = "DUPLICATE_FORM_COMPONENT_NAMES"
	CodeDuplicateScreenIDs              = "DUPLICATE_SCREEN_IDS"
	CodeScreenIDIsReservedKeyword       = "SCREEN_ID_IS_RESERVED_KEYWORD"
	CodeMissingFooterOnTerminalScreen   = "MISSING_FOOTER_ON_TERMINAL_SCREEN"
	CodeMissingTerminalScreen           = "MISSING_TERMINAL_SCREEN"
	CodeComponentsOutsideForm           = "COMPONENTS_OUTSIDE_FORM"
	CodeMissingFooterInIfElseBranches   = "MISSING_FOOTER_IN_IF_ELSE_BRANCHES"
	CodeMissingFooterInSwitchBranches   = "MISSING_FOOTER_IN_SWITCH_BRANCHES"
	CodeMoreThanOneFooter               = "MORE_THAN_ONE_FOOTER"
	CodeNativeComponentInFormInitValues = "NATIVE_COMPONENT_IN_FORM_INIT_VALUES"
	CodeInvalidActionPayloadProperty    = "INVALID_ACTION_PAYLOAD_PROPERTY"
	// Codes of Meta's Flow Builder validator (protocol.md 6.6, 6.7).
	CodeInvalidComponentPlacement       = "INVALID_COMPONENT_PLACEMENT"
	CodeMaximumIfNesting                = "MAXIMUM_IF_NESTING"
	CodeComponentTypeMaxNumberPerScreen = "COMPONENT_TYPE_MAX_NUMBER_PER_SCREEN"
	CodeDataSourceImageAndColor         = "DATA_SOURCE_ITEMS_HAVE_BOTH_IMAGE_AND_COLOR"
	CodeInvalidSensitiveField           = "INVALID_SENSITIVE_FIELD"

	// waflow's codes.

	// CodeFrozenVersion (warning): the Flow JSON version can still be sent
	// but no longer published as a new flow (protocol.md 6.1).
	CodeFrozenVersion = "FROZEN_FLOW_JSON_VERSION"
	// CodeFlowJSONTooLarge: the document exceeds Meta's 10 MB limit.
	CodeFlowJSONTooLarge = "FLOW_JSON_TOO_LARGE"
	// CodeDuplicateKey: a JSON object repeats a property; only the last
	// one counts, which is rarely what the author meant.
	CodeDuplicateKey = "DUPLICATE_PROPERTY"
	// CodeMaxCharsExceeded: a text is longer than its documented limit.
	CodeMaxCharsExceeded = "MAX_CHARS_EXCEEDED"
	// CodeMaxItemsExceeded: a list has more items than its documented limit.
	CodeMaxItemsExceeded = "MAX_ITEMS_EXCEEDED"
	// CodeMaxComponentsPerScreen: more than 50 components on a screen.
	CodeMaxComponentsPerScreen = "MAX_COMPONENTS_PER_SCREEN"
	// CodeComponentNotAllowed: a component where Meta does not allow it
	// (inside If or Switch, a Form in a Form, a Footer in a nested If).
	CodeComponentNotAllowed = "COMPONENT_NOT_ALLOWED"
	// CodeInvalidExpression: a reference or expression that does not parse
	// or has the wrong type.
	CodeInvalidExpression = "INVALID_EXPRESSION"
	// CodeUnknownReference: a reference to a form field, data field or
	// screen that does not exist.
	CodeUnknownReference = "UNKNOWN_REFERENCE"
	// CodeDuplicateOptionID: two items of one data source share an id.
	CodeDuplicateOptionID = "DUPLICATE_OPTION_ID"
	// CodeUncheckablePattern (warning): a TextInput pattern Go's RE2 cannot
	// compile (lookaround, backreferences): waflow cannot check submitted
	// values against it.
	CodeUncheckablePattern = "UNCHECKABLE_PATTERN"
	// CodeNavigateOnTerminalScreen (warning): a navigate action on a
	// terminal screen's Footer keeps the flow from terminating.
	CodeNavigateOnTerminalScreen = "NAVIGATE_ON_TERMINAL_SCREEN"
	// CodePayloadSchema: data for a screen that does not match its data
	// model (used by [CheckScreenData]; the client reports it as
	// payload-schema-error).
	CodePayloadSchema = "PAYLOAD_SCHEMA_ERROR"
)
