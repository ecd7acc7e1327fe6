package web_test

import (
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/web"
)

// The contrast WCAG 2.2 AA asks for: of text (1.4.3), of large text (24px,
// or 18.66px bold), and of the parts of a control that identify it, its
// border or focus outline (1.4.11).
const (
	textContrast    = 4.5
	largeContrast   = 3
	nonTextContrast = 3
)

// contrastExceptions are the declarations the check leaves out, by
// selector and property, each with its reason.
var contrastExceptions = map[[2]string]string{
	{`button:disabled, button[aria-disabled="true"]`, "opacity"}: "a disabled or busy control: WCAG exempts inactive components (1.4.3, 1.4.11)",
	{`.qr img`, "background"}:                                    "the QR code's quiet zone: no text sits on it, and the code must be dark on light in both themes",
}

// TestContrast: every text and control colour pair the style sheet makes
// meets WCAG 2.2 AA, in the light theme and in the dark one. A pair is a
// rule's color on its own background; a color without a background on
// every surface text sits on (the page's background, and each background
// a rule sets without setting a color: panels, messages, notices, hover);
// a control's border or outline on those surfaces and on its own fill.
// Text under opacity is blended with what is under it first.
func TestContrast(t *testing.T) {
	css, err := fs.ReadFile(web.FS(), "public/app.css")
	if err != nil {
		t.Fatal(err)
	}
	report, err := checkContrast(string(css), contrastExceptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.pairs) < 50 {
		t.Errorf("only %d colour pairs measured: the parser missed rules", len(report.pairs))
	}
	for _, theme := range []string{"light", "dark"} {
		t.Logf("%s theme: the surfaces text sits on: %s", theme, strings.Join(report.surfaces[theme], ", "))
		if len(report.surfaces[theme]) < 3 {
			t.Errorf("%s theme: surfaces %v: the parser missed some", theme, report.surfaces[theme])
		}
	}
	for _, p := range report.pairs {
		if p.ratio < p.need {
			t.Errorf("%s", p)
		} else if testing.Verbose() {
			t.Logf("ok %s", p)
		}
	}
	for k, why := range contrastExceptions {
		if !report.excepted[k] {
			t.Logf("the exception for %s { %s } is not used any more (%s): remove it", k[0], k[1], why)
		}
	}
}

