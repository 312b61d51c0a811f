package flowjson

import (
	"encoding/base64"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Checks specific to one component type (protocol.md 6.7).
func (v *validator) checkSpecific(c *Component, ptr string, ctx walkCtx) {
	si := ctx.si
	switch c.Type {
	case "TextInput":
		v.minMax(c.MinChars, c.MaxChars, "min-chars", "max-chars", ptr)
		if c.Pattern != nil {
			pp := ptrKey(ptr, "pattern")
			if c.HelperText == nil {
				// Meta reports the missing helper-text (protocol.md 6.7).
				v.errf(CodeMissingRequiredProperty, pp, c.Pattern.Pos, "Required property 'helper-text' is missing: 'pattern' needs a helper-text telling users the expected format")
			}
			if it, ok := c.InputType.AsString(); ok && (it == "email" || it == "phone") {
				v.errf(CodeInvalidDependencies, pp, c.Pattern.Pos, "'pattern' works with input-type text, number, password or passcode, not %s", it)
			}
			if p, ok := c.Pattern.AsString(); ok && classify(p) == dynLiteral {
				if _, err := compilePattern(p); err != nil {
					v.warnf(CodeUncheckablePattern, pp, c.Pattern.Pos, "pattern %q is not RE2 syntax (%v): the phone may accept it, but waflow cannot check submitted values against it", p, unwrapRegexpErr(err))
				}
			}
		}
	case "CheckboxGroup", "ChipsSelector":
		v.minMax(c.MinSelectedItems, c.MaxSelectedItems, "min-selected-items", "max-selected-items", ptr)
		v.checkOptions(si, c, ptr)
	case "RadioButtonsGroup", "Dropdown":
		v.checkOptions(si, c, ptr)
	case "DatePicker", "CalendarPicker":
		v.checkDateRange(c, ptr)
		if c.Type == "CalendarPicker" {
			v.checkCalendar(c, ptr)
		}
	case "PhotoPicker", "DocumentPicker":
		minKey, maxKey, minV, maxV := "min-uploaded-photos", "max-uploaded-photos", c.MinUploadedPhotos, c.MaxUploadedPhotos
		if c.Type == "DocumentPicker" {
			minKey, maxKey, minV, maxV = "min-uploaded-documents", "max-uploaded-documents", c.MinUploadedDocuments, c.MaxUploadedDocuments
		}
		v.bounds(c.MaxFileSizeKB, "max-file-size-kb", 1, 25600, ptr)
		v.bounds(minV, minKey, 0, 30, ptr)
		v.bounds(maxV, maxKey, 1, 30, ptr)
		v.minMax(minV, maxV, minKey, maxKey, ptr)
	case "Footer":
		if v.ver.Less(V4_0) && !ctx.inForm && c.OnClickAction != nil {
			// Before 4.0 only a Footer inside the Form sees its values
			// (protocol.md 6.4).
			pp := ptrKey(ptrKey(ptr, "on-click-action"), "payload")
			if ref, rp, rpos, ok := findFormRef(c.OnClickAction.Payload, pp); ok {
				v.errf(CodeInvalidOnClickActionPayload, rp, rpos, "a Footer outside the Form cannot reference form data before Flow JSON 4.0, but its payload uses %s: move the Footer into the Form", ref)
			}
		}
		lp := ptrKey(ptr, "left-caption")
		switch {
		case c.CenterCaption != nil && (c.LeftCaption != nil || c.RightCaption != nil):
			v.errf(CodeNotKeywordSchemaValidation, ptrKey(ptr, "center-caption"), c.posOf("center-caption"), "a Footer has either 'center-caption' or 'left-caption' with 'right-caption', not both")
		case c.LeftCaption != nil && c.RightCaption == nil:
			v.errf(CodeInvalidDependencies, lp, c.posOf("left-caption"), "'left-caption' needs 'right-caption' (or use 'center-caption')")
		case c.RightCaption != nil && c.LeftCaption == nil:
			v.errf(CodeInvalidDependencies, ptrKey(ptr, "right-caption"), c.posOf("right-caption"), "'right-caption' needs 'left-caption' (or use 'center-caption')")
		}
	case "Image":
		if s, ok := c.Src.AsString(); ok && classify(s) == dynLiteral {
			v.checkBase64Image(s, "src", 0, ptrKey(ptr, "src"), c.Src.Pos)
		}
	case "ImageCarousel":
		v.checkCarousel(si, c, ptr)
	case "NavigationList":
		v.checkNavigationList(si, c, ptr)
	case "If":
		v.checkIf(si, c, ptr, ctx)
	case "Switch":
		v.checkSwitch(si, c, ptr)
	case "Form":
		v.checkForm(si, c, ptr)
	}
}

// findFormRef finds the first ${form.x} reference in val (at ptr) and
// returns it with its pointer and position.
func findFormRef(val *Value, ptr string) (string, string, Pos, bool) {
	if val == nil {
		return "", "", Pos{}, false
	}
	switch val.Kind {
	case String:
		if classify(val.Str) == dynRef {
			if r, ok := ParseRef(val.Str); ok && r.Kind == RefForm {
				return val.Str, ptr, val.Pos, true
			}
		}
	case Object:
		for _, m := range val.Members {
			if ref, p, pos, ok := findFormRef(m.Value, ptrKey(ptr, m.Key)); ok {
				return ref, p, pos, true
			}
		}
	case Array:
		for i, it := range val.Items {
			if ref, p, pos, ok := findFormRef(it, ptrIndex(ptr, i)); ok {
				return ref, p, pos, true
			}
		}
	}
	return "", "", Pos{}, false
}

func unwrapRegexpErr(err error) string {
	if e, ok := err.(*syntax.Error); ok {
		return string(e.Code)
	}
	return err.Error()
}

// compilePattern compiles a TextInput pattern the way the phone applies
// it: to the whole value.
func compilePattern(p string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + p + `)$`)
}

