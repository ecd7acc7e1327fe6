package web_test

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/web"
)

// staticImport is a module's static import of another by a relative path.
var staticImport = regexp.MustCompile(`(?m)^\s*import\s+(?:[^;'(]*?from\s+)?'(\.\.?/[^']+)'`)

// moduleGraph returns the names of the modules a browser loads for the
// modules named (paths in web.FS()): them, and what they import
// statically, transitively; dynamic imports (import()) are not followed.
func moduleGraph(t *testing.T, names ...string) []string {
	t.Helper()
	seen := map[string]bool{}
	for len(names) > 0 {
		name := names[0]
		names = names[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		src, err := fs.ReadFile(web.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range staticImport.FindAllStringSubmatch(string(src), -1) {
			names = append(names, path.Join(path.Dir(name), m[1]))
		}
	}
	var all []string
	for name := range seen {
		all = append(all, name)
	}
	slices.Sort(all)
	return all
}

// TestBrowserLazy: the app's page loads its shell and the screen it opens
// on, not every screen: on the Inbox, app.js, what it imports (dom.js,
// api.js), inbox.js and what that imports; another screen's module comes
// when the screen is first opened. All of them from the versioned path the
// page names. Two routes in a row, while neither screen is loaded, mount
// only the second.
func TestBrowserLazy(t *testing.T) {
	browser := newBrowser(t)
	u := newUser(t, browser, "Solo")
	u.waitJS("the inbox", `document.querySelector('main').dataset.screen === 'inbox'`)

	// The page's scripts, as paths under the version, in load order.
	scripts := func() []string {
		t.Helper()
		return eval[[]string](u, `performance.getEntriesByType('resource').map(e => new URL(e.name).pathname).filter(p => p.endsWith('.js'))`)
	}
	prefix := regexp.MustCompile(`^/ui/v/[0-9a-f]{16}/`)
	names := func() []string {
		t.Helper()
		var out []string
		for _, p := range scripts() {
			loc := prefix.FindStringIndex(p)
			if loc == nil {
				t.Errorf("script %s not from a versioned path", p)
				continue
			}
			out = append(out, p[loc[1]:])
		}
		slices.Sort(out)
		return slices.Compact(out)
	}

	want := moduleGraph(t, "js/app.js", "js/screens/inbox.js")
	for _, shell := range []string{"js/app.js", "js/dom.js", "js/api.js", "js/screens/inbox.js"} {
		if !slices.Contains(want, shell) {
			t.Errorf("the Inbox's modules %v lack %s", want, shell)
		}
	}
	// What the Inbox needs must leave the other screens out, or this
	// test proves nothing.
	for _, other := range []string{"requests", "thread", "groups", "group", "rooms", "room", "identity", "status"} {
		if m := "js/screens/" + other + ".js"; slices.Contains(want, m) {
			t.Errorf("the shell or the Inbox imports %s statically: it is loaded before its screen opens", m)
		}
	}
	if got := names(); !slices.Equal(got, want) {
		t.Errorf("the Inbox loaded %v, want %v", got, want)
	}

	// Another screen: its module (and what it imports) comes now.
	u.goTo("#/rooms", "rooms")
	u.waitJS("the Rooms screen drawn", `document.querySelector('main h1')?.textContent.length > 0`)
	want = moduleGraph(t, "js/app.js", "js/screens/inbox.js", "js/screens/rooms.js")
	if got := names(); !slices.Equal(got, want) {
		t.Errorf("after opening Rooms, loaded %v, want %v", got, want)
	}
	if eval[string](u, `document.activeElement?.tagName`) != "H1" {
		t.Errorf("focus after opening Rooms: %s, want its heading", eval[string](u, `document.activeElement?.outerHTML`))
	}

	// Two routes while neither module has loaded: the first never mounts.
	eval[bool](u, `(() => {
		window.mounted = [];
		const main = document.querySelector('main');
		new MutationObserver(() => { if (main.dataset.screen) window.mounted.push(main.dataset.screen) })
			.observe(main, {attributes: true, attributeFilter: ['data-screen']});
		location.hash = '#/identity';
		setTimeout(() => { location.hash = '#/status' }, 0);
		return true;
	})()`)
	u.waitJS("the Status screen", `document.querySelector('main').dataset.screen === 'status' && document.querySelector('#st-peer') !== null`)
	// Once the Identity module has loaded (the same module as the route's,
	// so its import settles with the route's) and a task has run after it,
	// its route has gone as far as it will.
	if !eval[bool](u, `import(new URL('screens/identity.js', document.querySelector('script[type=module]').src))
		.then(() => new Promise(done => setTimeout(() => done(true), 0)))`) {
		t.Fatal("the Identity module did not load")
	}
	if got := eval[[]string](u, `window.mounted`); !slices.Equal(got, []string{"status"}) {
		t.Errorf("screens mounted after two quick routes: %v, want only status", got)
	}
	if got := eval[string](u, `document.title`); !strings.HasPrefix(got, "Status") {
		t.Errorf("title %q", got)
	}
}
