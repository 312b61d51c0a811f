package flowjson

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/invalid")

// formatGolden renders problems as the golden files hold them: the
// file:line:col: CODE: message line, then the JSON pointer indented.
func formatGolden(name string, ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Format(name))
		b.WriteString("\n\t")
		b.WriteString(p.Pointer)
		b.WriteString("\n")
	}
	return b.String()
}

func readDir(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// TestValidCorpus validates every flow of testdata/valid: none may have an
// error, and the only warning allowed is the frozen-version one for flows
// written in a version that can no longer be published.
func TestValidCorpus(t *testing.T) {
	files := readDir(t, "valid")
	if len(files) < 30 {
		t.Fatalf("testdata/valid has %d flows, want at least 30", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, ps := ValidateSource(src)
			if f == nil {
				t.Fatalf("does not parse: %v", ps)
			}
			ver, _ := ParseVersion(f.Version)
			for _, p := range ps {
				if p.Severity == SeverityWarning && p.Code == CodeFrozenVersion && !ver.Publishable() {
					continue
				}
				t.Errorf("unexpected problem: %s (%s)", p.Format(file), p.Pointer)
			}
		})
	}
}

// TestValidCorpusCoverage checks that the valid corpus exercises every
// component, every action and every Flow JSON version.
func TestValidCorpusCoverage(t *testing.T) {
	components := map[string]bool{}
	actions := map[string]bool{}
	versions := map[Version]bool{}
	for _, file := range readDir(t, "valid") {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		v, _ := ParseVersion(f.Version)
		versions[v] = true
		for _, s := range f.Screens {
			var walk func([]*Component)
			walk = func(list []*Component) {
				for _, c := range list {
					components[c.Type] = true
					walk(c.Children)
					walk(c.Then)
					walk(c.Else)
					if c.Cases != nil {
						for _, k := range c.Cases.Cases {
							walk(k.Children)
						}
					}
				}
			}
			walk(s.Children())
			for _, a := range s.Actions() {
				actions[a.Action.Name] = true
			}
		}
	}
	for _, typ := range componentTypes {
		if !components[typ] {
			t.Errorf("no valid flow uses %s", typ)
		}
	}
	for _, name := range actionNames {
		if !actions[name] {
			t.Errorf("no valid flow uses the %s action", name)
		}
	}
	for _, v := range KnownVersions() {
		if !versions[v] {
			t.Errorf("no valid flow is written in Flow JSON %s", v)
		}
	}
}