// intOf returns the literal whole number of a numeric property (a number
// or a string of digits).
func intOf(val *Value) (int, bool) {
	if val == nil {
		return 0, false
	}
	if n, ok := val.AsInt(); ok {
		return n, true
	}
	if s, ok := val.AsString(); ok {
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	return 0, false
}

func (v *validator) minMax(minV, maxV *Value, minKey, maxKey, ptr string) {
	lo, ok1 := intOf(minV)
	hi, ok2 := intOf(maxV)
	if ok1 && ok2 && lo > hi {
		v.errf(CodeMinValueGreaterThanMax, ptrKey(ptr, minKey), minV.Pos, "\"%s\" (%d) cannot be greater than \"%s\" (%d)", minKey, lo, maxKey, hi)
	}
}

func (v *validator) bounds(val *Value, key string, lo, hi int, ptr string) {
	n, ok := intOf(val)
	if !ok {
		return
	}
	switch {
	case n < lo:
		v.errf(CodeMinimumValueRequired, ptrKey(ptr, key), val.Pos, "'%s' must be at least %d, found %d", key, lo, n)
	case n > hi:
		v.errf(CodeMaximumValueRequired, ptrKey(ptr, key), val.Pos, "'%s' must be at most %d, found %d", key, hi, n)
	}
}

var hexColor = regexp.MustCompile(`^#?[0-9A-Fa-f]{6}$`)

// checkOptions checks a data-source: its size, each option, unique ids.
func (v *validator) checkOptions(si *screenInfo, c *Component, ptr string) {
	ds := c.DataSource
	if ds == nil {
		return
	}
	dp := ptrKey(ptr, "data-source")
	dpos := c.posOf("data-source")
	if ds.Items == nil {
		if classify(ds.Ref) != dynRef {
			v.errf(CodeInvalidPropertyType, dp, dpos, "expected property 'data-source' to be an array of options or a ${data.x} reference, found the string %q", ds.Ref)
			return
		}
		if !v.checkString(si, ds.Ref, tArray, dp, dpos, propCtx) {
			v.checkOptionSchema(si, c, ds.Ref, dp, dpos)
		}
		return
	}
	lo, hi := 1, 20
	switch c.Type {
	case "ChipsSelector":
		lo = 2
	case "Dropdown":
		hi = 200
		for _, o := range ds.Items {
			if o.Image != "" {
				hi = 100
				break
			}
		}
	}
	switch n := len(ds.Items); {
	case n < lo:
		v.errf(CodeMinItemsRequired, dp, dpos, "%s needs at least %d %s in its data-source, found %d", c.Type, lo, plural(lo, "option"), n)
	case n > hi:
		v.errf(CodeMaxItemsExceeded, dp, dpos, "%s may have at most %d options%s, found %d", c.Type, hi, map[bool]string{true: " when an option has an image"}[hi == 100], n)
	}
	owner, allowed := "data-source item", optionKeys
	if c.Type == "ChipsSelector" {
		owner, allowed = "ChipsSelector option", chipsOptionKeys
	}
	ids := map[string]int{}
	withImage, withColor := -1, -1
	for i, o := range ds.Items {
		op := ptrIndex(dp, i)
		if withImage < 0 && (o.Image != "" || o.has("image")) {
			withImage = i
		}
		if withColor < 0 && (o.Color != "" || o.has("color")) {
			withColor = i
		}
		v.checkItemKeys(o.src, &o.Extra, op, "option", allowed)
		switch {
		case o.ID == "" && !o.has("id"):
			v.errf(CodeMissingRequiredProperty, op, o.pos(), "option %d of %s has no \"id\"", i, c.Type)
		case o.ID != "":
			if prev, dup := ids[o.ID]; dup {
				v.errf(CodeDuplicateOptionID, ptrKey(op, "id"), o.posOf("id"), "option id %q is already used by option %d; ids must be unique in a data-source", o.ID, prev)
			}
			ids[o.ID] = i
		}
		if o.Title == "" && !o.has("title") {
			v.errf(CodeMissingRequiredProperty, op, o.pos(), "option %d of %s has no \"title\"", i, c.Type)
		}
		v.itemText(si, o.Title, "title", 30, op, o.posOf("title"))
		v.itemText(si, o.Description, "description", 300, op, o.posOf("description"))
		v.itemText(si, o.Metadata, "metadata", 20, op, o.posOf("metadata"))
		v.itemText(si, o.AltText, "alt-text", 0, op, o.posOf("alt-text"))
		if o.Enabled != nil {
			v.checkProp(si, c, "enabled", propSpec{kind: pBool}, o.Enabled, lazyPtr{op, "enabled"})
		}
		if o.Color != "" && classify(o.Color) == dynLiteral && !hexColor.MatchString(o.Color) {
			v.errf(CodeInvalidPropertyValueFormat, ptrKey(op, "color"), o.posOf("color"), "color %q must be a 6-digit hex color such as \"#1A2B3C\"", o.Color)
		}
		if o.Image != "" && classify(o.Image) == dynLiteral {
			limit := 300
			if v.ver.AtLeast(V6_0) {
				limit = 100
			}
			v.checkBase64Image(o.Image, "image", limit, ptrKey(op, "image"), o.posOf("image"))
		}
		if o.OnSelectAction != nil {
			v.checkAction(si, o.OnSelectAction, ptrKey(op, "on-select-action"), owner, "on-select-action", c)
		}
		if o.OnUnselectAction != nil {
			v.checkAction(si, o.OnUnselectAction, ptrKey(op, "on-unselect-action"), owner, "on-unselect-action", c)
		}
	}
	// The items of one data-source show either images or colors, not both
	// (protocol.md 6.7).
	if withImage >= 0 && withColor >= 0 && c.Type != "ChipsSelector" {
		v.errf(CodeDataSourceImageAndColor, dp, dpos, "the data-source of %s %q mixes 'image' (option %d) and 'color' (option %d): its options may have images or colors, not both", c.Type, c.Name, withImage, withColor)
	}
}

// checkOptionSchema checks the data model field a data-source reference
// names: an array whose items declare the options' required "id" and
// "title" as properties. Meta checks the reference's declaration against the
// option schema (protocol.md 6.7).
func (v *validator) checkOptionSchema(si *screenInfo, c *Component, ref, ptr string, pos Pos) {
	s := v.refSchema(si, ref)
	if s == nil || s.Type != "array" || s.Items == nil {
		return // not a declared array: reported elsewhere, or items: true
	}
	it := s.Items
	switch {
	case it.Type != "object":
		if _, ok := schemaType(it.Type); ok {
			v.errf(CodeInvalidScreenDynamicData, ptr, pos, "the items of %s are %s, but the options of a data-source are objects with \"id\" and \"title\"", ref, it.Type)
		}
	case it.Properties == nil && it.src.Get("properties") == nil:
		v.warnf(CodeInvalidScreenDynamicData, ptr, pos, "the items of %s declare no \"properties\": declare at least \"id\" and \"title\" (strings), which every option of a %s needs", ref, c.Type)
	default:
		for _, key := range []string{"id", "title"} {
			if it.Properties.Field(key) == nil {
				v.errf(CodeInvalidScreenDynamicData, ptr, pos, "Data model schema is invalid for %s: its items declare no %q, which every option of a %s needs", ref, key, c.Type)
			}
		}
	}
}

// refSchema returns the declaration a ${data.x} or ${screen.ID.data.x}
// reference names, or nil.
func (v *validator) refSchema(si *screenInfo, ref string) *Schema {
	r, ok := ParseRef(ref)
	if !ok {
		return nil
	}
	target := si
	switch r.Kind {
	case RefData:
	case RefScreenData:
		target = v.screens[r.Screen]
	default:
		return nil
	}
	if target == nil {
		return nil
	}
	f := target.s.Data.Field(r.Path[0])
	if f == nil {
		return nil
	}
	s := f.Schema
	for _, p := range r.Path[1:] {
		if s == nil || s.Type != "object" {
			return nil
		}
		pf := s.Properties.Field(p)
		if pf == nil {
			return nil
		}
		s = pf.Schema
	}
	return s
}

// The properties of item objects, with the version that added each.
var (
	optionKeys = map[string]Version{"id": {}, "title": {}, "description": {}, "metadata": {}, "enabled": {},
		"image": V5_0, "alt-text": V5_0, "color": V5_0, "on-select-action": V6_0, "on-unselect-action": V6_0}
	chipsOptionKeys = map[string]Version{"id": {}, "title": {}, "enabled": {}, "on-select-action": V7_1, "on-unselect-action": V7_1}
	navItemKeys     = map[string]Version{"id": {}, "main-content": {}, "start": {}, "end": {}, "badge": {}, "tags": {}, "on-click-action": {}}
	carouselKeys    = map[string]Version{"src": {}, "alt-text": {}}
)

// checkItemKeys reports unknown, version-gated and mistyped keys of an item
// object (options, navigation items, carousel images).
func (v *validator) checkItemKeys(src *Value, extra *[]*Member, ptr, what string, allowed map[string]Version) {
	for _, m := range *extra {
		if _, ok := allowed[m.Key]; ok {
			v.errf(CodeInvalidPropertyType, ptrKey(ptr, m.Key), m.Value.Pos, "property '%s' of the %s has the wrong type (%s)", m.Key, what, m.Value.Kind)
			continue
		}
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, m.Key), m.KeyPos, "an %s has no property '%s'; it may have %s", what, m.Key, strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
	}
	if src == nil {
		return
	}
	for _, m := range src.Members {
		if since, ok := allowed[m.Key]; ok && v.ver.Less(since) {
			v.errf(CodeInvalidPropertyKey, ptrKey(ptr, m.Key), m.KeyPos, "'%s' of an %s needs Flow JSON %s or later; this flow is %s", m.Key, what, since, v.ver)
		}
	}
}

