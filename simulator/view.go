package simulator

import (
	"strings"

	"github.com/waflow/waflow/flowjson"
)

// View is a screen as the phone shows it at one moment: If and Switch
// resolved, invisible components left out, every dynamic property replaced
// by its value, init values and error messages applied. The terminal
// simulator prints it and the browser preview renders it.
type View struct {
	Screen   string `json:"screen"`
	Title    string `json:"title"`
	Terminal bool   `json:"terminal,omitempty"`
	// ErrorMessage is the snackbar of the last answer (data.error_message).
	ErrorMessage string  `json:"error_message,omitempty"`
	Items        []*Item `json:"items"`
	// CanGoBack reports whether there is a screen to go back to; Back
	// sends BACK to the endpoint when RefreshOnBack is set.
	CanGoBack     bool `json:"can_go_back,omitempty"`
	RefreshOnBack bool `json:"refresh_on_back,omitempty"`
	// Reactive reports a screen whose look depends on what the user
	// enters (If, Switch, ${form.x} in properties, nested expressions):
	// it must be rendered again when an input changes.
	Reactive bool `json:"reactive,omitempty"`
}

// Item is one visible component of a View with its resolved properties.
// Only the properties of its type are set. Action, OnSelect and OnUnselect
// are indexes into the screen's actions ([flowjson.Screen.Actions]) for
// [Session.Fire].
type Item struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`

	Text          string `json:"text,omitempty"`
	FontWeight    string `json:"font_weight,omitempty"`
	Strikethrough bool   `json:"strikethrough,omitempty"`
	Markdown      bool   `json:"markdown,omitempty"`

	Label        string `json:"label,omitempty"`
	LabelVariant string `json:"label_variant,omitempty"`
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
	Helper       string `json:"helper,omitempty"`
	Error        string `json:"error,omitempty"`
	Required     bool   `json:"required,omitempty"`
	Enabled      bool   `json:"enabled"`
	Value        any    `json:"value,omitempty"`

	InputType string `json:"input_type,omitempty"`
	Pattern   string `json:"pattern,omitempty"`
	MinChars  int    `json:"min_chars,omitempty"`
	MaxChars  int    `json:"max_chars,omitempty"`

	Options     []*ItemOption `json:"options,omitempty"`
	MinSelected int           `json:"min_selected,omitempty"`
	MaxSelected int           `json:"max_selected,omitempty"`
	MediaSize   string        `json:"media_size,omitempty"`

	Mode        string   `json:"mode,omitempty"`
	MinDate     string   `json:"min_date,omitempty"`
	MaxDate     string   `json:"max_date,omitempty"`
	Unavailable []string `json:"unavailable_dates,omitempty"`
	IncludeDays []string `json:"include_days,omitempty"`
	MinDays     int      `json:"min_days,omitempty"`
	MaxDays     int      `json:"max_days,omitempty"`
	// StartLabel and EndLabel label a range CalendarPicker.
	StartLabel string `json:"start_label,omitempty"`
	EndLabel   string `json:"end_label,omitempty"`

	// PhotoPicker and DocumentPicker.
	MinUploads    int      `json:"min_uploads,omitempty"`
	MaxUploads    int      `json:"max_uploads,omitempty"`
	MaxFileSizeKB int      `json:"max_file_size_kb,omitempty"`
	PhotoSource   string   `json:"photo_source,omitempty"`
	MimeTypes     []string `json:"mime_types,omitempty"`

	LeftCaption   string `json:"left_caption,omitempty"`
	CenterCaption string `json:"center_caption,omitempty"`
	RightCaption  string `json:"right_caption,omitempty"`

	Src         string       `json:"src,omitempty"`
	Width       int          `json:"width,omitempty"`
	Height      int          `json:"height,omitempty"`
	ScaleType   string       `json:"scale_type,omitempty"`
	AspectRatio string       `json:"aspect_ratio,omitempty"`
	AltText     string       `json:"alt_text,omitempty"`
	Images      []*ItemImage `json:"images,omitempty"`

	ListItems []*ItemNav `json:"list_items,omitempty"`

	Action     *int   `json:"action,omitempty"`
	ActionName string `json:"action_name,omitempty"`
	OnSelect   *int   `json:"on_select,omitempty"`
	OnUnselect *int   `json:"on_unselect,omitempty"`
}

// ItemOption is one option of a selection component.
type ItemOption struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Metadata    string `json:"metadata,omitempty"`
	Enabled     bool   `json:"enabled"`
	Image       string `json:"image,omitempty"`
	AltText     string `json:"alt_text,omitempty"`
	Color       string `json:"color,omitempty"`
	OnSelect    *int   `json:"on_select,omitempty"`
	OnUnselect  *int   `json:"on_unselect,omitempty"`
}

// ItemImage is one image of an ImageCarousel.
type ItemImage struct {
	Src     string `json:"src"`
	AltText string `json:"alt_text,omitempty"`
}

// ItemNav is one item of a NavigationList.
type ItemNav struct {
	ID              string   `json:"id"`
	Title           string   `json:"title,omitempty"`
	Description     string   `json:"description,omitempty"`
	Metadata        string   `json:"metadata,omitempty"`
	EndTitle        string   `json:"end_title,omitempty"`
	EndDescription  string   `json:"end_description,omitempty"`
	EndMetadata     string   `json:"end_metadata,omitempty"`
	Image           string   `json:"image,omitempty"`
	Badge           string   `json:"badge,omitempty"`
	Tags            []string `json:"tags,omitempty"`
	Action          *int     `json:"action,omitempty"`
	ActionName      string   `json:"action_name,omitempty"`
	ActionNextLabel string   `json:"-"`
}

// visible walks the components the phone shows on screen s now: Forms
// flattened, If and Switch branches chosen, "visible": false left out. fn
// gets each shown component and the Form around it (nil when none).
func (sc *scope) visible(s *flowjson.Screen, fn func(c, form *flowjson.Component)) {
	var walk func(list []*flowjson.Component, form *flowjson.Component)
	walk = func(list []*flowjson.Component, form *flowjson.Component) {
		for _, c := range list {
			switch c.Type {
			case "Form":
				walk(c.Children, c)
				continue
			case "If":
				cond := ""
				if c.Condition != nil {
					cond = c.Condition.Str
				}
				if c.Condition != nil && c.Condition.Kind == flowjson.Bool {
					cond = flowjson.TextOf(c.Condition.Bool)
				}
				if sc.condition(cond) {
					walk(c.Then, form)
				} else {
					walk(c.Else, form)
				}
				continue
			case "Switch":
				if c.Cases != nil {
					v := flowjson.TextOf(sc.value(c.Value))
					for _, k := range c.Cases.Cases {
						if k.Value == v {
							walk(k.Children, form)
							break
						}
					}
				}
				continue
			}
			if !sc.boolProp(c.Visible, true) {
				continue
			}
			fn(c, form)
		}
	}
	walk(s.Children(), nil)
}

// reactive reports whether the screen's rendering depends on form values:
// a ${form.x} reference or a nested expression in a property, an If
// condition or a Switch value. Action payloads are left out: they are
// resolved only when they fire.
func reactive(s *flowjson.Screen) bool {
	dyn := false
	var walk func([]*flowjson.Component)
	walk = func(list []*flowjson.Component) {
		for _, c := range list {
			cp := *c
			cp.OnClickAction, cp.OnSelectAction, cp.OnUnselectAction = nil, nil, nil
			cp.Children, cp.Then, cp.Else, cp.Cases, cp.DataSource, cp.ListItems = nil, nil, nil, nil, nil, nil
			b, _ := cp.MarshalJSON()
			if strings.Contains(string(b), "${form.") || strings.Contains(string(b), "`") {
				dyn = true
			}
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
	return dyn
}