// invalidExpect names the problem code each invalid flow exists to show.
// Every golden must contain it, so a regenerated golden that lost the
// intended finding fails.
var invalidExpect = map[string]string{
	"action_payload_not_object":                "INVALID_PROPERTY_TYPE",
	"action_without_name":                      "MISSING_REQUIRED_PROPERTY",
	"bad_input_type":                           "INVALID_ENUM_VALUE",
	"bad_layout_type":                          "INVALID_PROPERTY_VALUE",
	"calendar_bad_weekday":                     "INVALID_ENUM_VALUE",
	"calendar_title_in_single_mode":            "INVALID_DEPENDENCIES",
	"checkbox_label_required_from_4_0":         "MISSING_REQUIRED_PROPERTY",
	"children_not_an_array":                    "INVALID_PROPERTY_TYPE",
	"chips_selector_one_option":                "MIN_ITEMS_REQUIRED",
	"complete_on_embedded_link":                "INVALID_ENUM_VALUE",
	"complete_on_non_terminal_screen":          "INVALID_COMPLETE_ACTION",
	"complete_picker_default_max":              "INVALID_ON_CLICK_ACTION_PAYLOAD",
	"component_newer_than_version":             "INVALID_PROPERTY_VALUE",
	"component_not_allowed_in_if":              "COMPONENT_NOT_ALLOWED",
	"data_api_version_without_routing_model":   "MISSING_REQUIRED_PROPERTY",
	"data_array_without_items":                 "INVALID_SCREEN_DATA",
	"data_channel_uri_after_3_0":               "INVALID_PROPERTY_KEY",
	"data_example_not_at_top_level":            "INVALID_SCREEN_DATA",
	"data_example_type_mismatch":               "INVALID_SCREEN_DATA",
	"data_exchange_without_endpoint":           "MISSING_REQUIRED_PROPERTY",
	"data_field_not_an_object":                 "INVALID_SCREEN_DATA",
	"data_missing_example":                     "INVALID_SCREEN_DATA",
	"data_missing_type":                        "INVALID_SCREEN_DATA",
	"data_source_image_and_color":              "DATA_SOURCE_ITEMS_HAVE_BOTH_IMAGE_AND_COLOR",
	"data_source_not_a_reference":              "INVALID_PROPERTY_TYPE",
	"data_source_schema_without_title":         "INVALID_SCREEN_DYNAMIC_DATA",
	"data_unknown_type":                        "INVALID_SCREEN_DATA",
	"date_picker_bad_date_format":              "INVALID_PROPERTY_VALUE_FORMAT",
	"date_picker_min_after_max":                "MIN_VALUE_GREATER_THAN_MAX",
	"document_mime_type_not_allowed":           "INVALID_ENUM_VALUE",
	"duplicate_input_names":                    "DUPLICATE_FORM_COMPONENT_NAMES",
	"duplicate_option_id":                      "DUPLICATE_OPTION_ID",
	"duplicate_property":                       "DUPLICATE_PROPERTY",
	"duplicate_screen_ids":                     "DUPLICATE_SCREEN_IDS",
	"empty_data_source":                        "MIN_ITEMS_REQUIRED",
	"empty_heading":                            "MIN_CHARS_REQUIRED",
	"empty_screens":                            "MIN_ITEMS_REQUIRED",
	"expression_before_6_0":                    "INVALID_PROPERTY_VALUE",
	"expression_type_error":                    "INVALID_PROPERTY_VALUE",
	"footer_center_and_left_caption":           "NOT_KEYWORD_SCHEMA_VALIDATION_FAILED",
	"footer_inside_and_outside_if":             "MORE_THAN_ONE_FOOTER",
	"footer_label_too_long":                    "MAX_CHARS_EXCEEDED",
	"footer_left_without_right":                "INVALID_DEPENDENCIES",
	"footer_outside_form_uses_form_before_4_0": "INVALID_ON_CLICK_ACTION_PAYLOAD",
	"form_init_values_picker":                  "NATIVE_COMPONENT_IN_FORM_INIT_VALUES",
	"four_images":                              "MAX_IMAGE_PER_SCREEN",
	"global_reference_before_4_0":              "INVALID_SCREEN_DATA",
	"global_reference_current_screen":          "INVALID_SCREEN_DYNAMIC_DATA",
	"global_reference_unknown_screen":          "INVALID_SCREEN_DYNAMIC_DATA",
	"heading_too_long":                         "MAX_CHARS_EXCEEDED",
	"if_condition_literals_only":               "INVALID_PROPERTY_VALUE",
	"if_condition_type_mismatch":               "INVALID_PROPERTY_VALUE",
	"if_condition_unbalanced":                  "INVALID_PROPERTY_VALUE",
	"if_empty_then":                            "INVALID_PROPERTY_VALUE",
	"if_footer_only_in_then":                   "MISSING_FOOTER_IN_IF_ELSE_BRANCHES",
	"if_nested_four_levels":                    "MAXIMUM_IF_NESTING",
	"image_bad_base64":                         "INVALID_PROPERTY_VALUE_FORMAT",
	"image_carousel_four_images":               "MAX_ITEMS_EXCEEDED",
	"image_carousel_missing_alt_text":          "MISSING_REQUIRED_PROPERTY",
	"init_value_inside_form":                   "INVALID_PROPERTY_KEY",
	"input_label_too_long":                     "MAX_CHARS_EXCEEDED",
	"input_outside_existing_form":              "COMPONENTS_OUTSIDE_FORM",
	"input_outside_form_before_4_0":            "KEYWORD_ONE_OF",
	"malformed_reference":                      "INVALID_PROPERTY_VALUE",
	"malformed_version":                        "INVALID_FLOW_JSON_VERSION",
	"max_chars_not_numeric":                    "PATTERN_MISMATCH",
	"min_chars_greater_than_max":               "MIN_VALUE_GREATER_THAN_MAX",
	"missing_component_type":                   "MISSING_REQUIRED_TYPE_PROPERTY",
	"missing_required_label":                   "MISSING_REQUIRED_PROPERTY",
	"missing_version":                          "MISSING_FLOW_JSON_VERSION",
	"navigate_backward":                        "INVALID_ROUTING_MODEL",
	"navigate_missing_next":                    "MISSING_REQUIRED_PROPERTY",
	"navigate_next_without_type":               "MISSING_REQUIRED_PROPERTY",
	"navigate_payload_extra_field":             "INVALID_NAVIGATE_ACTION_PAYLOAD",
	"navigate_payload_missing_field":           "INVALID_NAVIGATE_ACTION_PAYLOAD",
	"navigate_payload_type_mismatch":           "INVALID_NAVIGATE_ACTION_PAYLOAD",
	"navigate_to_same_screen":                  "INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME",
	"navigate_unknown_screen":                  "INVALID_NAVIGATE_ACTION_NEXT_SCREEN_NAME",
	"navigate_with_picker_value":               "INVALID_ON_CLICK_ACTION_PAYLOAD",
	"navigation_list_action_on_list_and_item":  "NOT_KEYWORD_SCHEMA_VALIDATION_FAILED",
	"navigation_list_on_terminal_screen":       "INVALID_PROPERTY_KEY",
	"navigation_list_tag_too_long":             "MAX_CHARS_EXCEEDED",
	"navigation_list_with_other_components":    "INVALID_COMPONENT_PLACEMENT",
	"no_successful_terminal_screen":            "INVALID_PROPERTY_VALUE",
	"no_terminal_screen":                       "MISSING_TERMINAL_SCREEN",
	"on_unselect_data_exchange":                "INVALID_ENUM_VALUE",
	"open_url_bad_url":                         "INVALID_PROPERTY_VALUE_FORMAT",
	"open_url_on_footer":                       "INVALID_ENUM_VALUE",
	"open_url_with_payload":                    "INVALID_PROPERTY_KEY",
	"option_bad_color":                         "INVALID_PROPERTY_VALUE_FORMAT",
	"option_image_before_5_0":                  "INVALID_PROPERTY_KEY",
	"option_missing_id":                        "MISSING_REQUIRED_PROPERTY",
	"option_title_too_long":                    "MAX_CHARS_EXCEEDED",
	"pattern_without_helper_text":              "MISSING_REQUIRED_PROPERTY",
	"photo_and_document_picker":                "COMPONENT_TYPE_MAX_NUMBER_PER_SCREEN",
	"photo_picker_max_too_high":                "MAXIMUM_VALUE_REQUIRED",
	"photo_picker_min_greater_than_max":        "MIN_VALUE_GREATER_THAN_MAX",
	"property_newer_than_version":              "INVALID_PROPERTY_KEY",
	"reference_to_form_itself":                 "INVALID_ON_CLICK_ACTION_PAYLOAD",
	"reference_to_undeclared_data":             "INVALID_SCREEN_DYNAMIC_DATA",
	"reference_unknown_form_field":             "INVALID_ON_CLICK_ACTION_PAYLOAD",
	"reference_wrong_type":                     "INVALID_SCREEN_DYNAMIC_DATA",
	"refresh_on_back_without_endpoint":         "INVALID_PROPERTY_VALUE",
	"required_as_string":                       "INVALID_PROPERTY_TYPE",
	"rich_text_not_alone_before_6_3":           "INVALID_COMPONENT_PLACEMENT",
	"routing_backward_route":                   "INVALID_ROUTING_MODEL",
	"routing_disconnected":                     "INVALID_ROUTING_MODEL",
	"routing_loop_without_entry":               "INVALID_ROUTING_MODEL",
	"routing_missing_navigate_route":           "INVALID_ROUTING_MODEL",
	"routing_missing_screen":                   "INVALID_ROUTING_MODEL",
	"routing_model_not_array":                  "INVALID_PROPERTY_TYPE",
	"routing_self_route":                       "INVALID_ROUTING_MODEL",
	"routing_too_many_branches":                "INVALID_ROUTING_MODEL",
	"routing_unknown_screen":                   "INVALID_ROUTING_MODEL",
	"routing_unlisted_terminal_disconnected":   "INVALID_ROUTING_MODEL",
	"screen_id_pattern":                        "PATTERN_MISMATCH",
	"screen_id_reserved":                       "SCREEN_ID_IS_RESERVED_KEYWORD",
	"screen_id_reserved_lowercase":             "SCREEN_ID_IS_RESERVED_KEYWORD",
	"sensitive_before_5_1":                     "INVALID_PROPERTY_KEY",
	"sensitive_unknown_field":                  "INVALID_SENSITIVE_FIELD",
	"six_opt_ins":                              "MAX_OPT_IN_PER_SCREEN",
	"snake_case_property":                      "INVALID_PROPERTY_KEY",
	"success_as_string":                        "INVALID_PROPERTY_TYPE",
	"success_on_non_terminal":                  "NOT_KEYWORD_SCHEMA_VALIDATION_FAILED",
	"switch_empty_cases":                       "INVALID_PROPERTY_VALUE",
	"switch_footer_in_one_case":                "MISSING_FOOTER_IN_SWITCH_BRANCHES",
	"switch_value_not_a_reference":             "INVALID_PROPERTY_VALUE",
	"syntax_trailing_comma":                    "INVALID_FLOW_JSON",
	"syntax_unterminated_string":               "INVALID_FLOW_JSON",
	"terminal_without_footer":                  "MISSING_FOOTER_ON_TERMINAL_SCREEN",
	"text_array_before_5_1":                    "INVALID_PROPERTY_TYPE",
	"text_mixed_with_reference":                "INVALID_PROPERTY_VALUE",
	"three_embedded_links":                     "MAX_EMBEDDED_LINK_PER_SCREEN",
	"too_many_components":                      "MAX_COMPONENTS_PER_SCREEN",
	"too_many_radio_options":                   "MAX_ITEMS_EXCEEDED",
	"too_many_screens":                         "MAX_SCREENS_NUMBER",
	"top_level_array":                          "INVALID_FLOW_JSON",
	"two_footers":                              "MAX_FOOTER_PER_SCREEN",
	"unconnected_screen":                       "INVALID_ROUTING_MODEL",
	"unknown_action_name":                      "INVALID_ENUM_VALUE",
	"unknown_component_type":                   "INVALID_PROPERTY_VALUE",
	"unknown_screen_property":                  "INVALID_PROPERTY_KEY",
	"unknown_top_level_property":               "INVALID_PROPERTY_KEY",
	"unsupported_data_api_version":             "NO_SUPPORTED_DATA_API_VERSION",
	"unsupported_version":                      "UNSUPPORTED_FLOW_JSON_VERSION",
	"update_data_before_6_0":                   "INVALID_ENUM_VALUE",
	"update_data_undeclared_key":               "INVALID_ACTION_PAYLOAD_PROPERTY",
	"version_as_number":                        "INVALID_PROPERTY_TYPE",
}