// itemText checks a string property of an item: references and length.
func (v *validator) itemText(si *screenInfo, s, key string, maxLen int, ptr string, pos Pos) {
	if s == "" || classify(s) == dynLiteral && (maxLen == 0 || len(s) <= maxLen) {
		return
	}
	kp := ptrKey(ptr, key)
	if v.checkString(si, s, tString, kp, pos, propCtx) && maxLen > 0 {
		if n := utf8.RuneCountInString(s); n > maxLen {
			v.errf(CodeMaxCharsExceeded, kp, pos, "'%s' has %d characters; the limit is %d", key, n, maxLen)
		}
	}
}

// checkBase64Image checks an inline image: base64, and at most limitKB
// kilobytes once decoded (0: no limit).
func (v *validator) checkBase64Image(s, key string, limitKB int, ptr string, pos Pos) {
	// Meta's own samples leave out the "=" padding.
	n, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		v.errf(CodeInvalidPropertyValueFormat, ptr, pos, "'%s' must be a base64-encoded JPEG or PNG image: %v", key, err)
		return
	}
	if limitKB > 0 && len(n) > limitKB*1024 {
		v.errf(CodeInvalidPropertyValue, ptr, pos, "'%s' is %d KB; images in a data-source may be at most %d KB in this version", key, (len(n)+1023)/1024, limitKB)
	}
}

