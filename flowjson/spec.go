package flowjson

import "slices"

// The component catalogue of protocol.md 6.7: which components and
// properties exist since which Flow JSON version, their JSON shapes and
// their limits.

// propKind is the JSON shape a component property accepts. Every kind also
// accepts a dynamic reference ("${data.x}", "${form.x}", global references)
// or, from 6.0, a nested expression in backticks, of a fitting type.
type propKind uint8

const (
	pString    propKind = iota // a string
	pText                      // a string, or from 5.1 an array of strings
	pBool                      // a boolean
	pInt                       // a whole number ≥ 0, or a string of digits
	pNumber                    // a number
	pEnum                      // one string of enum
	pStrings                   // an array of strings (of enum when set)
	pDate                      // a date string (see dateFormat)
	pDates                     // an array of date strings
	pInit                      // init-value: shape depends on the component
	pErrMsg                    // error-message: a string or an object
	pObject                    // an object (init-values, error-messages)
	pStructure                 // children, actions, data-source...: checked by the walker
)

// propSpec describes one property of one component type.
type propSpec struct {
	kind     propKind
	since    Version // zero: every version
	required bool
	// requiredSince makes the property required from that version on.
	requiredSince Version
	maxLen        int // characters of a static string; 0: no limit
	// softLen, when set, is Meta's documented limit where sources disagree
	// (protocol.md 9.5): above it a warning, above maxLen an error.
	softLen  int
	nonEmpty bool
	enum     []string
	// rangeable: in CalendarPicker range mode the property may instead be
	// an object {"start-date": …, "end-date": …} of the same kind.
	rangeable bool
}

// valueKind is the type of the form value an input produces.
type componentSpec struct {
	since Version
	// input components produce a form value under their name; before 4.0
	// they must sit inside a Form (protocol.md 6.4).
	input bool
	// value is the JSON type of the form value (for ${form.x} references).
	value vtype
	props map[string]propSpec
	// required lists the properties that are required in some version,
	// sorted (filled in by init).
	required []string
}

func init() {
	for _, cs := range componentSpecs {
		for key, ps := range cs.props {
			if ps.required || ps.requiredSince != (Version{}) {
				cs.required = append(cs.required, key)
			}
		}
		slices.Sort(cs.required)
	}
}

var (
	fontWeights    = []string{"bold", "italic", "bold_italic", "normal"}
	inputTypes     = []string{"text", "number", "email", "password", "passcode", "phone"}
	mediaSizes     = []string{"regular", "large"}
	scaleTypes     = []string{"cover", "contain"}
	photoSources   = []string{"camera_gallery", "camera", "gallery"}
	calendarModes  = []string{"single", "range"}
	weekDays       = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	carouselRatios = []string{"4:3", "16:9"}
	labelVariants  = []string{"large"}
	// documentMimeTypes are the 24 types DocumentPicker's
	// "allowed-mime-types" accepts (S-MEDIA).
	documentMimeTypes = []string{
		"application/gzip", "application/msword", "application/pdf",
		"application/vnd.ms-excel", "application/vnd.ms-powerpoint",
		"application/vnd.oasis.opendocument.presentation",
		"application/vnd.oasis.opendocument.spreadsheet",
		"application/vnd.oasis.opendocument.text",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/x-7z-compressed", "application/zip",
		"image/avif", "image/gif", "image/heic", "image/heif", "image/jpeg",
		"image/png", "image/tiff", "image/webp", "text/plain", "video/mp4", "video/mpeg",
	}
)

var (
	typeProp      = propSpec{kind: pStructure, required: true}
	nameProp      = propSpec{kind: pStructure, required: true}
	visibleProp   = propSpec{kind: pBool}
	enabledProp   = propSpec{kind: pBool}
	requiredProp  = propSpec{kind: pBool}
	helperProp    = propSpec{kind: pString, maxLen: 80}
	actionProp    = propSpec{kind: pStructure}
	dataSrcProp   = propSpec{kind: pStructure, required: true}
	initProp4     = propSpec{kind: pInit, since: V4_0}
	errMsgProp4   = propSpec{kind: pErrMsg, since: V4_0}
	minSelectProp = propSpec{kind: pInt}
	maxSelectProp = propSpec{kind: pInt}
)