// actionIndex maps each action of a screen to its index in s.Actions().
func actionIndex(s *flowjson.Screen) map[*flowjson.Action]int {
	m := map[*flowjson.Action]int{}
	for i, a := range s.Actions() {
		m[a.Action] = i
	}
	return m
}

// view renders screen s with its data and form state.
func (sc *scope) view(s *flowjson.Screen) *View {
	v := &View{Screen: s.ID, Title: flowjson.TextOf(sc.text(s.Title)), Terminal: s.IsTerminal(), Items: []*Item{}, Reactive: reactive(s)}
	idx := actionIndex(s)
	ref := func(a *flowjson.Action) *int {
		if a == nil {
			return nil
		}
		i := idx[a]
		return &i
	}
	form := sc.form(s.ID)
	sc.visible(s, func(c, f *flowjson.Component) {
		it := &Item{Type: c.Type, Name: c.Name, Enabled: sc.boolProp(c.Enabled, true)}
		it.Label = sc.stringProp(c.Label)
		it.Title = sc.stringProp(c.Title)
		it.Description = sc.stringProp(c.Description)
		it.Helper = sc.stringProp(c.HelperText)
		it.Error = sc.errorMessage(c, f)
		it.Required = sc.boolProp(c.Required, false)
		if flowjson.IsInput(c.Type) {
			it.Value = form[c.Name]
		}
		if c.OnClickAction != nil {
			it.Action, it.ActionName = ref(c.OnClickAction), c.OnClickAction.Name
		}
		it.OnSelect, it.OnUnselect = ref(c.OnSelectAction), ref(c.OnUnselectAction)
		switch c.Type {
		case "TextHeading", "TextSubheading", "TextBody", "TextCaption", "RichText":
			it.Text = flowjson.TextOf(sc.value(c.Text))
			it.FontWeight = sc.stringProp(c.FontWeight)
			it.Strikethrough = sc.boolProp(c.Strikethrough, false)
			it.Markdown = sc.boolProp(c.Markdown, false) || c.Type == "RichText"
		case "TextInput":
			it.InputType = sc.stringProp(c.InputType)
			if it.InputType == "" {
				it.InputType = "text"
			}
			it.Pattern = sc.stringProp(c.Pattern)
			it.MinChars, _ = sc.intProp(c.MinChars)
			if it.MaxChars, _ = sc.intProp(c.MaxChars); it.MaxChars == 0 {
				it.MaxChars = 80
			}
			it.LabelVariant = sc.stringProp(c.LabelVariant)
		case "TextArea":
			if it.MaxChars, _ = sc.intProp(c.MaxLength); it.MaxChars == 0 {
				it.MaxChars = 600
			}
			it.LabelVariant = sc.stringProp(c.LabelVariant)
		case "CheckboxGroup", "RadioButtonsGroup", "Dropdown", "ChipsSelector":
			it.Options = sc.options(c, ref)
			it.MinSelected, _ = sc.intProp(c.MinSelectedItems)
			it.MaxSelected, _ = sc.intProp(c.MaxSelectedItems)
			it.MediaSize = sc.stringProp(c.MediaSize)
		case "DatePicker", "CalendarPicker":
			it.Mode = sc.stringProp(c.Mode)
			it.MinDate = sc.stringProp(c.MinDate)
			it.MaxDate = sc.stringProp(c.MaxDate)
			it.Unavailable = stringsOf(sc.value(c.UnavailableDates))
			it.IncludeDays = stringsOf(sc.value(c.IncludeDays))
			it.MinDays, _ = sc.intProp(c.MinDays)
			it.MaxDays, _ = sc.intProp(c.MaxDays)
			if lbl, ok := sc.value(c.Label).(map[string]any); ok {
				it.Label, it.StartLabel, it.EndLabel = "", flowjson.TextOf(lbl["start-date"]), flowjson.TextOf(lbl["end-date"])
			}
			if req, ok := sc.value(c.Required).(map[string]any); ok {
				it.Required = req["start-date"] == true || req["end-date"] == true
			}
			if h, ok := sc.value(c.HelperText).(map[string]any); ok {
				it.Helper = flowjson.TextOf(h["start-date"])
			}
		case "PhotoPicker", "DocumentPicker":
			if c.Type == "PhotoPicker" {
				it.MinUploads, _ = sc.intProp(c.MinUploadedPhotos)
				it.MaxUploads, _ = sc.intProp(c.MaxUploadedPhotos)
				it.PhotoSource = sc.stringProp(c.PhotoSource)
			} else {
				it.MinUploads, _ = sc.intProp(c.MinUploadedDocuments)
				it.MaxUploads, _ = sc.intProp(c.MaxUploadedDocuments)
				it.MimeTypes = stringsOf(sc.value(c.AllowedMimeTypes))
			}
			it.MaxFileSizeKB, _ = sc.intProp(c.MaxFileSizeKB)
			it.Required = it.MinUploads > 0
		case "Footer":
			it.LeftCaption = sc.stringProp(c.LeftCaption)
			it.CenterCaption = sc.stringProp(c.CenterCaption)
			it.RightCaption = sc.stringProp(c.RightCaption)
		case "EmbeddedLink":
			it.Text = flowjson.TextOf(sc.value(c.Text))
		case "OptIn":
			if b, ok := it.Value.(bool); ok {
				it.Value = b
			}
		case "Image":
			it.Src = sc.stringProp(c.Src)
			it.Width, _ = sc.intProp(c.Width)
			it.Height, _ = sc.intProp(c.Height)
			it.ScaleType = sc.stringProp(c.ScaleType)
			it.AspectRatio = sc.stringProp(c.AspectRatio)
			it.AltText = sc.stringProp(c.AltText)
		case "ImageCarousel":
			it.ScaleType = sc.stringProp(c.ScaleType)
			it.AspectRatio = sc.stringProp(c.AspectRatio)
			if c.Images != nil {
				for _, im := range c.Images.Items {
					it.Images = append(it.Images, &ItemImage{Src: im.Src, AltText: im.AltText})
				}
			}
		case "NavigationList":
			it.MediaSize = sc.stringProp(c.MediaSize)
			it.ListItems = sc.navItems(c, ref)
		}
		v.Items = append(v.Items, it)
	})
	return v
}