func (v *validator) checkDateRange(c *Component, ptr string) {
	lo, _ := c.MinDate.AsString()
	hi, _ := c.MaxDate.AsString()
	if lo == "" || hi == "" || classify(lo) != dynLiteral || classify(hi) != dynLiteral {
		return
	}
	a, ok1 := v.pickerDate(c, lo)
	b, ok2 := v.pickerDate(c, hi)
	if ok1 && ok2 && a.After(b) {
		v.errf(CodeMinValueGreaterThanMax, ptrKey(ptr, "min-date"), c.MinDate.Pos, "\"min-date\" (%s) cannot be later than \"max-date\" (%s)", lo, hi)
	}
}

// pickerDate parses a date property of a DatePicker or CalendarPicker in
// the format its version uses.
func (v *validator) pickerDate(c *Component, s string) (time.Time, bool) {
	if c.Type == "DatePicker" && v.ver.Less(V5_0) {
		return parseMillis(s)
	}
	return parseDate(s)
}

func (v *validator) checkCalendar(c *Component, ptr string) {
	rangeMode := isRange(c)
	if !rangeMode {
		for _, key := range []string{"title", "description", "min-days", "max-days"} {
			if c.hasProp(key) {
				v.errf(CodeInvalidDependencies, ptrKey(ptr, key), c.keyPos(key), "'%s' is only for CalendarPicker \"mode\": \"range\"", key)
			}
		}
		return
	}
	v.minMax(c.MinDays, c.MaxDays, "min-days", "max-days", ptr)
}