// TestInvalidCorpus validates every flow of testdata/invalid (one mistake
// each) and compares the problems with its .golden file.
func TestInvalidCorpus(t *testing.T) {
	files := readDir(t, "invalid")
	if len(files) < 60 {
		t.Fatalf("testdata/invalid has %d flows, want at least 60", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, ps := ValidateSource(src)
			if !ps.HasErrors() {
				t.Fatalf("no error reported")
			}
			code, ok := invalidExpect[name]
			if !ok {
				t.Fatalf("no expected code listed for %s in invalidExpect", name)
			}
			if !slices.ContainsFunc(ps, func(p Problem) bool { return p.Code == code && p.Severity == SeverityError }) {
				t.Errorf("no %s error among:\n%s", code, formatGolden(name+".json", ps))
			}
			got := formatGolden(name+".json", ps)
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			checkGolden(t, golden, got, "")
		})
	}
	for name := range invalidExpect {
		if _, err := os.Stat(filepath.Join("testdata", "invalid", name+".json")); err != nil {
			t.Errorf("invalidExpect lists %s, which has no file", name)
		}
	}
}

// warnExpect names the warning each flow of testdata/warn exists to show:
// flows Meta may accept, which waflow lets through with a warning
// (protocol.md 6.6).
var warnExpect = map[string]string{
	"data_object_without_properties":        "INVALID_SCREEN_DATA",
	"data_source_schema_without_properties": "INVALID_SCREEN_DYNAMIC_DATA",
	"routing_navigate_target_entry_7_3":     "INVALID_ROUTING_MODEL",
}

