package flowjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Decoding and encoding of the model. Every model struct is decoded from a
// parsed *Value by one reflective routine driven by the json tags, so the
// rules are the same everywhere:
//
//   - the last occurrence of a duplicated key wins (as in encoding/json);
//   - a property whose JSON type does not fit its field, and every unknown
//     property, goes to Extra, in source order;
//   - encoding writes properties in source order where there is a source,
//     then the remaining set fields in declaration order, then Extra.

// Parse parses a Flow JSON document. It fails only when src is not JSON
// (a *SyntaxError with line and column) or not a JSON object; everything
// else, including unknown properties and wrong types, is kept in the model
// for [Validate] to report.
func Parse(src []byte) (*Flow, error) {
	v, err := ParseValue(src)
	if err != nil {
		return nil, err
	}
	return FlowFromValue(v)
}

// FlowFromValue builds the model of a parsed JSON value; see [Parse].
func FlowFromValue(v *Value) (*Flow, error) {
	if v.Kind != Object {
		return nil, &SyntaxError{Msg: "a Flow JSON document must be an object, found " + v.Kind.String(), Pos: v.Pos}
	}
	f := new(Flow)
	decodeObject(v, reflect.ValueOf(f).Elem())
	return f, nil
}

// UnmarshalJSON parses b into f, like [Parse].
func (f *Flow) UnmarshalJSON(b []byte) error {
	g, err := Parse(b)
	if err != nil {
		return err
	}
	*f = *g
	return nil
}

// MarshalJSON writes the flow as compact JSON with every property it holds,
// known or not.
func (f *Flow) MarshalJSON() ([]byte, error) {
	return appendObject(nil, reflect.ValueOf(f).Elem()), nil
}

// MarshalIndent is like MarshalJSON with indentation, as json.MarshalIndent.
func (f *Flow) MarshalIndent(prefix, indent string) ([]byte, error) {
	b, _ := f.MarshalJSON()
	var out bytes.Buffer
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// MarshalJSON writes the screen as compact JSON.
func (s *Screen) MarshalJSON() ([]byte, error) {
	return appendObject(nil, reflect.ValueOf(s).Elem()), nil
}

// MarshalJSON writes the component as compact JSON.
func (c *Component) MarshalJSON() ([]byte, error) {
	return appendObject(nil, reflect.ValueOf(c).Elem()), nil
}

// MarshalJSON writes the action as compact JSON.
func (a *Action) MarshalJSON() ([]byte, error) {
	return appendObject(nil, reflect.ValueOf(a).Elem()), nil
}

// codec is implemented by model types whose JSON shape is not a plain object
// of tagged fields.
type codec interface {
	// decodeJSON fills the receiver from v and reports whether v had the
	// right shape.
	decodeJSON(v *Value) bool
	appendJSON(b []byte) []byte
}

type sourced interface {
	setSource(*Value)
	Source() *Value
}

type fieldKind uint8

const (
	fkString fieldKind = iota
	fkBoolPtr
	fkValue
	fkStrings
	fkStructPtr
	fkStructSlice
	fkCodecPtr   // a pointer field whose pointer type implements codec
	fkCodecValue // a value field whose address implements codec
)

type fieldInfo struct {
	key   string
	index int
	kind  fieldKind
	typ   reflect.Type
}

type structInfo struct {
	fields []fieldInfo
	byKey  map[string]int
	extra  int // index of the Extra field, or -1
}

var structInfos sync.Map // reflect.Type → *structInfo

var (
	valueType   = reflect.TypeFor[*Value]()
	codecType   = reflect.TypeFor[codec]()
	membersType = reflect.TypeFor[[]*Member]()
)

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byKey: map[string]int{}, extra: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Name == "Extra" && f.Type == membersType {
			si.extra = i
			continue
		}
		tag, ok := f.Tag.Lookup("json")
		if !ok {
			continue
		}
		fi := fieldInfo{key: strings.Split(tag, ",")[0], index: i, typ: f.Type}
		switch {
		case f.Type.Kind() == reflect.Pointer && f.Type.Implements(codecType):
			fi.kind = fkCodecPtr
		case f.Type.Kind() != reflect.Pointer && reflect.PointerTo(f.Type).Implements(codecType):
			fi.kind = fkCodecValue
		case f.Type.Kind() == reflect.String:
			fi.kind = fkString
		case f.Type == valueType:
			fi.kind = fkValue
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Bool:
			fi.kind = fkBoolPtr
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			fi.kind = fkStructPtr
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			fi.kind = fkStrings
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Pointer:
			fi.kind = fkStructSlice
		default:
			panic("flowjson: unsupported model field " + t.Name() + "." + f.Name)
		}
		si.byKey[fi.key] = len(si.fields)
		si.fields = append(si.fields, fi)
	}
	actual, _ := structInfos.LoadOrStore(t, si)
	return actual.(*structInfo)
}