func (v *validator) checkCarousel(si *screenInfo, c *Component, ptr string) {
	l := c.Images
	if l == nil {
		return
	}
	ip := ptrKey(ptr, "images")
	if l.Items == nil {
		if classify(l.Ref) != dynRef {
			v.errf(CodeInvalidPropertyType, ip, c.posOf("images"), "expected property 'images' to be an array of images or a ${data.x} reference, found the string %q", l.Ref)
			return
		}
		v.checkString(si, l.Ref, tArray, ip, c.posOf("images"), propCtx)
		return
	}
	switch n := len(l.Items); {
	case n < 1:
		v.errf(CodeMinItemsRequired, ip, c.posOf("images"), "ImageCarousel needs at least 1 image")
	case n > 3:
		v.errf(CodeMaxItemsExceeded, ip, c.posOf("images"), "ImageCarousel may have at most 3 images, found %d", n)
	}
	for i, im := range l.Items {
		p := ptrIndex(ip, i)
		v.checkItemKeys(im.src, &im.Extra, p, "image", carouselKeys)
		for _, key := range []string{"src", "alt-text"} {
			if im.src.Get(key) == nil && (key == "src" && im.Src == "" || key == "alt-text" && im.AltText == "") {
				v.errf(CodeMissingRequiredProperty, p, im.pos(), "image %d of the ImageCarousel has no %q", i, key)
			}
		}
		if im.Src != "" && v.checkString(si, im.Src, tString, ptrKey(p, "src"), im.posOf("src"), propCtx) {
			v.checkBase64Image(im.Src, "src", 0, ptrKey(p, "src"), im.posOf("src"))
		}
		v.itemText(si, im.AltText, "alt-text", 0, p, im.posOf("alt-text"))
	}
}