func textProps(maxLen int, arrays bool) map[string]propSpec {
	kind := pString
	if arrays {
		kind = pText
	}
	return map[string]propSpec{
		"type":    typeProp,
		"text":    {kind: kind, required: true, maxLen: maxLen, nonEmpty: true},
		"visible": visibleProp,
	}
}

func withProps(m map[string]propSpec, extra map[string]propSpec) map[string]propSpec {
	out := make(map[string]propSpec, len(m)+len(extra))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

var bodyProps = withProps(textProps(4096, true), map[string]propSpec{
	"font-weight":   {kind: pEnum, enum: fontWeights},
	"strikethrough": {kind: pBool},
	"markdown":      {kind: pBool, since: V5_1},
})

// Meta's TextCaption table says 409 characters, probably a typo for 4096
// (protocol.md 6.7): warn above 409.
var captionProps = withProps(bodyProps, map[string]propSpec{
	"text": {kind: pText, required: true, maxLen: 4096, softLen: 409, nonEmpty: true},
})

var selectionProps = map[string]propSpec{
	"type":               typeProp,
	"name":               nameProp,
	"data-source":        dataSrcProp,
	"label":              {kind: pString, maxLen: 30, requiredSince: V4_0},
	"description":        {kind: pString, since: V4_0, maxLen: 300},
	"required":           requiredProp,
	"enabled":            enabledProp,
	"visible":            visibleProp,
	"init-value":         initProp4,
	"error-message":      errMsgProp4,
	"media-size":         {kind: pEnum, since: V5_0, enum: mediaSizes},
	"on-select-action":   actionProp,
	"on-unselect-action": {kind: pStructure, since: V6_0},
}

var componentSpecs = map[string]*componentSpec{
	"TextHeading":    {props: textProps(80, false)},
	"TextSubheading": {props: textProps(80, false)},
	"TextBody":       {props: bodyProps},
	"TextCaption":    {props: captionProps},
	"RichText":       {since: V5_1, props: textProps(0, true)},
	"TextInput": {input: true, value: tString, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":         {kind: pString, required: true, maxLen: 20},
		"input-type":    {kind: pEnum, enum: inputTypes},
		"pattern":       {kind: pString, since: V6_2},
		"required":      requiredProp,
		"min-chars":     {kind: pInt},
		"max-chars":     {kind: pInt},
		"helper-text":   helperProp,
		"enabled":       enabledProp,
		"visible":       visibleProp,
		"init-value":    initProp4,
		"error-message": {kind: pErrMsg, since: V4_0, maxLen: 30},
		"label-variant": {kind: pEnum, since: V7_0, enum: labelVariants},
	}},
	"TextArea": {input: true, value: tString, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":         {kind: pString, required: true, maxLen: 20},
		"max-length":    {kind: pInt},
		"required":      requiredProp,
		"helper-text":   helperProp,
		"enabled":       enabledProp,
		"visible":       visibleProp,
		"init-value":    initProp4,
		"error-message": errMsgProp4,
		"label-variant": {kind: pEnum, since: V7_0, enum: labelVariants},
	}},
	"CheckboxGroup": {input: true, value: tArray, props: withProps(selectionProps, map[string]propSpec{
		"min-selected-items": minSelectProp,
		"max-selected-items": maxSelectProp,
	})},
	"RadioButtonsGroup": {input: true, value: tString, props: selectionProps},
	"Dropdown": {input: true, value: tString, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":              {kind: pString, required: true, maxLen: 30, softLen: 20},
		"data-source":        dataSrcProp,
		"required":           requiredProp,
		"enabled":            enabledProp,
		"visible":            visibleProp,
		"init-value":         initProp4,
		"error-message":      errMsgProp4,
		"on-select-action":   actionProp,
		"on-unselect-action": {kind: pStructure, since: V6_0},
	}},
	"ChipsSelector": {since: V6_3, input: true, value: tArray, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":              {kind: pString, required: true, maxLen: 80},
		"data-source":        dataSrcProp,
		"description":        {kind: pString, maxLen: 300},
		"min-selected-items": minSelectProp,
		"max-selected-items": maxSelectProp,
		"required":           requiredProp,
		"enabled":            enabledProp,
		"visible":            visibleProp,
		"init-value":         {kind: pInit},
		"error-message":      {kind: pErrMsg},
		"on-select-action":   actionProp,
		"on-unselect-action": {kind: pStructure, since: V7_1},
	}},
	"OptIn": {input: true, value: tBool, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":              {kind: pString, required: true, maxLen: 120},
		"required":           requiredProp,
		"visible":            visibleProp,
		"init-value":         initProp4,
		"on-click-action":    actionProp,
		"on-select-action":   {kind: pStructure, since: V6_0},
		"on-unselect-action": {kind: pStructure, since: V6_0},
	}},
	"DatePicker": {input: true, value: tString, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":             {kind: pString, required: true, maxLen: 40},
		"min-date":          {kind: pDate},
		"max-date":          {kind: pDate},
		"unavailable-dates": {kind: pDates},
		"helper-text":       helperProp,
		"enabled":           enabledProp,
		"visible":           visibleProp,
		"required":          requiredProp,
		"init-value":        initProp4,
		"error-message":     {kind: pErrMsg, since: V4_0, maxLen: 80},
		"on-select-action":  actionProp,
	}},
	"CalendarPicker": {since: V6_1, input: true, value: tString | tObject, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":             {kind: pString, required: true, maxLen: 40, rangeable: true},
		"mode":              {kind: pEnum, enum: calendarModes},
		"title":             {kind: pString, maxLen: 80},
		"description":       {kind: pString, maxLen: 300},
		"min-date":          {kind: pDate},
		"max-date":          {kind: pDate},
		"unavailable-dates": {kind: pDates},
		"include-days":      {kind: pStrings, enum: weekDays},
		"min-days":          {kind: pInt},
		"max-days":          {kind: pInt},
		"helper-text":       {kind: pString, maxLen: 80, rangeable: true},
		"required":          {kind: pBool, rangeable: true},
		"enabled":           enabledProp,
		"visible":           visibleProp,
		"init-value":        {kind: pInit},
		"error-message":     {kind: pErrMsg, maxLen: 80, rangeable: true},
		"on-select-action":  actionProp,
	}},
	"PhotoPicker": {since: V4_0, input: true, value: tArray, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":               {kind: pString, required: true, maxLen: 80},
		"description":         {kind: pString, maxLen: 300},
		"photo-source":        {kind: pEnum, enum: photoSources},
		"max-file-size-kb":    {kind: pInt},
		"min-uploaded-photos": {kind: pInt},
		"max-uploaded-photos": {kind: pInt},
		"enabled":             enabledProp,
		"visible":             visibleProp,
		"error-message":       {kind: pErrMsg},
	}},
	"DocumentPicker": {since: V4_0, input: true, value: tArray, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"label":                  {kind: pString, required: true, maxLen: 80},
		"description":            {kind: pString, maxLen: 300},
		"max-file-size-kb":       {kind: pInt},
		"min-uploaded-documents": {kind: pInt},
		"max-uploaded-documents": {kind: pInt},
		"allowed-mime-types":     {kind: pStrings, enum: documentMimeTypes},
		"enabled":                enabledProp,
		"visible":                visibleProp,
		"error-message":          {kind: pErrMsg},
	}},
	"Footer": {props: map[string]propSpec{
		"type":            typeProp,
		"label":           {kind: pString, required: true, maxLen: 35, nonEmpty: true},
		"on-click-action": {kind: pStructure, required: true},
		"left-caption":    {kind: pString, maxLen: 15},
		"center-caption":  {kind: pString, maxLen: 15},
		"right-caption":   {kind: pString, maxLen: 15},
		"enabled":         enabledProp,
	}},
	"EmbeddedLink": {props: map[string]propSpec{
		"type":            typeProp,
		"text":            {kind: pString, required: true, maxLen: 35, softLen: 25, nonEmpty: true},
		"on-click-action": {kind: pStructure, required: true},
		"visible":         visibleProp,
	}},
	"Image": {props: map[string]propSpec{
		"type":         typeProp,
		"src":          {kind: pString, required: true},
		"width":        {kind: pInt},
		"height":       {kind: pInt},
		"scale-type":   {kind: pEnum, enum: scaleTypes},
		"aspect-ratio": {kind: pNumber},
		"alt-text":     {kind: pString},
		"visible":      visibleProp,
	}},
	"ImageCarousel": {since: V7_1, props: map[string]propSpec{
		"type":         typeProp,
		"images":       {kind: pStructure, required: true},
		"aspect-ratio": {kind: pEnum, enum: carouselRatios},
		"scale-type":   {kind: pEnum, enum: scaleTypes},
		"visible":      visibleProp,
	}},
	"NavigationList": {since: V6_2, props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"list-items":      {kind: pStructure, required: true},
		"label":           {kind: pString, maxLen: 80},
		"description":     {kind: pString, maxLen: 300},
		"media-size":      {kind: pEnum, enum: mediaSizes},
		"on-click-action": actionProp,
	}},
	"If": {since: V4_0, props: map[string]propSpec{
		"type":      typeProp,
		"condition": {kind: pStructure, required: true},
		"then":      {kind: pStructure, required: true},
		"else":      {kind: pStructure},
	}},
	"Switch": {since: V4_0, props: map[string]propSpec{
		"type":  typeProp,
		"value": {kind: pStructure, required: true},
		"cases": {kind: pStructure, required: true},
	}},
	"Form": {props: map[string]propSpec{
		"type": typeProp, "name": nameProp,
		"children":       {kind: pStructure, required: true},
		"init-values":    {kind: pObject},
		"error-messages": {kind: pObject},
	}},
}