// decodeObject fills the struct rv (addressable) from the object obj.
func decodeObject(obj *Value, rv reflect.Value) {
	si := infoOf(rv.Type())
	if s, ok := rv.Addr().Interface().(sourced); ok {
		s.setSource(obj)
	}
	var extra []*Member
	for _, m := range obj.Members {
		// The last occurrence of a key wins: forget earlier ones.
		for j := 0; j < len(extra); j++ {
			if extra[j].Key == m.Key {
				extra = append(extra[:j], extra[j+1:]...)
				j--
			}
		}
		idx, known := si.byKey[m.Key]
		if !known {
			extra = append(extra, m)
			continue
		}
		fi := &si.fields[idx]
		fv := rv.Field(fi.index)
		fv.SetZero()
		if !decodeField(m.Value, fi, fv) {
			fv.SetZero()
			extra = append(extra, m)
		}
	}
	if si.extra >= 0 && len(extra) > 0 {
		rv.Field(si.extra).Set(reflect.ValueOf(extra))
	}
}

func decodeField(v *Value, fi *fieldInfo, fv reflect.Value) bool {
	switch fi.kind {
	case fkString:
		if v.Kind != String {
			return false
		}
		fv.SetString(v.Str)
	case fkBoolPtr:
		if v.Kind != Bool {
			return false
		}
		b := v.Bool
		fv.Set(reflect.ValueOf(&b))
	case fkValue:
		fv.Set(reflect.ValueOf(v))
	case fkStrings:
		if v.Kind != Array {
			return false
		}
		out := make([]string, len(v.Items))
		for i, it := range v.Items {
			if it.Kind != String {
				return false
			}
			out[i] = it.Str
		}
		fv.Set(reflect.ValueOf(out))
	case fkStructPtr:
		if v.Kind != Object {
			return false
		}
		p := reflect.New(fi.typ.Elem())
		decodeObject(v, p.Elem())
		fv.Set(p)
	case fkStructSlice:
		if v.Kind != Array {
			return false
		}
		out := reflect.MakeSlice(fi.typ, len(v.Items), len(v.Items))
		for i, it := range v.Items {
			if it.Kind != Object {
				return false
			}
			p := reflect.New(fi.typ.Elem().Elem())
			decodeObject(it, p.Elem())
			out.Index(i).Set(p)
		}
		fv.Set(out)
	case fkCodecPtr:
		p := reflect.New(fi.typ.Elem())
		if !p.Interface().(codec).decodeJSON(v) {
			return false
		}
		fv.Set(p)
	case fkCodecValue:
		return fv.Addr().Interface().(codec).decodeJSON(v)
	}
	return true
}

// isSet reports whether field fi of rv should be written.
func isSet(fi *fieldInfo, fv reflect.Value, src *Value) bool {
	switch fi.kind {
	case fkString:
		if fv.Len() > 0 {
			return true
		}
		v := src.Get(fi.key)
		return v != nil && v.Kind == String
	default:
		return !fv.IsNil()
	}
}

func appendObject(b []byte, rv reflect.Value) []byte {
	si := infoOf(rv.Type())
	var src *Value
	if s, ok := rv.Addr().Interface().(sourced); ok {
		src = s.Source()
	}
	var extra []*Member
	if si.extra >= 0 {
		extra = rv.Field(si.extra).Interface().([]*Member)
	}
	written := make([]bool, len(si.fields)+len(extra))
	b = append(b, '{')
	first := true
	emitField := func(i int) {
		if !first {
			b = append(b, ',')
		}
		first = false
		fi := &si.fields[i]
		b = appendString(b, fi.key)
		b = append(b, ':')
		b = appendField(b, fi, rv.Field(fi.index))
		written[i] = true
	}
	emitExtra := func(j int) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, extra[j].Key)
		b = append(b, ':')
		b = extra[j].Value.appendJSON(b)
		written[len(si.fields)+j] = true
	}
	if src != nil && src.Kind == Object {
		for _, m := range src.Members {
			if i, ok := si.byKey[m.Key]; ok && !written[i] && isSet(&si.fields[i], rv.Field(si.fields[i].index), src) {
				emitField(i)
				continue
			}
			for j, e := range extra {
				if e == m && !written[len(si.fields)+j] {
					emitExtra(j)
				}
			}
		}
	}
	for i := range si.fields {
		if !written[i] && isSet(&si.fields[i], rv.Field(si.fields[i].index), src) {
			emitField(i)
		}
	}
	for j := range extra {
		if !written[len(si.fields)+j] {
			emitExtra(j)
		}
	}
	return append(b, '}')
}