func (v *validator) checkNavigationList(si *screenInfo, c *Component, ptr string) {
	l := c.ListItems
	if l == nil {
		return
	}
	lp := ptrKey(ptr, "list-items")
	if l.Items == nil {
		if classify(l.Ref) != dynRef {
			v.errf(CodeInvalidPropertyType, lp, c.posOf("list-items"), "expected property 'list-items' to be an array of items or a ${data.x} reference, found the string %q", l.Ref)
			return
		}
		v.checkString(si, l.Ref, tArray, lp, c.posOf("list-items"), propCtx)
		return
	}
	switch n := len(l.Items); {
	case n < 1:
		v.errf(CodeMinItemsRequired, lp, c.posOf("list-items"), "NavigationList needs at least 1 item")
	case n > 20:
		v.errf(CodeMaxItemsExceeded, lp, c.posOf("list-items"), "NavigationList may have at most 20 items, found %d", n)
	}
	large := false
	if ms, ok := c.MediaSize.AsString(); ok && ms == "large" {
		large = true
	}
	badges := 0
	ids := map[string]int{}
	for i, it := range l.Items {
		p := ptrIndex(lp, i)
		v.checkItemKeys(it.src, &it.Extra, p, "item", navItemKeys)
		if it.ID == "" && !it.has("id") {
			v.errf(CodeMissingRequiredProperty, p, it.pos(), "item %d of the NavigationList has no \"id\"", i)
		} else if prev, dup := ids[it.ID]; dup && it.ID != "" {
			v.errf(CodeDuplicateOptionID, ptrKey(p, "id"), it.posOf("id"), "item id %q is already used by item %d", it.ID, prev)
		} else {
			ids[it.ID] = i
		}
		if it.MainContent == nil {
			if !it.has("main-content") {
				v.errf(CodeMissingRequiredProperty, p, it.pos(), "item %d of the NavigationList has no \"main-content\"", i)
			}
		} else {
			mp := ptrKey(p, "main-content")
			mc := it.MainContent
			v.navContentKeys(mc, mp)
			if mc.Title == "" && !mc.has("title") {
				v.errf(CodeMissingRequiredProperty, mp, mc.pos(), "the main-content of item %d has no \"title\"", i)
			}
			v.itemText(si, mc.Title, "title", 30, mp, mc.posOf("title"))
			v.itemText(si, mc.Description, "description", 20, mp, mc.posOf("description"))
			v.itemText(si, mc.Metadata, "metadata", 80, mp, mc.posOf("metadata"))
		}
		if it.End != nil {
			ep := ptrKey(p, "end")
			v.navContentKeys(it.End, ep)
			if large {
				v.errf(CodeInvalidDependencies, ep, it.posOf("end"), "a NavigationList item cannot have 'end' when the list's media-size is large")
			}
			v.itemText(si, it.End.Title, "title", 10, ep, it.End.posOf("title"))
			v.itemText(si, it.End.Description, "description", 10, ep, it.End.posOf("description"))
			v.itemText(si, it.End.Metadata, "metadata", 10, ep, it.End.posOf("metadata"))
		}
		if it.Start != nil {
			sp := ptrKey(p, "start")
			for _, m := range it.Start.Extra {
				v.errf(CodeInvalidPropertyKey, ptrKey(sp, m.Key), m.KeyPos, "'start' has only image and alt-text")
			}
			if it.Start.Image != "" && classify(it.Start.Image) == dynLiteral {
				v.checkBase64Image(it.Start.Image, "image", 100, ptrKey(sp, "image"), it.Start.posOf("image"))
			}
		}
		if it.Badge != "" {
			badges++
			if badges == 2 {
				v.errf(CodeInvalidPropertyValue, ptrKey(p, "badge"), it.posOf("badge"), "only one item of a NavigationList may have a badge")
			}
			v.itemText(si, it.Badge, "badge", 15, p, it.posOf("badge"))
		}
		if len(it.Tags) > 3 {
			v.errf(CodeMaxItemsExceeded, ptrKey(p, "tags"), it.posOf("tags"), "an item may have at most 3 tags, found %d", len(it.Tags))
		}
		for j, tag := range it.Tags {
			if n := utf8.RuneCountInString(tag); n > 15 {
				v.errf(CodeMaxCharsExceeded, ptrIndex(ptrKey(p, "tags"), j), itemPos(it.src.Get("tags"), j), "tag %q has %d characters; the limit is 15", tag, n)
			}
		}
		switch {
		case it.OnClickAction != nil && c.OnClickAction != nil:
			v.errf(CodeNotKeywordSchemaValidation, ptrKey(p, "on-click-action"), it.posOf("on-click-action"), "set on-click-action either on the NavigationList or on its items, not both")
		case it.OnClickAction != nil:
			v.checkAction(si, it.OnClickAction, ptrKey(p, "on-click-action"), "NavigationList item", "on-click-action", c)
		case c.OnClickAction == nil && !it.has("on-click-action"):
			v.errf(CodeMissingRequiredProperty, p, it.pos(), "item %d has no on-click-action and the NavigationList has none either", i)
		}
	}
}

