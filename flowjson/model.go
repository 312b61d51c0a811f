package flowjson

// The typed model of Flow JSON 2.1 to 7.3 (protocol.md section 6). Struct
// tags give the wire names: snake_case at the top level and on screens,
// kebab-case on components (protocol.md 6.2).
//
// Properties with one fixed JSON type are Go types (string, *bool, []string,
// structs). Properties that may be either a literal or a dynamic reference,
// or whose type depends on the component ("init-value", "label" of a range
// CalendarPicker, "text" as string or array), are *Value: the JSON as written,
// with its position. A property whose JSON type does not fit its Go field,
// and every unknown property, is kept in the struct's Extra, so marshalling a
// parsed flow gives every property back; the validator reports both.

// Flow is a whole Flow JSON document.
type Flow struct {
	node
	Version        string        `json:"version"`
	DataAPIVersion string        `json:"data_api_version"`
	RoutingModel   *RoutingModel `json:"routing_model"`
	DataChannelURI string        `json:"data_channel_uri"`
	Screens        []*Screen     `json:"screens"`
	// Extra holds unknown properties and known ones of the wrong JSON type,
	// in source order.
	Extra []*Member
}

// RoutingModel is the "routing_model" map of screen id to the ids of the
// screens it may route to (protocol.md 6.6), in source order.
type RoutingModel struct {
	node
	Routes []*Route
}

// Route is one entry of a routing model.
type Route struct {
	From string
	To   []string
	// Raw holds the value when it is not an array of strings.
	Raw *Value
}

// Screen is one screen of a flow (protocol.md 6.3).
type Screen struct {
	node
	ID            string  `json:"id"`
	Title         string  `json:"title"`
	Terminal      *bool   `json:"terminal"`
	Success       *bool   `json:"success"`
	Data          Fields  `json:"data"`
	Layout        *Layout `json:"layout"`
	RefreshOnBack *bool   `json:"refresh_on_back"`
	// Sensitive lists the fields masked in the completion summary (5.1+).
	Sensitive []string `json:"sensitive"`
	Extra     []*Member
}

// IsTerminal reports whether the screen is an end state of the flow.
func (s *Screen) IsTerminal() bool { return s != nil && s.Terminal != nil && *s.Terminal }

// Fields is an ordered JSON object of field name to schema: a screen's
// "data" model or the "properties" of an object schema. A nil Fields is an
// absent property; an empty non-nil one is "{}".
type Fields []*DataField

// DataField is one declared field of a data model.
type DataField struct {
	Name   string
	Schema *Schema
	// Raw holds the value when it is not an object.
	Raw *Value
}

