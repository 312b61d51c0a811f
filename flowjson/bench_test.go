package flowjson

import (
	"encoding/json"
	"fmt"
	"testing"
)

// bigFlow builds a valid flow of screens screens with perScreen components
// each (the Footer included): a navigate chain ending at a terminal screen,
// with inputs of every common kind, references and a data model per screen.
func bigFlow(screens, perScreen int) []byte {
	id := func(i int) string {
		s := ""
		for i++; i > 0; i /= 26 {
			s = string(rune('A'+i%26)) + s
		}
		return "SCREEN_" + s
	}
	var list []any
	for i := 0; i < screens; i++ {
		var children []any
		for j := 0; len(children) < perScreen-1; j++ {
			name := fmt.Sprintf("field_%d", j)
			switch j % 8 {
			case 0:
				children = append(children, map[string]any{"type": "TextHeading", "text": "${data.prev}"})
			case 1:
				children = append(children, map[string]any{"type": "TextBody", "text": "Please fill in the form below.", "font-weight": "bold"})
			case 2:
				children = append(children, map[string]any{"type": "TextInput", "name": name, "label": "Name", "required": true,
					"input-type": "text", "min-chars": 2, "max-chars": 40, "helper-text": "Your name"})
			case 3:
				children = append(children, map[string]any{"type": "Dropdown", "name": name, "label": "Choice", "required": true,
					"data-source": []any{map[string]any{"id": "a", "title": "A"}, map[string]any{"id": "b", "title": "B"},
						map[string]any{"id": "c", "title": "C"}, map[string]any{"id": "d", "title": "D"}}})
			case 4:
				children = append(children, map[string]any{"type": "CheckboxGroup", "name": name, "label": "Pick some",
					"min-selected-items": 1, "max-selected-items": 2,
					"data-source": []any{map[string]any{"id": "x", "title": "X"}, map[string]any{"id": "y", "title": "Y"}, map[string]any{"id": "z", "title": "Z"}}})
			case 5:
				children = append(children, map[string]any{"type": "DatePicker", "name": name, "label": "Date",
					"min-date": "2026-01-01", "max-date": "2026-12-31"})
			case 6:
				children = append(children, map[string]any{"type": "TextArea", "name": name, "label": "Notes", "max-length": 500,
					"visible": "${data.show}"})
			case 7:
				children = append(children, map[string]any{"type": "TextCaption", "text": "`'Step ' ${data.step}`"})
			}
		}
		screen := map[string]any{"id": id(i), "title": "Step",
			"data": map[string]any{
				"prev": map[string]any{"type": "string", "__example__": "Ana"},
				"show": map[string]any{"type": "boolean", "__example__": true},
				"step": map[string]any{"type": "number", "__example__": 1},
			}}
		payload := map[string]any{"prev": "${form.field_2}", "show": true, "step": i + 2}
		if i == screens-1 {
			screen["terminal"] = true
			children = append(children, map[string]any{"type": "Footer", "label": "Done",
				"on-click-action": map[string]any{"name": "complete", "payload": payload}})
		} else {
			children = append(children, map[string]any{"type": "Footer", "label": "Next",
				"on-click-action": map[string]any{"name": "navigate", "next": map[string]any{"type": "screen", "name": id(i + 1)}, "payload": payload}})
		}
		screen["layout"] = map[string]any{"type": "SingleColumnLayout", "children": children}
		list = append(list, screen)
	}
	b, _ := json.MarshalIndent(map[string]any{"version": "7.3", "screens": list}, "", "  ")
	return b
}

func TestBenchmarkFlowIsValid(t *testing.T) {
	src := bigFlow(100, 50)
	f, ps := ValidateSource(src)
	if len(ps) != 0 {
		t.Fatalf("the benchmark flow has problems:\n%s", formatGolden("big.json", ps[:min(len(ps), 10)]))
	}
	if n := len(f.Screens[0].Components()); len(f.Screens) != 100 || n != 50 {
		t.Fatalf("%d screens of %d components, want 100 of 50", len(f.Screens), n)
	}
}

// BenchmarkValidate validates a parsed 100-screen, 50-components-per-screen
// flow. Target: under 50 ms and 20 MB allocated per validation.
func BenchmarkValidate(b *testing.B) {
	f, err := Parse(bigFlow(100, 50))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ps := Validate(f); len(ps) != 0 {
			b.Fatal(ps[0])
		}
	}
}

// BenchmarkValidateSource parses and validates the same flow from its
// bytes, as "waflow validate" does.
func BenchmarkValidateSource(b *testing.B) {
	src := bigFlow(100, 50)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ps := ValidateSource(src); len(ps) != 0 {
			b.Fatal(ps[0])
		}
	}
}

// BenchmarkParse parses the same flow without validating it.
func BenchmarkParse(b *testing.B) {
	src := bigFlow(100, 50)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