// TestWarnCorpus validates every flow of testdata/warn: no error, the
// warning warnExpect names, and the problems of its .golden file.
func TestWarnCorpus(t *testing.T) {
	files := readDir(t, "warn")
	if len(files) < len(warnExpect) {
		t.Fatalf("testdata/warn has %d flows, want %d", len(files), len(warnExpect))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, ps := ValidateSource(src)
			got := formatGolden(name+".json", ps)
			if ps.HasErrors() {
				t.Fatalf("errors reported for a flow that should only warn:\n%s", got)
			}
			code, ok := warnExpect[name]
			if !ok {
				t.Fatalf("no expected code listed for %s in warnExpect", name)
			}
			if !slices.ContainsFunc(ps, func(p Problem) bool { return p.Code == code && p.Severity == SeverityWarning }) {
				t.Errorf("no %s warning among:\n%s", code, got)
			}
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			checkGolden(t, golden, got, "")
		})
	}
	for name := range warnExpect {
		if _, err := os.Stat(filepath.Join("testdata", "warn", name+".json")); err != nil {
			t.Errorf("warnExpect lists %s, which has no file", name)
		}
	}
}

// TestProblemPositions checks that every problem of the invalid corpus
// points at the right place: its line:col is where its JSON pointer leads
// in the source (or where the object that lacks a property starts).
func TestProblemPositions(t *testing.T) {
	for _, file := range readDir(t, "invalid") {
		src, _ := os.ReadFile(file)
		root, err := ParseValue(src)
		if err != nil {
			continue // syntax errors have no pointer
		}
		_, ps := ValidateSource(src)
		for _, p := range ps {
			if p.Line == 0 {
				continue
			}
			v, key := resolvePointer(root, p.Pointer)
			if v == nil {
				t.Errorf("%s: pointer %q of %s leads nowhere", file, p.Pointer, p.Code)
				continue
			}
			if (v.Pos.Line != p.Line || v.Pos.Col != p.Column) && (key == nil || key.KeyPos.Line != p.Line || key.KeyPos.Col != p.Column) {
				t.Errorf("%s: %s at %d:%d, but its pointer %q is at %s", file, p.Code, p.Line, p.Column, p.Pointer, v.Pos)
			}
		}
	}
}