// TestContrastCatches: the check finds what fails, on style sheets made
// to: a grey just under 4.5:1 on white, text on a surface set elsewhere,
// a literal colour on a themed background, a dark theme only, text faded
// by opacity, a control's faint border; and passes what is just enough.
func TestContrastCatches(t *testing.T) {
	const root = `:root { --bg: #ffffff; --panel: #ffffff; --ink: #000000; color: var(--ink); background: var(--bg); }`
	tests := []struct {
		name string
		css  string
		fail string // what a failing pair names; "" for none
	}{
		{"black on white", root, ""},
		{"#767676 on white, 4.54:1", root + ` .x { color: #767676; }`, ""},
		{"#777777 on white, 4.48:1", root + ` .x { color: #777; }`, ".x"},
		{"muted on a surface another rule sets", root + ` :root { --soft: #e0e0e0; --muted: #6f6f6f; } .box { background: var(--soft); } .hint { color: var(--muted); }`, ".hint"},
		{"a literal background under a themed colour", root + ` :root { --ok: #1f7a45; } @media (prefers-color-scheme: dark) { :root { --ok: #6fd39a; } } .tag { background: #dff3e7; color: var(--ok); }`, "dark"},
		{"white on a badge", root + ` :root { --danger: #f08a8d; } .badge { background: var(--danger); color: #fff; }`, ".badge"},
		{"only the dark theme fails", root + ` @media (prefers-color-scheme: dark) { :root { --bg: #111111; --panel: #111111; --ink: #444444; } }`, "dark"},
		{"text at half opacity", root + ` .faint { opacity: .5; color: var(--ink); }`, ".faint"},
		{"a control inherits faded text", root + ` .actions { opacity: .3; } .x { color: #333; }`, ".actions"},
		{"large text needs 3:1 only", root + ` .big { font-size: 1.5rem; color: #888; }`, ""},
		{"small text of that grey fails", root + ` .small { color: #888; }`, ".small"},
		{"an input's faint border", root + ` :root { --line: #d9dfe7; } input { border: 1px solid var(--line); }`, "input"},
		{"a button's border as currentColor", root + ` button { color: #bbb; border: 1px solid currentColor; background: #000; }`, "button"},
		{"a faint focus outline", root + ` :focus-visible { outline: 3px solid #cccccc; }`, ":focus-visible"},
		{"a panel's faint border is decoration", root + ` .panel { border: 1px solid #eeeeee; }`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := checkContrast(tt.css, nil)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, p := range report.pairs {
				if p.ratio < p.need {
					failed = append(failed, p.String())
				}
			}
			switch {
			case tt.fail == "" && len(failed) > 0:
				t.Errorf("failed: %v", failed)
			case tt.fail != "" && !slices.ContainsFunc(failed, func(s string) bool { return strings.Contains(s, tt.fail) }):
				t.Errorf("nothing failed naming %q: %v", tt.fail, failed)
			}
		})
	}
	for _, bad := range []string{`.x { color: rgb(1 2 3); }`, `.x { color: var(--nope); }`, `.x { color: #12; }`, `.x { color: red`} {
		if _, err := checkContrast(`:root { --bg: #fff; }`+bad, nil); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestContrastRatio(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54},
		{"#777777", "#ffffff", 4.48},
		{"#f08a8d", "#ffffff", 2.41},
	} {
		a, _ := parseColor(tt.a)
		b, _ := parseColor(tt.b)
		if got := contrast(a, b); math.Abs(got-tt.want) > 0.005 {
			t.Errorf("%s on %s: %.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
}

// rgba is a colour with its components from 0 to 1.
type rgba struct{ r, g, b, a float64 }

var white = rgba{1, 1, 1, 1}

func (c rgba) String() string {
	s := fmt.Sprintf("#%02x%02x%02x", int(math.Round(c.r*255)), int(math.Round(c.g*255)), int(math.Round(c.b*255)))
	if c.a < 1 {
		s += fmt.Sprintf("@%.2f", c.a)
	}
	return s
}

// over composites c over the opaque colour under.
func (c rgba) over(under rgba) rgba {
	mix := func(x, y float64) float64 { return c.a*x + (1-c.a)*y }
	return rgba{mix(c.r, under.r), mix(c.g, under.g), mix(c.b, under.b), 1}
}

// luminance is WCAG's relative luminance of an opaque colour.
func (c rgba) luminance() float64 {
	lin := func(v float64) float64 {
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// contrast is WCAG's contrast ratio of two opaque colours.
func contrast(a, b rgba) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

var namedColors = map[string]string{"white": "#ffffff", "black": "#000000"}

// parseColor reads #rgb, #rgba, #rrggbb, #rrggbbaa, white or black.
func parseColor(s string) (rgba, error) {
	if n, ok := namedColors[s]; ok {
		s = n
	}
	hex, ok := strings.CutPrefix(s, "#")
	if !ok {
		return rgba{}, fmt.Errorf("colour %q: not one the check reads", s)
	}
	if len(hex) == 3 || len(hex) == 4 {
		var b strings.Builder
		for _, c := range hex {
			b.WriteRune(c)
			b.WriteRune(c)
		}
		hex = b.String()
	}
	if len(hex) == 6 {
		hex += "ff"
	}
	if len(hex) != 8 {
		return rgba{}, fmt.Errorf("colour %q: not 3, 4, 6 or 8 hex digits", s)
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return rgba{}, fmt.Errorf("colour %q: %w", s, err)
	}
	c := func(shift uint) float64 { return float64(v>>shift&0xff) / 255 }
	return rgba{c(24), c(16), c(8), c(0)}, nil
}

// cssRule is one rule of a style sheet: its selector, its declarations
// (the last of a property winning), and the media query it sits in.
type cssRule struct {
	media, selector string
	decl            map[string]string
}

var cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)

// parseCSS reads the rules of a style sheet: plain rules, and @media and
// @container blocks of them, which is all app.css has.
func parseCSS(css string) ([]cssRule, error) {
	rules, rest, err := parseBlock(cssComment.ReplaceAllString(css, ""), "")
	if err == nil && strings.TrimSpace(rest) != "" {
		err = fmt.Errorf("unexpected %.20q", rest)
	}
	return rules, err
}

// parseBlock reads rules from css until its end or an unmatched "}", and
// returns them and what follows.
func parseBlock(css, media string) ([]cssRule, string, error) {
	var rules []cssRule
	for {
		css = strings.TrimSpace(css)
		if css == "" || css[0] == '}' {
			return rules, css, nil
		}
		open := strings.IndexByte(css, '{')
		if open < 0 {
			return nil, "", fmt.Errorf("no block after %.30q", css)
		}
		prelude := strings.Join(strings.Fields(css[:open]), " ")
		css = css[open+1:]
		if strings.HasPrefix(prelude, "@media") || strings.HasPrefix(prelude, "@container") {
			inner, rest, err := parseBlock(css, prelude)
			if err != nil {
				return nil, "", err
			}
			if !strings.HasPrefix(rest, "}") {
				return nil, "", fmt.Errorf("%s: no closing brace", prelude)
			}
			rules, css = append(rules, inner...), rest[1:]
			continue
		}
		end := strings.IndexByte(css, '}')
		if end < 0 || strings.Contains(css[:end], "{") {
			return nil, "", fmt.Errorf("%s: no closing brace", prelude)
		}
		r := cssRule{media: media, selector: prelude, decl: map[string]string{}}
		for _, d := range strings.Split(css[:end], ";") {
			prop, value, ok := strings.Cut(d, ":")
			if !ok {
				continue
			}
			value = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "!important"))
			r.decl[strings.ToLower(strings.TrimSpace(prop))] = strings.Join(strings.Fields(value), " ")
		}
		rules, css = append(rules, r), css[end+1:]
	}
}

// colorPair is two colours measured, and what they must reach.
type colorPair struct {
	theme, rule, what string
	fg, bg            rgba
	ratio, need       float64
}

func (p colorPair) String() string {
	return fmt.Sprintf("%s theme: %s: %s %s on %s: %.2f:1, needs %.1f:1", p.theme, p.rule, p.what, p.fg, p.bg, p.ratio, p.need)
}

// contrastReport is what checkContrast measured.
type contrastReport struct {
	pairs    []colorPair
	surfaces map[string][]string // by theme, what text sits on (for the test's sanity checks)
	excepted map[[2]string]bool  // the exceptions used
}

// colorValue finds the colour in a declaration's value (a shorthand's
// colour among its other parts: "1px solid var(--line)"), or "" when it
// names none ("none", "url(icon.svg) center").
var colorValue = regexp.MustCompile(`(?i)var\(--[a-z0-9-]+(?:,[^)]*)?\)|#[0-9a-f]+\b|\b(?:transparent|currentcolor|inherit|white|black)\b|\b(?:rgba?|hsla?|color-mix)\(`)

// controlSelector matches the rules of controls, whose borders and
// outlines identify them: inputs, buttons, selects, the focus outline.
var controlSelector = regexp.MustCompile(`(^|[\s,>+~(])(button|input|textarea|select|\.button)\b|:focus`)

// checkContrast measures every colour pair of the style sheet css in both
// themes, but the declarations named in exceptions.
func checkContrast(css string, exceptions map[[2]string]string) (*contrastReport, error) {
	rules, err := parseCSS(css)
	if err != nil {
		return nil, fmt.Errorf("parse the style sheet: %w", err)
	}
	report := &contrastReport{surfaces: map[string][]string{}, excepted: map[[2]string]bool{}}
	excepted := func(r cssRule, prop string) bool {
		k := [2]string{r.selector, prop}
		if _, ok := exceptions[k]; ok {
			report.excepted[k] = true
			return true
		}
		return false
	}
	const dark = "prefers-color-scheme: dark"
	for _, theme := range []string{"light", "dark"} {
		// The rules of this theme, and its variables.
		var themed []cssRule
		vars := map[string]string{}
		for _, r := range rules {
			if (theme == "light" && strings.Contains(r.media, dark)) || (theme == "dark" && strings.Contains(r.media, "prefers-color-scheme: light")) {
				continue
			}
			if r.selector == ":root" {
				for k, v := range r.decl {
					if strings.HasPrefix(k, "--") {
						vars[k] = v
					}
				}
			}
			themed = append(themed, r)
		}
		// resolve returns the colour in value: ok false when it names none
		// (or inherits, which is measured where it is set).
		var resolve func(value string, depth int) (rgba, bool, error)
		resolve = func(value string, depth int) (rgba, bool, error) {
			m := colorValue.FindString(value)
			lower := strings.ToLower(m)
			switch {
			case m == "", lower == "inherit", lower == "currentcolor":
				return rgba{}, false, nil
			case lower == "transparent":
				return rgba{}, false, nil
			case strings.HasPrefix(lower, "var("):
				name, fallback, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(m, "var("), ")"), ",")
				v, ok := vars[strings.TrimSpace(name)]
				if !ok {
					v = strings.TrimSpace(fallback)
				}
				if v == "" || depth > 10 {
					return rgba{}, false, fmt.Errorf("%s: no such variable", m)
				}
				return resolve(v, depth+1)
			case strings.HasSuffix(m, "("):
				return rgba{}, false, fmt.Errorf("%q: a colour function the check does not read", value)
			}
			c, err := parseColor(lower)
			return c, err == nil, err
		}
		colorOf := func(r cssRule, prop string) (rgba, bool, error) {
			v, ok := r.decl[prop]
			if !ok || excepted(r, prop) {
				return rgba{}, false, nil
			}
			c, ok, err := resolve(v, 0)
			if err != nil {
				return rgba{}, false, fmt.Errorf("%s theme: %s { %s: %s }: %w", theme, r.selector, prop, v, err)
			}
			return c, ok, nil
		}
		background := func(r cssRule) (rgba, bool, error) {
			if c, ok, err := colorOf(r, "background-color"); ok || err != nil {
				return c, ok, err
			}
			return colorOf(r, "background")
		}
		// The page's colours, and the surfaces text sits on: the page's
		// background and every background set by a rule that leaves the
		// text's colour to what it holds.
		var ink rgba
		surfaces := map[rgba][]string{}
		for _, r := range themed {
			bg, hasBG, err := background(r)
			if err != nil {
				return nil, err
			}
			fg, hasFG, err := colorOf(r, "color")
			if err != nil {
				return nil, err
			}
			if r.selector == ":root" && hasFG {
				ink = fg
			}
			if hasBG && (!hasFG || r.selector == ":root") {
				s := bg.over(white)
				surfaces[s] = append(surfaces[s], r.selector)
			}
		}
		if len(surfaces) == 0 {
			surfaces[white] = []string{"the browser's default"}
		}
		if ink == (rgba{}) {
			ink = rgba{0, 0, 0, 1}
		}
		var under []rgba
		for s := range surfaces {
			under = append(under, s)
		}
		slices.SortFunc(under, func(a, b rgba) int { return strings.Compare(a.String(), b.String()) })
		for _, s := range under {
			report.surfaces[theme] = append(report.surfaces[theme], fmt.Sprintf("%s (%s)", s, strings.Join(surfaces[s], "; ")))
		}
		// Every colour text takes, for text of a faded rule that sets none.
		var inks []rgba
		for _, r := range themed {
			if fg, ok, err := colorOf(r, "color"); err == nil && ok && !slices.Contains(inks, fg) {
				inks = append(inks, fg)
			}
		}
		if !slices.Contains(inks, ink) {
			inks = append(inks, ink)
		}

		add := func(r cssRule, what string, fg, bg rgba, need float64) {
			p := colorPair{theme: theme, rule: r.selector, what: what, fg: fg, bg: bg, ratio: contrast(fg, bg), need: need}
			if !slices.Contains(report.pairs, p) {
				report.pairs = append(report.pairs, p)
			}
		}
		for _, r := range themed {
			fg, hasFG, err := colorOf(r, "color")
			if err != nil {
				return nil, err
			}
			bg, hasBG, err := background(r)
			if err != nil {
				return nil, err
			}
			alpha := 1.0
			if v, ok := r.decl["opacity"]; ok && !excepted(r, "opacity") {
				if alpha, err = strconv.ParseFloat(v, 64); err != nil {
					return nil, fmt.Errorf("%s { opacity: %s }: %w", r.selector, v, err)
				}
			}
			// fade is what c becomes under the rule's opacity, over s.
			fade := func(c, s rgba) rgba { return rgba{c.r, c.g, c.b, alpha}.over(s) }
			need := textContrast
			if large(r) {
				need = largeContrast
			}
			// Text: the rule's colour on its background, or on every
			// surface; a faded rule's text that it does not colour, in
			// every colour text takes.
			for _, s := range under {
				fill := s
				if hasBG {
					fill = bg.over(s)
				}
				switch {
				case hasFG:
					add(r, "text", fade(fg.over(fill), s), fade(fill, s), need)
				case alpha < 1:
					for _, c := range inks {
						add(r, "faded text", fade(c.over(fill), s), fade(fill, s), need)
					}
				}
			}
			// A control's border and outline.
			if !controlSelector.MatchString(r.selector) {
				continue
			}
			for _, prop := range []string{"border", "border-color", "border-top", "border-right", "border-bottom", "border-left", "outline", "outline-color"} {
				v, ok := r.decl[prop]
				if !ok || excepted(r, prop) {
					continue
				}
				line, hasLine, err := resolve(v, 0)
				if err != nil {
					return nil, fmt.Errorf("%s theme: %s { %s: %s }: %w", theme, r.selector, prop, v, err)
				}
				if strings.Contains(strings.ToLower(v), "currentcolor") {
					line, hasLine = fg, hasFG
					if !hasFG {
						line, hasLine = ink, true
					}
				}
				if !hasLine {
					continue
				}
				// The line against what is around the control, and a
				// border against the control's own fill too, unless it is
				// that fill (then the fill's edge is the boundary).
				for _, s := range under {
					add(r, prop, fade(line.over(s), s), s, nonTextContrast)
					if fill := bg.over(s); hasBG && !strings.HasPrefix(prop, "outline") && line.over(fill) != fill {
						add(r, prop+" on the control's fill", fade(line.over(fill), s), fade(fill, s), nonTextContrast)
					}
				}
			}
		}
	}
	return report, nil
}

// large tells whether r's text is large for WCAG: 24px, or 18.66px bold,
// at the 16px of the root font size (an em counted as a rem).
func large(r cssRule) bool {
	size := 16.0
	if v, ok := r.decl["font-size"]; ok {
		for _, unit := range []struct {
			suffix string
			px     float64
		}{{"rem", 16}, {"em", 16}, {"px", 1}} {
			if n, ok := strings.CutSuffix(v, unit.suffix); ok {
				if f, err := strconv.ParseFloat(n, 64); err == nil {
					size = f * unit.px
				}
				break
			}
		}
	}
	w := r.decl["font-weight"]
	bold := w == "bold" || w == "600" || w == "700" || w == "800" || w == "900"
	return size >= 24 || (bold && size >= 18.66)
}