func (v *validator) navContentKeys(nc *NavContent, ptr string) {
	for _, m := range nc.Extra {
		if m.Key == "title" || m.Key == "description" || m.Key == "metadata" {
			v.errf(CodeInvalidPropertyType, ptrKey(ptr, m.Key), m.Value.Pos, "expected property '%s' to be of type string, but found %s", m.Key, m.Value.Kind)
			continue
		}
		v.errf(CodeInvalidPropertyKey, ptrKey(ptr, m.Key), m.KeyPos, "unknown property '%s'; this block has title, description and metadata", m.Key)
	}
}

// checkIf checks an If: its condition (protocol.md 6.4), its branches and
// the Footer rule (a Footer in one branch needs one in the other).
func (v *validator) checkIf(si *screenInfo, c *Component, ptr string, ctx walkCtx) {
	cp := ptrKey(ptr, "condition")
	if cond := c.Condition; cond != nil {
		if cond.Kind != String {
			v.typeError("condition", "string", cond, cp)
		} else {
			v.checkCondition(si, cond.Str, cp, cond.Pos)
		}
	}
	if c.Then != nil && len(c.Then) == 0 {
		v.errf(CodeInvalidPropertyValue, ptrKey(ptr, "then"), c.posOf("then"), "Expected array to contain at least one component: 'then' is empty")
	}
	ft, fe := footersOnPath(c.Then), footersOnPath(c.Else)
	if (ft > 0) != (fe > 0) && ctx.ifDepth == 0 {
		v.errf(CodeMissingFooterInIfElseBranches, ptr, c.pos(), "a Footer in one branch of If needs a Footer in the other branch too (add an 'else' with a Footer)")
	}
}

func (v *validator) checkCondition(si *screenInfo, s, ptr string, pos Pos) {
	if strings.HasPrefix(s, "`") {
		v.errf(CodeInvalidPropertyValue, ptr, pos, "write the If condition without backticks, e.g. \"${form.age} > 18\"")
		return
	}
	n, err := parseExpr(s, false)
	if err != nil {
		v.errf(CodeInvalidPropertyValue, ptr, pos, "invalid condition %q: %s", s, err.Error())
		return
	}
	if !n.hasRef() {
		if n.literal {
			v.errf(CodeInvalidPropertyValue, ptr, pos, "The only operand is a literal value: the condition %q needs a dynamic reference", s)
		} else {
			v.errf(CodeInvalidPropertyValue, ptr, pos, "Expected property 'condition' to contain at least one dynamic operand, found %q", s)
		}
		return
	}
	if t := v.exprType(si, n, s, ptr, pos, propCtx); t != tAny && t&tBool == 0 {
		v.errf(CodeInvalidPropertyValue, ptr, pos, "Expected single operand to be a boolean: the condition %q gives %s", s, t)
	}
}

