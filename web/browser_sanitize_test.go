package web_test

import (
	"strings"
	"testing"

	"github.com/backchannel/backchannel/node"
)

// TestBrowserRemoteText: a message whose body holds an escape sequence and
// a right-to-left override shows each as a visible token (the ESC as
// "\x1b", the override as "U+202E") in a styled span, the override does not
// reorder the text after it ("gnp" still reads before ".exe"), and the body
// is isolated (dir="auto", unicode-bidi: isolate). dom.js's functions, as
// every screen uses them, turn each kind of character into its token.
func TestBrowserRemoteText(t *testing.T) {
	browser := newBrowser(t)
	alice := newUser(t, browser, "Alice")
	bob := newUser(t, browser, "Bob")
	befriend(t, alice, bob)

	const body = "hi\x1b[2J\x1b[31mRED see gnp\u202e.exe now"
	if _, err := bob.n.Send(t.Context(), alice.n.ID(), node.Outgoing{Kind: "text", Body: body}); err != nil {
		t.Fatal(err)
	}
	alice.goTo("#/chat/"+bob.peerID(), "chat")
	const msg = `document.querySelector('#thread-log .msg.inbound .body')`
	alice.waitJS("Bob's message", msg+` && `+msg+`.textContent.includes('RED')`)

	text := eval[string](alice, msg+`.textContent`)
	if want := `hi\x1b[2J\x1b[31mRED see gnpU+202E.exe now`; text != want {
		t.Errorf("body reads %q, want %q", text, want)
	}
	if strings.ContainsAny(text, "\x1b\u202e") {
		t.Errorf("raw controls in the page: %q", text)
	}
	tokens := eval[[]string](alice, `[...`+msg+`.querySelectorAll('.ctl')].map(e => e.textContent)`)
	if strings.Join(tokens, " ") != `\x1b \x1b U+202E` {
		t.Errorf("tokens %q", tokens)
	}
	if got := eval[string](alice, `(() => { const r = `+msg+`.querySelector('.remote'); return r.getAttribute('dir') + ' ' + getComputedStyle(r).unicodeBidi })()`); got != "auto isolate" {
		t.Errorf("the body's text is %q, want dir auto and unicode-bidi isolate", got)
	}
	// Where "gnp" and ".exe" are drawn: left to right, as written. With the
	// override acting, ".exe" would be drawn reversed, left of "gnp".
	inOrder := func(el string) bool {
		return eval[bool](alice, `(() => {
		const el = `+el+`;
		const at = s => {
			const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
			for (let n; (n = w.nextNode());) {
				const i = n.data.indexOf(s);
				if (i < 0) continue;
				const r = document.createRange();
				r.setStart(n, i); r.setEnd(n, i + s.length);
				return r.getBoundingClientRect().left;
			}
			return NaN;
		};
		return at('gnp') < at('.exe') && at('see') < at('gnp') && at('.exe') < at('now');
	})()`)
	}
	if !inOrder(msg) {
		t.Error("the text around the override is drawn out of order")
	}
	alice.shot("remote-text")
	// The check sees the attack: the same text set raw reads out of order.
	raw := `(() => { const p = document.createElement('p'); p.textContent = ` + jsString(body) + `; document.body.append(p); return p })()`
	if inOrder(raw) {
		t.Error("the order check does not see a raw override")
	}

	// The functions themselves, on every kind of character.
	got := eval[map[string]string](alice, `import('/ui/js/dom.js').then(d => {
		const cases = {nul: '\0', tab: 'a\tb', nl: 'a\nb', del: '\x7f', c1: '\x9b', lrm: '\u200e', rlm: '\u200f',
			alm: '\u061c', lre: '\u202a', pdi: '\u2069', ls: '\u2028', plain: 'Zoë مریم 🙂'};
		const out = {};
		for (const [k, v] of Object.entries(cases)) out[k] = d.remote(v).textContent;
		out.multiline = d.remote('a\nb\tc\x1b', {multiline: true}).textContent;
		out.visible = d.visible('x\x1b\u202ey');
		out.h = d.h('p', {title: 't\u202e'}, 'in h\x1b').outerHTML;
		return out;
	})`)
	for k, want := range map[string]string{
		"nul": `\x00`, "tab": `a\tb`, "nl": `a\nb`, "del": `\x7f`, "c1": `\u009b`, "lrm": "U+200E", "rlm": "U+200F",
		"alm": "U+061C", "lre": "U+202A", "pdi": "U+2069", "ls": "U+2028", "plain": "Zoë مریم 🙂",
		"multiline": "a\nb\tc\\x1b", "visible": `x\x1bU+202Ey`,
		"h": `<p title="tU+202E">in h<span class="ctl" title="hidden character U+001B from the sender, shown instead of acting">\x1b</span></p>`,
	} {
		if got[k] != want {
			t.Errorf("%s: got %q, want %q", k, got[k], want)
		}
	}
}
