package field

import (
	"strconv"
	"strings"
)

// Path is a field path, rendered as k8s.io/apimachinery renders its paths
// ("spec.containers[0].securityContext", "metadata.annotations[key]"). A
// Path is immutable. Building one costs one allocation, as apimachinery's
// does; rendering it costs one more, and none for a path made with
// NewPath or Frozen, whose text is kept. The engine freezes the paths it
// reuses for every policy it tries (each container's), so an error or a
// change below them renders with a single concatenation; apimachinery's
// paths rendered element by element every time (a sixth of a denial).
type Path struct {
	parent *Path
	// name is a field name, or the subscript when subscript is set.
	name      string
	subscript bool
	// text is the rendered path, when kept.
	text string
}

// NewPath starts a field path.
func NewPath(name string, moreNames ...string) *Path {
	p := (&Path{name: name, subscript: name == ""}).Frozen()
	for _, n := range moreNames {
		p = p.Child(n).Frozen()
	}
	return p
}

// Child is the path of a field below p.
func (p *Path) Child(name string, moreNames ...string) *Path {
	if p == nil {
		return NewPath(name, moreNames...)
	}
	// apimachinery renders an empty name as an empty subscript.
	c := &Path{parent: p, name: name, subscript: name == ""}
	for _, n := range moreNames {
		c = &Path{parent: c, name: n, subscript: n == ""}
	}
	return c
}

// Index is the path of list element i of p.
func (p *Path) Index(i int) *Path { return &Path{parent: p, name: strconv.Itoa(i), subscript: true} }

// Key is the path of map entry key of p.
func (p *Path) Key(key string) *Path { return &Path{parent: p, name: key, subscript: true} }

// Frozen returns p with its text kept, for a path rendered or extended
// many times.
func (p *Path) Frozen() *Path {
	if p == nil || p.text != "" {
		return p
	}
	f := *p
	f.text = p.String()
	return &f
}

// String renders the path.
func (p *Path) String() string {
	if p == nil {
		return "<nil>"
	}
	if p.text != "" {
		return p.text
	}
	// Elements up to the nearest kept text, rendered front to back.
	var elems []*Path
	prefix := ""
	for q := p; q != nil; q = q.parent {
		if q.text != "" {
			prefix = q.text
			break
		}
		elems = append(elems, q)
	}
	var b strings.Builder
	n := len(prefix)
	for _, e := range elems {
		n += len(e.name) + 2
	}
	b.Grow(n)
	b.WriteString(prefix)
	for i := len(elems) - 1; i >= 0; i-- {
		e := elems[i]
		switch {
		case e.subscript:
			b.WriteByte('[')
			b.WriteString(e.name)
			b.WriteByte(']')
		case e.parent != nil:
			b.WriteByte('.')
			b.WriteString(e.name)
		default:
			b.WriteString(e.name)
		}
	}
	return b.String()
}