func appendField(b []byte, fi *fieldInfo, fv reflect.Value) []byte {
	switch fi.kind {
	case fkString:
		return appendString(b, fv.String())
	case fkBoolPtr:
		if fv.Elem().Bool() {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case fkValue:
		return fv.Interface().(*Value).appendJSON(b)
	case fkStrings:
		b = append(b, '[')
		for i := 0; i < fv.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, fv.Index(i).String())
		}
		return append(b, ']')
	case fkStructPtr:
		return appendObject(b, fv.Elem())
	case fkStructSlice:
		b = append(b, '[')
		for i := 0; i < fv.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			if fv.Index(i).IsNil() {
				b = append(b, "null"...)
				continue
			}
			b = appendObject(b, fv.Index(i).Elem())
		}
		return append(b, ']')
	case fkCodecPtr:
		return fv.Interface().(codec).appendJSON(b)
	case fkCodecValue:
		return fv.Addr().Interface().(codec).appendJSON(b)
	}
	return b
}

func (l *List[T]) decodeJSON(v *Value) bool {
	switch v.Kind {
	case String:
		l.Ref = v.Str
		return true
	case Array:
		items := make([]*T, len(v.Items))
		for i, it := range v.Items {
			if it.Kind != Object {
				return false
			}
			items[i] = new(T)
			decodeObject(it, reflect.ValueOf(items[i]).Elem())
		}
		l.Items = items
		return true
	}
	return false
}

func (l *List[T]) appendJSON(b []byte) []byte {
	if l.Items == nil {
		return appendString(b, l.Ref)
	}
	b = append(b, '[')
	for i, it := range l.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendObject(b, reflect.ValueOf(it).Elem())
	}
	return append(b, ']')
}

func (rm *RoutingModel) decodeJSON(v *Value) bool {
	if v.Kind != Object {
		return false
	}
	rm.src = v
	rm.Routes = make([]*Route, 0, len(v.Members))
	for _, m := range v.Members {
		r := &Route{From: m.Key, Raw: m.Value}
		if to, ok := stringsOf(m.Value); ok {
			r.To, r.Raw = to, nil
		}
		rm.Routes = replaceOrAppend(rm.Routes, r, func(o *Route) bool { return o.From == r.From })
	}
	return true
}

func (rm *RoutingModel) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, r := range rm.Routes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r.From)
		b = append(b, ':')
		if r.Raw != nil {
			b = r.Raw.appendJSON(b)
			continue
		}
		b = append(b, '[')
		for j, to := range r.To {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, to)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (fs *Fields) decodeJSON(v *Value) bool {
	if v.Kind != Object {
		return false
	}
	out := make(Fields, 0, len(v.Members))
	for _, m := range v.Members {
		f := &DataField{Name: m.Key}
		if m.Value.Kind == Object {
			f.Schema = new(Schema)
			decodeObject(m.Value, reflect.ValueOf(f.Schema).Elem())
		} else {
			f.Raw = m.Value
		}
		out = replaceOrAppend(out, f, func(o *DataField) bool { return o.Name == f.Name })
	}
	*fs = out
	return true
}

func (fs *Fields) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, f := range *fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.Name)
		b = append(b, ':')
		switch {
		case f.Schema != nil:
			b = appendObject(b, reflect.ValueOf(f.Schema).Elem())
		case f.Raw != nil:
			b = f.Raw.appendJSON(b)
		default:
			b = append(b, "null"...)
		}
	}
	return append(b, '}')
}

func (cs *Cases) decodeJSON(v *Value) bool {
	if v.Kind != Object {
		return false
	}
	cs.src = v
	cs.Cases = make([]*Case, 0, len(v.Members))
	for _, m := range v.Members {
		c := &Case{Value: m.Key, Raw: m.Value}
		if m.Value.Kind == Array {
			children := make([]*Component, len(m.Value.Items))
			ok := true
			for i, it := range m.Value.Items {
				if it.Kind != Object {
					ok = false
					break
				}
				children[i] = new(Component)
				decodeObject(it, reflect.ValueOf(children[i]).Elem())
			}
			if ok {
				c.Children, c.Raw = children, nil
			}
		}
		cs.Cases = replaceOrAppend(cs.Cases, c, func(o *Case) bool { return o.Value == c.Value })
	}
	return true
}

func (cs *Cases) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, c := range cs.Cases {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, c.Value)
		b = append(b, ':')
		if c.Raw != nil {
			b = c.Raw.appendJSON(b)
			continue
		}
		b = append(b, '[')
		for j, ch := range c.Children {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendObject(b, reflect.ValueOf(ch).Elem())
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// replaceOrAppend implements "the last duplicate key wins" for ordered maps:
// the later entry replaces the earlier one at the later position.
func replaceOrAppend[T any](list []T, x T, same func(T) bool) []T {
	for i := 0; i < len(list); i++ {
		if same(list[i]) {
			list = append(list[:i], list[i+1:]...)
			i--
		}
	}
	return append(list, x)
}

func stringsOf(v *Value) ([]string, bool) {
	if v == nil || v.Kind != Array {
		return nil, false
	}
	out := make([]string, len(v.Items))
	for i, it := range v.Items {
		if it.Kind != String {
			return nil, false
		}
		out[i] = it.Str
	}
	return out, true
}