// Field returns the field called name, or nil.
func (fs Fields) Field(name string) *DataField {
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Schema is the JSON-Schema-like declaration of one data field: its "type",
// "items" for arrays, "properties" for objects, and at the top level of a
// screen's data model the mandatory "__example__".
type Schema struct {
	node
	Type        string   `json:"type"`
	Description string   `json:"description"`
	Items       *Schema  `json:"items"`
	Properties  Fields   `json:"properties"`
	Required    []string `json:"required"`
	Enum        *Value   `json:"enum"`
	Format      string   `json:"format"`
	Example     *Value   `json:"__example__"`
	Extra       []*Member
}

// Layout is a screen's layout; "SingleColumnLayout" is the only type.
type Layout struct {
	node
	Type     string       `json:"type"`
	Children []*Component `json:"children"`
	Extra    []*Member
}

// Component is one element of a layout. Every component type of protocol.md
// 6.7 shares this struct; which properties a type allows, and since which
// version, is checked by [Validate].
type Component struct {
	node
	Type string `json:"type"`
	Name string `json:"name"`

	// Text and labels.
	Text          *Value `json:"text"`
	Label         *Value `json:"label"`
	Title         *Value `json:"title"`
	Description   *Value `json:"description"`
	HelperText    *Value `json:"helper-text"`
	FontWeight    *Value `json:"font-weight"`
	Strikethrough *Value `json:"strikethrough"`
	Markdown      *Value `json:"markdown"`
	LabelVariant  *Value `json:"label-variant"`

	// State common to inputs.
	Visible      *Value `json:"visible"`
	Enabled      *Value `json:"enabled"`
	Required     *Value `json:"required"`
	InitValue    *Value `json:"init-value"`
	ErrorMessage *Value `json:"error-message"`

	// TextInput and TextArea.
	InputType *Value `json:"input-type"`
	Pattern   *Value `json:"pattern"`
	MinChars  *Value `json:"min-chars"`
	MaxChars  *Value `json:"max-chars"`
	MaxLength *Value `json:"max-length"`

	// Selection components.
	DataSource       *List[Option] `json:"data-source"`
	MinSelectedItems *Value        `json:"min-selected-items"`
	MaxSelectedItems *Value        `json:"max-selected-items"`
	MediaSize        *Value        `json:"media-size"`

	// DatePicker and CalendarPicker.
	Mode             *Value `json:"mode"`
	MinDate          *Value `json:"min-date"`
	MaxDate          *Value `json:"max-date"`
	UnavailableDates *Value `json:"unavailable-dates"`
	IncludeDays      *Value `json:"include-days"`
	MinDays          *Value `json:"min-days"`
	MaxDays          *Value `json:"max-days"`

	// PhotoPicker and DocumentPicker.
	PhotoSource          *Value `json:"photo-source"`
	MaxFileSizeKB        *Value `json:"max-file-size-kb"`
	MinUploadedPhotos    *Value `json:"min-uploaded-photos"`
	MaxUploadedPhotos    *Value `json:"max-uploaded-photos"`
	MinUploadedDocuments *Value `json:"min-uploaded-documents"`
	MaxUploadedDocuments *Value `json:"max-uploaded-documents"`
	AllowedMimeTypes     *Value `json:"allowed-mime-types"`

	// Footer.
	LeftCaption   *Value `json:"left-caption"`
	CenterCaption *Value `json:"center-caption"`
	RightCaption  *Value `json:"right-caption"`

	// Image and ImageCarousel.
	Src         *Value               `json:"src"`
	Width       *Value               `json:"width"`
	Height      *Value               `json:"height"`
	ScaleType   *Value               `json:"scale-type"`
	AspectRatio *Value               `json:"aspect-ratio"`
	AltText     *Value               `json:"alt-text"`
	Images      *List[CarouselImage] `json:"images"`

	// NavigationList.
	ListItems *List[NavItem] `json:"list-items"`

	// Actions.
	OnClickAction    *Action `json:"on-click-action"`
	OnSelectAction   *Action `json:"on-select-action"`
	OnUnselectAction *Action `json:"on-unselect-action"`

	// If, Switch and Form.
	Condition     *Value       `json:"condition"`
	Then          []*Component `json:"then"`
	Else          []*Component `json:"else"`
	Value         *Value       `json:"value"`
	Cases         *Cases       `json:"cases"`
	Children      []*Component `json:"children"`
	InitValues    *Value       `json:"init-values"`
	ErrorMessages *Value       `json:"error-messages"`

	Extra []*Member
}

// List is a property that is either an inline array of items or a dynamic
// reference such as "${data.options}" to an array in the screen's data.
type List[T any] struct {
	Ref   string // the reference, when the property is a string
	Items []*T   // the items, when the property is an array
}

// Option is one item of a "data-source" (CheckboxGroup, RadioButtonsGroup,
// Dropdown, ChipsSelector).
type Option struct {
	node
	ID               string  `json:"id"`
	Title            string  `json:"title"`
	Description      string  `json:"description"`
	Metadata         string  `json:"metadata"`
	Enabled          *Value  `json:"enabled"`
	Image            string  `json:"image"`
	AltText          string  `json:"alt-text"`
	Color            string  `json:"color"`
	OnSelectAction   *Action `json:"on-select-action"`
	OnUnselectAction *Action `json:"on-unselect-action"`
	Extra            []*Member
}

// CarouselImage is one image of an ImageCarousel.
type CarouselImage struct {
	node
	Src     string `json:"src"`
	AltText string `json:"alt-text"`
	Extra   []*Member
}

// NavItem is one item of a NavigationList.
type NavItem struct {
	node
	ID            string      `json:"id"`
	MainContent   *NavContent `json:"main-content"`
	Start         *NavStart   `json:"start"`
	End           *NavContent `json:"end"`
	Badge         string      `json:"badge"`
	Tags          []string    `json:"tags"`
	OnClickAction *Action     `json:"on-click-action"`
	Extra         []*Member
}

// NavContent is the "main-content" or "end" block of a NavigationList item.
type NavContent struct {
	node
	Title       string `json:"title"`
	Description string `json:"description"`
	Metadata    string `json:"metadata"`
	Extra       []*Member
}

// NavStart is the "start" block of a NavigationList item.
type NavStart struct {
	node
	Image   string `json:"image"`
	AltText string `json:"alt-text"`
	Extra   []*Member
}

// Cases is the "cases" object of a Switch: value → components, in order.
type Cases struct {
	node
	Cases []*Case
}

// Case is one case of a Switch.
type Case struct {
	Value    string
	Children []*Component
	// Raw holds the value when it is not an array of components.
	Raw *Value
}

// Action is an "on-click-action", "on-select-action" or
// "on-unselect-action" (protocol.md 6.5).
type Action struct {
	node
	Name    string `json:"name"`
	Next    *Next  `json:"next"`
	Payload *Value `json:"payload"`
	URL     string `json:"url"`
	Extra   []*Member
}

// Next is the target of a navigate action.
type Next struct {
	node
	Type  string `json:"type"`
	Name  string `json:"name"`
	Extra []*Member
}

// The action names.
const (
	ActionNavigate     = "navigate"
	ActionComplete     = "complete"
	ActionDataExchange = "data_exchange"
	ActionUpdateData   = "update_data"
	ActionOpenURL      = "open_url"
)

// node records the JSON object a model struct was parsed from, so problems
// can name a line and column; it is nil for structs built in Go.
type node struct{ src *Value }

func (n *node) setSource(v *Value) { n.src = v }

// Source returns the JSON object the struct was parsed from, or nil when it
// was built in Go. Its members give the position of every property.
func (n *node) Source() *Value { return n.src }

// posOf returns the position of property key's value, or of the object
// itself when the property is absent.
func (n *node) posOf(key string) Pos {
	if n == nil || n.src == nil {
		return Pos{}
	}
	if v := n.src.Get(key); v != nil {
		return v.Pos
	}
	return n.src.Pos
}

// has reports whether the source object had property key.
func (n *node) has(key string) bool { return n != nil && n.src.Get(key) != nil }

func (n *node) pos() Pos {
	if n == nil || n.src == nil {
		return Pos{}
	}
	return n.src.Pos
}