func (v *validator) checkSwitch(si *screenInfo, c *Component, ptr string) {
	vp := ptrKey(ptr, "value")
	if val := c.Value; val != nil {
		if s, ok := val.AsString(); !ok || classify(s) != dynRef {
			v.errf(CodeInvalidPropertyValue, vp, val.Pos, "a Switch 'value' must be a dynamic reference such as \"${data.status}\", found %s", val)
		} else if t, _ := v.dynType(si, s, vp, val.Pos, propCtx); t != tAny && t&(tString|tNumber|tBool) == 0 {
			v.errf(CodeInvalidScreenDynamicData, vp, val.Pos, "a Switch 'value' must be a string, number or boolean, but %s is %s", s, t)
		}
	}
	if c.Cases == nil {
		return
	}
	cp := ptrKey(ptr, "cases")
	if len(c.Cases.Cases) == 0 {
		v.errf(CodeInvalidPropertyValue, cp, c.posOf("cases"), "Invalid empty property found at: %s; a Switch needs at least one case", cp)
		return
	}
	with, without := 0, 0
	for _, k := range c.Cases.Cases {
		if k.Raw != nil {
			v.errf(CodeInvalidPropertyType, ptrKey(cp, k.Value), k.Raw.Pos, "expected case %q to be an array of components, but found %s", k.Value, k.Raw.Kind)
			continue
		}
		if footersOnPath(k.Children) > 0 {
			with++
		} else {
			without++
		}
	}
	if with > 0 && without > 0 {
		v.errf(CodeMissingFooterInSwitchBranches, ptr, c.pos(), "a Footer in one case of a Switch needs a Footer in every case; %d of %d cases have none", without, with+without)
	}
}

// checkForm checks a Form's init-values and error-messages against its
// inputs (protocol.md 6.4).
func (v *validator) checkForm(si *screenInfo, c *Component, ptr string) {
	inputs := map[string]*Component{}
	var collect func([]*Component)
	collect = func(list []*Component) {
		for _, ch := range list {
			switch ch.Type {
			case "If":
				collect(ch.Then)
				collect(ch.Else)
			case "Switch":
				if ch.Cases != nil {
					for _, k := range ch.Cases.Cases {
						collect(k.Children)
					}
				}
			default:
				if IsInput(ch.Type) && ch.Name != "" {
					inputs[ch.Name] = ch
				}
			}
		}
	}
	collect(c.Children)
	for _, key := range []string{"init-values", "error-messages"} {
		val := c.InitValues
		if key == "error-messages" {
			val = c.ErrorMessages
		}
		if val == nil || val.Kind != Object {
			continue
		}
		kp := ptrKey(ptr, key)
		for _, m := range val.Members {
			mp := ptrKey(kp, m.Key)
			in := inputs[m.Key]
			if in == nil {
				v.errf(CodeInvalidPropertyValue, mp, m.KeyPos, "'%s' names %q, which is not an input of this Form", key, m.Key)
				continue
			}
			if key == "error-messages" {
				if m.Value.Kind != String {
					v.typeError(key+"."+m.Key, "string", m.Value, mp)
				}
				continue
			}
			if in.Type == "PhotoPicker" || in.Type == "DocumentPicker" {
				v.errf(CodeNativeComponentInFormInitValues, mp, m.KeyPos, "%s %q cannot be initialised; remove it from init-values", in.Type, m.Key)
				continue
			}
			want := formType(in)
			if m.Value.Kind == String && classify(m.Value.Str) != dynLiteral {
				v.checkString(si, m.Value.Str, want, mp, m.Value.Pos, propCtx)
				continue
			}
			if kindType(m.Value.Kind)&want == 0 {
				if v.ver.AtLeast(V7_0) {
					v.errf(CodeInvalidPropertyType, mp, m.Value.Pos, "init-values.%s must be %s for a %s, but found %s", m.Key, want, in.Type, m.Value.Kind)
				} else {
					v.warnf(CodeInvalidPropertyType, mp, m.Value.Pos, "init-values.%s should be %s for a %s, but found %s (Flow JSON 7.0 and later reject this)", m.Key, want, in.Type, m.Value.Kind)
				}
			}
		}
	}
}

// Dates.

func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

func parseMillis(s string) (time.Time, bool) {
	if s == "" || len(s) > 16 {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(n).UTC(), true
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