// resolvePointer follows an RFC 6901 pointer, returning the value and, for
// an object member, the member (whose key position problems about the key
// itself use).
func resolvePointer(v *Value, ptr string) (*Value, *Member) {
	if ptr == "" {
		return v, nil
	}
	var m *Member
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v.Kind {
		case Object:
			if m = v.member(tok); m == nil {
				return nil, nil
			}
			v = m.Value
		case Array:
			i := 0
			for _, c := range tok {
				i = i*10 + int(c-'0')
			}
			if i >= len(v.Items) {
				return nil, nil
			}
			v, m = v.Items[i], nil
		default:
			return nil, nil
		}
	}
	return v, m
}

// TestRoundTrip parses every corpus file, marshals it and checks that the
// output holds exactly the same JSON (every property, known or not) and
// parses back to the same model.
func TestRoundTrip(t *testing.T) {
	files := append(readDir(t, "valid"), readDir(t, "invalid")...)
	files = append(files, readDir(t, "seed")...)
	for _, file := range files {
		src, _ := os.ReadFile(file)
		f, err := Parse(src)
		if err != nil {
			continue
		}
		out, err := f.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var a, b any
		if err := json.Unmarshal(src, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("%s: marshalled output is not JSON: %v", file, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: marshalled flow differs from the source:\n%s", file, cmp.Diff(a, b))
		}
		g, err := Parse(out)
		if err != nil {
			t.Fatalf("%s: reparse: %v", file, err)
		}
		if diff := cmp.Diff(f, g, modelCmp); diff != "" {
			t.Errorf("%s: model changed after a round trip (-first +second):\n%s", file, diff)
		}
	}
}

// TestSeedFlows runs the seed document's two sample flows through the
// validator and asserts exactly what it reports. The copies under
// testdata/seed must match the seed document when it is present.
func TestSeedFlows(t *testing.T) {
	seed, err := os.ReadFile("../../shared/seed/whatsapp-flows-integration.md")
	if err == nil {
		blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(seed, -1)
		if len(blocks) < 3 {
			t.Fatalf("the seed document has %d JSON blocks, want 3", len(blocks))
		}
		for i, name := range []string{"appointment_booking.json", "expense_entry.json"} {
			copy, _ := os.ReadFile(filepath.Join("testdata", "seed", name))
			if string(copy) != string(blocks[i+1][1]) {
				t.Errorf("testdata/seed/%s is not a verbatim copy of the seed's JSON block %d", name, i+2)
			}
		}
	}
	tests := []struct {
		file string
		want []string
	}{
		{"appointment_booking.json", []string{
			// Flow JSON 4.0 can no longer publish new flows.
			"2:14: warning: FROZEN_FLOW_JSON_VERSION",
			// "date" is not a JSON Schema type: dates are strings.
			"9:19: INVALID_SCREEN_DATA",
			// Before 5.0 DatePicker dates are millisecond timestamps.
			"21:25: INVALID_PROPERTY_VALUE_FORMAT",
			"22:25: INVALID_PROPERTY_VALUE_FORMAT",
			// next has no "type": "screen".
			"29:23: MISSING_REQUIRED_PROPERTY",
			// The payload sends "date", the next screen declares
			// "appointment_time".
			"30:26: INVALID_NAVIGATE_ACTION_PAYLOAD",
			"30:36: INVALID_NAVIGATE_ACTION_PAYLOAD",
			// complete uses ${form.appointment_date}, an input of the
			// previous screen.
			"67:25: INVALID_ON_CLICK_ACTION_PAYLOAD",
		}},
		{"expense_entry.json", []string{
			"2:14: warning: FROZEN_FLOW_JSON_VERSION",
			// An empty routing model is right for a flow whose only
			// screen is terminal (protocol.md 6.6).
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "seed", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, ps := ValidateSource(src)
			var got []string
			for _, p := range ps {
				s := p.String()
				got = append(got, s[:strings.Index(s, p.Code)+len(p.Code)])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nall:\n%s", diff, formatGolden(tt.file, ps))
			}
		})
	}
}

// checkGolden compares got with the golden file, or writes it with -update.
// run is the -run filter the message suggests for regenerating it.
func checkGolden(t *testing.T, golden, got, run string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./flowjson%s -update to create it)", err, run)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("problems differ from %s (-want +got):\n%s", golden, diff)
	}
}