// componentTypes is the list of component types, sorted, for messages.
var componentTypes = func() []string {
	var out []string
	for t := range componentSpecs {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}()

// allowedInIf lists the components an If branch may hold (protocol.md 6.7);
// ChipsSelector joins in 7.1. Switch cases allow the same minus If/Switch.
var allowedInIf = map[string]bool{
	"TextHeading": true, "TextSubheading": true, "TextBody": true, "TextCaption": true,
	"CheckboxGroup": true, "DatePicker": true, "Dropdown": true, "EmbeddedLink": true,
	"Footer": true, "Image": true, "OptIn": true, "RadioButtonsGroup": true,
	"Switch": true, "TextArea": true, "TextInput": true, "If": true,
}

// actionsAllowed says which actions each event of each component may fire,
// and since which version (protocol.md 6.5). A zero version means always.
var actionsAllowed = map[string]map[string]map[string]Version{
	"Footer":       {"on-click-action": {ActionNavigate: {}, ActionDataExchange: {}, ActionComplete: {}}},
	"EmbeddedLink": {"on-click-action": {ActionNavigate: {}, ActionDataExchange: {}, ActionOpenURL: V6_0}},
	"OptIn": {
		"on-click-action":    {ActionNavigate: {}, ActionDataExchange: {}, ActionOpenURL: V6_0},
		"on-select-action":   {ActionUpdateData: V6_0},
		"on-unselect-action": {ActionUpdateData: V6_0},
	},
	"CheckboxGroup":     selectionActions,
	"RadioButtonsGroup": selectionActions,
	"Dropdown":          selectionActions,
	"ChipsSelector": {
		"on-select-action":   {ActionDataExchange: {}, ActionUpdateData: V7_1},
		"on-unselect-action": {ActionUpdateData: V7_1},
	},
	"DatePicker":     {"on-select-action": {ActionDataExchange: {}}},
	"CalendarPicker": {"on-select-action": {ActionDataExchange: {}}},
	"NavigationList": {"on-click-action": {ActionNavigate: {}, ActionDataExchange: {}}},
	// Pseudo-types for items.
	"data-source item":     {"on-select-action": {ActionUpdateData: V6_0}, "on-unselect-action": {ActionUpdateData: V6_0}},
	"NavigationList item":  {"on-click-action": {ActionNavigate: {}, ActionDataExchange: {}}},
	"ChipsSelector option": {"on-select-action": {ActionUpdateData: V7_1}, "on-unselect-action": {ActionUpdateData: V7_1}},
}

var selectionActions = map[string]map[string]Version{
	"on-select-action":   {ActionDataExchange: {}, ActionUpdateData: V6_0},
	"on-unselect-action": {ActionUpdateData: V6_0},
}

var actionNames = []string{ActionNavigate, ActionComplete, ActionDataExchange, ActionUpdateData, ActionOpenURL}

// Limits from protocol.md 6.2, 6.3 and 6.7.
const (
	maxScreens             = 100
	maxComponentsPerScreen = 50
	maxFlowJSONBytes       = 10 << 20
	maxIfDepth             = 3
)

// IsInput reports whether components of type t produce a form value.
func IsInput(t string) bool {
	cs := componentSpecs[t]
	return cs != nil && cs.input
}

// componentValueProps lists the *Value properties of Component with their
// JSON names; TestComponentValuePropsComplete keeps it in step with the
// struct. A table of accessors is much cheaper than reflection on the
// validation hot path.
var componentValueProps = [...]struct {
	key string
	get func(*Component) *Value
}{
	{"text", func(c *Component) *Value { return c.Text }},
	{"label", func(c *Component) *Value { return c.Label }},
	{"title", func(c *Component) *Value { return c.Title }},
	{"description", func(c *Component) *Value { return c.Description }},
	{"helper-text", func(c *Component) *Value { return c.HelperText }},
	{"font-weight", func(c *Component) *Value { return c.FontWeight }},
	{"strikethrough", func(c *Component) *Value { return c.Strikethrough }},
	{"markdown", func(c *Component) *Value { return c.Markdown }},
	{"label-variant", func(c *Component) *Value { return c.LabelVariant }},
	{"visible", func(c *Component) *Value { return c.Visible }},
	{"enabled", func(c *Component) *Value { return c.Enabled }},
	{"required", func(c *Component) *Value { return c.Required }},
	{"init-value", func(c *Component) *Value { return c.InitValue }},
	{"error-message", func(c *Component) *Value { return c.ErrorMessage }},
	{"input-type", func(c *Component) *Value { return c.InputType }},
	{"pattern", func(c *Component) *Value { return c.Pattern }},
	{"min-chars", func(c *Component) *Value { return c.MinChars }},
	{"max-chars", func(c *Component) *Value { return c.MaxChars }},
	{"max-length", func(c *Component) *Value { return c.MaxLength }},
	{"min-selected-items", func(c *Component) *Value { return c.MinSelectedItems }},
	{"max-selected-items", func(c *Component) *Value { return c.MaxSelectedItems }},
	{"media-size", func(c *Component) *Value { return c.MediaSize }},
	{"mode", func(c *Component) *Value { return c.Mode }},
	{"min-date", func(c *Component) *Value { return c.MinDate }},
	{"max-date", func(c *Component) *Value { return c.MaxDate }},
	{"unavailable-dates", func(c *Component) *Value { return c.UnavailableDates }},
	{"include-days", func(c *Component) *Value { return c.IncludeDays }},
	{"min-days", func(c *Component) *Value { return c.MinDays }},
	{"max-days", func(c *Component) *Value { return c.MaxDays }},
	{"photo-source", func(c *Component) *Value { return c.PhotoSource }},
	{"max-file-size-kb", func(c *Component) *Value { return c.MaxFileSizeKB }},
	{"min-uploaded-photos", func(c *Component) *Value { return c.MinUploadedPhotos }},
	{"max-uploaded-photos", func(c *Component) *Value { return c.MaxUploadedPhotos }},
	{"min-uploaded-documents", func(c *Component) *Value { return c.MinUploadedDocuments }},
	{"max-uploaded-documents", func(c *Component) *Value { return c.MaxUploadedDocuments }},
	{"allowed-mime-types", func(c *Component) *Value { return c.AllowedMimeTypes }},
	{"left-caption", func(c *Component) *Value { return c.LeftCaption }},
	{"center-caption", func(c *Component) *Value { return c.CenterCaption }},
	{"right-caption", func(c *Component) *Value { return c.RightCaption }},
	{"src", func(c *Component) *Value { return c.Src }},
	{"width", func(c *Component) *Value { return c.Width }},
	{"height", func(c *Component) *Value { return c.Height }},
	{"scale-type", func(c *Component) *Value { return c.ScaleType }},
	{"aspect-ratio", func(c *Component) *Value { return c.AspectRatio }},
	{"alt-text", func(c *Component) *Value { return c.AltText }},
	{"condition", func(c *Component) *Value { return c.Condition }},
	{"value", func(c *Component) *Value { return c.Value }},
	{"init-values", func(c *Component) *Value { return c.InitValues }},
	{"error-messages", func(c *Component) *Value { return c.ErrorMessages }},
}