// errorMessage resolves a component's error message: its own
// error-message, or its entry in the Form's error-messages.
func (sc *scope) errorMessage(c, form *flowjson.Component) string {
	if c.ErrorMessage != nil {
		switch x := sc.value(c.ErrorMessage).(type) {
		case string:
			return x
		case map[string]any: // range CalendarPicker or per-media messages
			for _, k := range []string{"start-date", "end-date"} {
				if s := flowjson.TextOf(x[k]); s != "" {
					return s
				}
			}
		}
	}
	if form != nil && c.Name != "" {
		if m, ok := sc.value(form.ErrorMessages).(map[string]any); ok {
			return flowjson.TextOf(m[c.Name])
		}
	}
	return ""
}

// options resolves a data-source: inline items, or a ${data.x} array.
func (sc *scope) options(c *flowjson.Component, ref func(*flowjson.Action) *int) []*ItemOption {
	out := []*ItemOption{}
	if c.DataSource == nil {
		return out
	}
	if c.DataSource.Ref != "" {
		list, _ := sc.text(c.DataSource.Ref).([]any)
		for _, x := range list {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			o := &ItemOption{ID: flowjson.TextOf(m["id"]), Title: flowjson.TextOf(m["title"]), Description: flowjson.TextOf(m["description"]),
				Metadata: flowjson.TextOf(m["metadata"]), Enabled: m["enabled"] != false, Image: flowjson.TextOf(m["image"]),
				AltText: flowjson.TextOf(m["alt-text"]), Color: flowjson.TextOf(m["color"])}
			out = append(out, o)
		}
		return out
	}
	for _, o := range c.DataSource.Items {
		out = append(out, &ItemOption{ID: o.ID, Title: o.Title, Description: o.Description, Metadata: o.Metadata,
			Enabled: sc.boolProp(o.Enabled, true), Image: o.Image, AltText: o.AltText, Color: o.Color,
			OnSelect: ref(o.OnSelectAction), OnUnselect: ref(o.OnUnselectAction)})
	}
	return out
}

func (sc *scope) navItems(c *flowjson.Component, ref func(*flowjson.Action) *int) []*ItemNav {
	var out []*ItemNav
	if c.ListItems == nil {
		return out
	}
	if c.ListItems.Ref != "" {
		list, _ := sc.text(c.ListItems.Ref).([]any)
		for _, x := range list {
			m, _ := x.(map[string]any)
			if m == nil {
				continue
			}
			n := &ItemNav{ID: flowjson.TextOf(m["id"]), Badge: flowjson.TextOf(m["badge"]), Tags: stringsOf(m["tags"])}
			if mc, ok := m["main-content"].(map[string]any); ok {
				n.Title, n.Description, n.Metadata = flowjson.TextOf(mc["title"]), flowjson.TextOf(mc["description"]), flowjson.TextOf(mc["metadata"])
			}
			if e, ok := m["end"].(map[string]any); ok {
				n.EndTitle, n.EndDescription, n.EndMetadata = flowjson.TextOf(e["title"]), flowjson.TextOf(e["description"]), flowjson.TextOf(e["metadata"])
			}
			if st, ok := m["start"].(map[string]any); ok {
				n.Image = flowjson.TextOf(st["image"])
			}
			out = append(out, n)
		}
		return out
	}
	for _, li := range c.ListItems.Items {
		n := &ItemNav{ID: li.ID, Badge: li.Badge, Tags: li.Tags}
		if li.MainContent != nil {
			n.Title, n.Description, n.Metadata = li.MainContent.Title, li.MainContent.Description, li.MainContent.Metadata
		}
		if li.End != nil {
			n.EndTitle, n.EndDescription, n.EndMetadata = li.End.Title, li.End.Description, li.End.Metadata
		}
		if li.Start != nil {
			n.Image = li.Start.Image
		}
		if li.OnClickAction != nil {
			n.Action, n.ActionName = ref(li.OnClickAction), li.OnClickAction.Name
		}
		out = append(out, n)
	}
	return out
}

func stringsOf(x any) []string {
	list, ok := x.([]any)
	if !ok {
		if ss, ok := x.([]string); ok {
			return ss
		}
		return nil
	}
	out := make([]string, 0, len(list))
	for _, it := range list {
		out = append(out, flowjson.TextOf(it))
	}
	return out
}

// ExampleData returns the __example__ values of a screen's data model: the
// data Meta's Flow Builder previews a screen with, and what the browser
// preview opens a flow without a data endpoint with.
func ExampleData(s *flowjson.Screen) map[string]any {
	out := map[string]any{}
	for _, f := range s.Data {
		if ex := f.Example(); ex != nil {
			out[f.Name] = ex.Interface()
		}
	}
	return out
}
