package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/nodeapi"
	"github.com/backchannel/backchannel/demo"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
	"github.com/backchannel/backchannel/web"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// waitLimit bounds each wait for something to show in a browser: generous,
// since the race detector on a busy 2-core machine is slow.
const waitLimit = 45 * time.Second

// newBrowser starts one headless Chromium for the test; each user gets a
// browser context of its own in it (its own cookies), which costs far less
// than a browser each. Without Chromium the test is skipped, or fails when
// $CI is set.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium is missing at %s: .ci/run installs it (apt-get install chromium)", chromiumPath)
		}
		t.Skipf("Chromium is not installed at %s (apt-get install chromium): skipping the browser tests", chromiumPath)
	}
	// Only the flags we name: the ones that keep Chromium from reaching the
	// internet, and a fresh profile.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider"),
		// Every tab is "visible" and keeps its timers, as in a person's windows.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 850),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	if err := chromedp.Do(root); err != nil { // starts the browser
		cancelRoot()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
	})
	return root
}

// user is a real node with its API server and web UI on loopback, and a
// browser tab (in a browser context of its own) showing the UI.
type user struct {
	t    *testing.T
	name string
	home string
	n    *node.Node
	url  string
	tab  context.Context
	reg  *prometheus.Registry
	srv  *api.Server

	mu       sync.Mutex
	jsErrors []string
	done     bool
}

func newUser(t *testing.T, browser context.Context, name string, bootstrap ...string) *user {
	t.Helper()
	return newUserWith(t, browser, name, nil, bootstrap...)
}

// newUserWith is newUser whose node's config mod changes first (nil: none).
func newUserWith(t *testing.T, browser context.Context, name string, mod func(*node.Config), bootstrap ...string) *user {
	t.Helper()
	home := t.TempDir()
	cfg := node.Config{
		Home:             home,
		ListenAddrs:      []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:        bootstrap,
		Gater:            &node.LoopbackGater{},
		RetryBase:        20 * time.Millisecond,
		RetryMax:         500 * time.Millisecond,
		PubSubHeartbeat:  50 * time.Millisecond,
		RoomSyncInterval: 300 * time.Millisecond,
		// Group members ask each other for what they missed, and tell how
		// far they read, sooner than by default.
		GroupSyncInterval: 200 * time.Millisecond,
		GroupReceiptDelay: 100 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := api.New(api.Config{Home: home, Backend: nodeapi.New(n), UI: web.FS(), Registry: reg})
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	u := &user{t: t, name: name, home: home, n: n, url: "http://" + srv.Addr() + "/", reg: reg, srv: srv}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("%s: api Close: %v", name, err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("%s: node Close: %v", name, err)
		}
		if r := n.Gater().Refused(); r != 0 {
			t.Errorf("%s: the gater refused %d non-loopback dials or connections", name, r)
		}
	})
	if err := n.SetProfileName(name); err != nil {
		t.Fatal(err)
	}
	u.openTab(browser)
	// Log in as a user would: open a one-time login link.
	link, err := srv.LoginURL(api.LoginLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(u.tab, chromedp.Navigate(link.URL)); err != nil {
		t.Fatalf("%s: open the UI: %v", name, err)
	}
	u.waitJS("the UI has started", `document.querySelectorAll('#nav a').length >= 5`)
	return u
}

// openTab gives u a tab in a browser context of its own (its own cookies),
// not logged in.
func (u *user) openTab(browser context.Context) {
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(u.listen))
	u.t.Cleanup(func() {
		u.mu.Lock()
		u.done = true
		errs := u.jsErrors
		u.mu.Unlock()
		for _, e := range errs {
			u.t.Errorf("%s: JavaScript error in the page: %s", u.name, e)
		}
		cancelTab()
	})
	if err := chromedp.Do(tab); err != nil { // the first Run opens the tab: no timeout
		u.t.Fatalf("%s: open a tab: %v", u.name, err)
	}
	u.tab = tab
}

// newTab returns another visitor of u's UI, in a browser context of its
// own and not logged in.
func (u *user) newTab(browser context.Context, name string) *user {
	v := &user{t: u.t, name: name, home: u.home, n: u.n, url: u.url, reg: u.reg, srv: u.srv}
	v.openTab(browser)
	return v
}

// listen records uncaught exceptions and console errors in the page.
func (u *user) listen(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil && e.ExceptionDetails.Exception.Description != "" {
			msg += ": " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range e.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, string(a.Value))
			}
		}
		msg = "console.error: " + strings.Join(parts, " ")
	default:
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.done {
		u.jsErrors = append(u.jsErrors, msg)
	}
}

func (u *user) peerID() string { return u.n.ID().String() }

// do runs browser actions with a deadline.
func (u *user) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.tab, waitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.shot("failed-" + u.name)
		u.t.Fatalf("%s: %s: %v", u.name, what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](u *user, expr string) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.tab, waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("%s: evaluate %s: %v", u.name, expr, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is true in the page: what
// the UI shows changes live, from the event stream, so nothing reloads.
func (u *user) waitJS(what, expr string) {
	u.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		if eval[bool](u, `!!(()=>{ try { return `+expr+` } catch (e) { return false } })()`) {
			return
		}
		if time.Now().After(deadline) {
			u.shot("timeout-" + u.name)
			u.t.Fatalf("%s: gave up after %v waiting for %s", u.name, waitLimit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// goTo moves to a screen as a click in the navigation would.
func (u *user) goTo(hash, screen string) {
	u.t.Helper()
	eval[string](u, fmt.Sprintf(`location.hash = %q`, hash))
	u.waitJS("screen "+screen, fmt.Sprintf(`document.querySelector('main').dataset.screen === %q`, screen))
}

// click clicks the first element that matches css once it is there and
// enabled. It clicks from inside the page, in one step: lists redraw live,
// and a node found by one protocol call may be gone by the next.
func (u *user) click(css string) {
	u.t.Helper()
	u.waitJS("to click "+css, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e || e.disabled || e.getAttribute("aria-disabled") === "true") return false; e.click(); return true })()`, css))
}

func (u *user) typeIn(css, text string) {
	u.t.Helper()
	u.do("type into "+css, chromedp.SendKeys(chromedp.CSS(css), text))
}

// containsText is a JavaScript test that some element matching css holds
// text.
func containsText(css, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.textContent.includes(%q))`, css, text)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// screenshotDir is where shot writes: docs/ when BACKCHANNEL_SCREENSHOTS=docs
// (to refresh the README's pictures), else a folder that outlives the test
// in the system's temporary folder.
var screenshotDir = sync.OnceValue(func() string {
	if os.Getenv("BACKCHANNEL_SCREENSHOTS") == "docs" {
		return filepath.Join("..", "docs")
	}
	dir, err := os.MkdirTemp("", "backchannel-screenshots-")
	if err != nil {
		return os.TempDir()
	}
	return dir
})

// shot writes a screenshot of the tab as ui-NAME.png, after checking that
// every form field on screen has a label and every button a name.
func (u *user) shot(name string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.tab, waitLimit)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Errorf("%s: screenshot %s: %v", u.name, name, err)
		return
	}
	path := filepath.Join(screenshotDir(), "ui-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		u.t.Errorf("screenshot: %v", err)
		return
	}
	u.t.Logf("screenshot %s", path)
	if strings.HasPrefix(name, "failed-") || strings.HasPrefix(name, "timeout-") {
		return
	}
	unlabelled := eval[[]string](u, `[...document.querySelectorAll('input, textarea, select, button')]
		.filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
		.map(e => e.outerHTML.slice(0, 80))`)
	for _, e := range unlabelled {
		u.t.Errorf("%s: screen %s: a control without a label or name: %s", u.name, name, e)
	}
}

// TestBrowserRequestChat: two users in two browsers. Bob adds Alice from her
// invite and writes; the message is a request on Alice's side, with Bob
// nowhere in her inbox; she accepts; they chat, with typing, read receipts,
// a reply and a reaction, each side seeing the other's doing live.
func TestBrowserRequestChat(t *testing.T) {
	browser := newBrowser(t)
	alice := newUser(t, browser, "Alice")
	bob := newUser(t, browser, "Bob")

	// Alice's identity: her invite link and its QR code.
	alice.goTo("#/identity", "identity")
	alice.waitJS("the invite link", `document.querySelector('#invite-link').value.startsWith('backchannel://invite')`)
	alice.waitJS("the QR code", `document.querySelector('#invite-qr').naturalWidth > 100`)
	invite := eval[string](alice, `document.querySelector('#invite-link').value`)
	if invite != alice.n.Self().Invite {
		t.Errorf("the UI shows invite %q, the node has %q", invite, alice.n.Self().Invite)
	}
	alice.shot("identity")

	// Bob adds Alice and writes to her from the inbox.
	bob.goTo("#/identity", "identity")
	bob.do("paste the invite", chromedp.SetValue(chromedp.CSS("#f-add-contact-invite"), invite))
	bob.typeIn("#f-add-contact-name", "Alice")
	bob.click(".add-contact button[type=submit]")
	bob.waitJS("Alice among Bob's contacts", containsText("#contacts-list .contact", "Alice"))
	bob.goTo("#/inbox", "inbox")
	bob.typeIn("#f-new-chat-to", "Alice")
	bob.typeIn("#f-new-chat-text", "Hi Alice, it's Bob")
	bob.click(".new-chat button[type=submit]")
	bob.waitJS("the thread with Alice", `location.hash === '#/chat/`+alice.peerID()+`'`)
	bob.waitJS("Bob's message delivered", `document.querySelector('#thread-log .msg.outbound[data-state="delivered"]') !== null`)

	// A request on Alice's side, live; not in her inbox.
	alice.goTo("#/requests", "requests")
	alice.waitJS("Bob's request", containsText("#requests-list .request", "Hi Alice, it's Bob"))
	alice.waitJS("the requests badge", `document.querySelector('#badge-requests').textContent === '1'`)
	alice.shot("requests")
	alice.goTo("#/inbox", "inbox")
	alice.waitJS("an empty inbox", `document.querySelectorAll('#inbox-list li').length === 0 && !document.querySelector('.empty').hidden`)
	alice.goTo("#/requests", "requests")
	alice.waitJS("the focus on the new screen's heading", `document.activeElement.tagName === 'H1'`)
	alice.waitJS("Bob's request", containsText("#requests-list .request", "Hi Alice, it's Bob"))
	alice.click(`#requests-list .request[data-peer="` + bob.peerID() + `"] button.primary`)
	alice.waitJS("the thread with Bob", `location.hash === '#/chat/`+bob.peerID()+`'`)
	alice.waitJS("Bob's message in the thread", containsText("#thread-log .msg.inbound", "Hi Alice, it's Bob"))

	// Alice opened it: Bob sees it read.
	bob.waitJS("Bob's message read", `document.querySelector('#thread-log .msg.outbound[data-state="read"]') !== null`)

	// Alice types: Bob sees it; she sends.
	alice.typeIn("#composer", "Hello Bob!")
	bob.waitJS("Alice typing", `document.querySelector('#typing').textContent.includes('is typing')`)
	alice.click("#composer-form button[type=submit]")
	bob.waitJS("Alice's reply", containsText("#thread-log .msg.inbound", "Hello Bob!"))
	bob.waitJS("the typing notice gone", `document.querySelector('#typing').textContent === ''`)

	// Bob reacts to it; Alice sees the reaction on her message.
	bob.click(`#thread-log .msg.inbound:last-child button.react`)
	alice.waitJS("Bob's reaction", containsText("#thread-log .msg.outbound .reactions", "👍"))

	// Alice replies to Bob's first message; Bob sees it quoted.
	// By keyboard: the Reply button puts the focus in the composer, and
	// Enter sends.
	alice.click(`#thread-log .msg.inbound button.link`)
	alice.waitJS("the focus in the composer", `document.activeElement.id === 'composer'`)
	alice.typeIn("#composer", "Welcome!\r")
	bob.waitJS("Alice's reply, quoting", containsText("#thread-log .msg.inbound .quote", "Hi Alice, it's Bob"))
	alice.waitJS("Alice's messages read", `document.querySelectorAll('#thread-log .msg.outbound[data-state="read"]').length === 2`)
	alice.shot("thread")

	// Bob's inbox: the conversation with its last message.
	bob.goTo("#/inbox", "inbox")
	bob.waitJS("Alice in Bob's inbox", containsText("#inbox-list .conversation", "Alice"))
	bob.shot("inbox")

	// The safety number, and the verified mark.
	alice.goTo("#/chat/"+bob.peerID(), "chat")
	alice.click("#safety summary")
	alice.waitJS("the safety number", `/^(\d{5} ){11}\d{5}$/.test(document.querySelector('#safety-digits')?.textContent || '')`)
	alice.click("#verify-button")
	alice.waitJS("the verified mark", containsText("#verified-mark", "verified"))

	// A narrow window: one column, everything reachable.
	alice.do("narrow window", chromedp.EmulateViewport(390, 800))
	alice.waitJS("the composer fits", `document.querySelector('#composer').getBoundingClientRect().right <= 390`)
	alice.shot("thread-narrow")
	alice.do("wide window", chromedp.EmulateViewport(1200, 850))

	// Typing, reading and reacting went over the 1:1 protocol: Bob's node
	// holds Alice's reply and his reaction.
	kinds := messageKinds(t, bob, alice)
	if kinds["text"] != 2 || kinds["reaction"] != 1 || kinds["reply"] != 1 {
		t.Errorf("Bob's thread holds %v, want 2 texts, 1 reaction, 1 reply", kinds)
	}
}

// TestBrowserRoom: a host and two listeners, each in a browser. The host
// creates a room; one listener joins it by ID, the other by name through
// the DHT. A question is asked, upvoted and marked answered, and every
// browser sees each step live.
func TestBrowserRoom(t *testing.T) {
	browser := newBrowser(t)
	host := newUser(t, browser, "Host")
	boot := host.n.Addrs()[0].String() + "/p2p/" + host.peerID()
	lee := newUser(t, browser, "Lee", boot)
	kim := newUser(t, browser, "Kim", boot)
	everyone := []*user{host, lee, kim}

	host.goTo("#/rooms", "rooms")
	host.typeIn("#f-create-room-name", "Town Hall")
	host.typeIn("#f-create-room-description", "Questions for the mayor")
	host.click(".create-room button[type=submit]")
	host.waitJS("the new room", `location.hash.startsWith('#/room/') && document.querySelector('#room-title').textContent === 'Town Hall'`)
	roomID := strings.TrimPrefix(eval[string](host, `location.hash`), "#/room/")
	host.typeIn("#room-say", "Welcome, everyone")
	host.click(".room-say-form button[type=submit]")

	lee.goTo("#/rooms", "rooms")
	lee.typeIn("#f-join-room-ref", roomID)
	lee.click(".join-room button[type=submit]")
	lee.waitJS("Lee in the room", `location.hash === '#/room/`+roomID+`'`)

	// Kim finds it by name: the DHT may need a moment after the host
	// announced it, so Kim tries again while the UI says it found none.
	kim.goTo("#/rooms", "rooms")
	kim.typeIn("#f-join-room-ref", "town hall")
	deadline := time.Now().Add(waitLimit)
	for {
		kim.click(".join-room button[type=submit]")
		kim.waitJS("an answer to the join", `location.hash.startsWith('#/room/') || document.querySelector('.join-room .form-status').textContent !== ''`)
		if eval[string](kim, `location.hash`) == "#/room/"+roomID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Kim could not join by name: %s", eval[string](kim, `document.querySelector('.join-room .form-status').textContent`))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, u := range everyone {
		u.waitJS("the host's welcome", containsText("#room-chat .chat-line", "Welcome, everyone"))
	}

	// Lee asks; everyone sees it.
	const question = "When does the bridge reopen?"
	lee.typeIn("#room-ask", question)
	lee.click(".room-ask-form button[type=submit]")
	for _, u := range everyone {
		u.waitJS("the question", containsText("#questions .question .q-text", question))
	}

	// Kim upvotes it; everyone sees one vote.
	kim.click(`#questions .question button.upvote`)
	for _, u := range everyone {
		u.waitJS("one upvote", `document.querySelector('#questions .question').dataset.upvotes === '1'`)
	}

	// A listener cannot answer (the host's tools are not shown to them
	// unless asked for, and the room refuses it), the host can.
	lee.click("#mod-tools")
	lee.click(`#questions .question button.mod`)
	lee.waitJS("the refusal", containsText("#room-status", "host or a moderator"))
	host.click(`#questions .question button.mod`)
	for _, u := range everyone {
		u.waitJS("the question answered", `document.querySelector('#questions .question.answered .answered-tag') !== null`)
	}
	host.waitJS("who is here", containsText("#room-who", "2 listening"))

	// The host makes Lee a moderator from Lee's chat line; Lee can now pin.
	lee.typeIn("#room-say", "Thanks for answering")
	lee.click(".room-say-form button[type=submit]")
	host.click(`#room-chat .chat-line button.mod[aria-label^="Make moderator:"]`)
	deadline = time.Now().Add(waitLimit)
	for {
		lee.click(`#questions .question button.mod[aria-label^="Pin"]`)
		lee.waitJS("the pin done or refused", `document.querySelector('#questions .question.pinned') !== null || document.querySelector('#room-status').textContent !== ''`)
		if eval[bool](lee, `document.querySelector('#questions .question.pinned') !== null`) {
			break
		}
		// Refused: the grant has not reached Lee's node yet. Try again.
		if time.Now().After(deadline) {
			t.Fatalf("Lee could not pin after the grant: %s", eval[string](lee, `document.querySelector('#room-status').textContent`))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, u := range everyone {
		u.waitJS("the question pinned", `document.querySelector('#questions .question.pinned .pinned-tag') !== null`)
	}
	host.shot("room")

	// Kim asks the host privately: an end-to-end 1:1 message from the room,
	// a request on the host's side that says which room it came from.
	kim.waitJS("the private question form", `!document.querySelector('.private-form').hidden`)
	kim.typeIn("#private-text", "Can we talk after the session?")
	kim.click(".private-form button[type=submit]")
	kim.waitJS("the private question sent", containsText(".private-form .form-status", "Sent"))
	host.goTo("#/requests", "requests")
	host.waitJS("the private question, from the room", containsText("#requests-list .request-context", "Sent from room “Town Hall”"))
	host.shot("requests-from-room")
	host.click(`#requests-list .request button.primary`)
	host.waitJS("the room named in the thread", containsText("#thread-log .context-tag", "Town Hall"))

	kim.goTo("#/rooms", "rooms")
	kim.waitJS("Town Hall listed", containsText("#rooms-list .room-item", "Town Hall"))
	kim.shot("rooms")
	kim.goTo("#/status", "status")
	kim.waitJS("Kim's peers", `Number(document.querySelector('#st-peers')?.textContent) >= 1`)
	kim.shot("status")
	// The host accepted Kim: its status lists Kim among the contacts
	// online, with how they are linked.
	host.goTo("#/status", "status")
	host.waitJS("Kim online, linked directly", containsText("#st-links", "direct"))
	host.shot("status-links")
}

// TestBrowserOtherOrigin: a page from another origin (another port of
// 127.0.0.1, which browsers count as the same site, so the session cookie
// goes along) cannot use the API of a browser that has the UI's session:
// it cannot read an answer, cannot send without the CSRF header, and
// cannot open the event stream.
func TestBrowserOtherOrigin(t *testing.T) {
	browser := newBrowser(t)
	alice := newUser(t, browser, "Alice")
	api := strings.TrimSuffix(alice.url, "/")
	target := "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
	page := `<!doctype html><title>elsewhere</title><script>
window.results = (async () => {
  const api = ` + jsString(api) + `, r = {};
  try { await fetch(api + '/v1/id', {credentials: 'include', headers: {'X-Backchannel-CSRF': 'guess'}}); r.read = 'read'; }
  catch (e) { r.read = 'blocked'; }
  try {
    const resp = await fetch(api + '/v1/id', {credentials: 'include'});
    r.plain = 'read ' + resp.status;
  } catch (e) { r.plain = 'blocked'; }
  await fetch(api + '/v1/messages', {method: 'POST', mode: 'no-cors', credentials: 'include',
    headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({to: ` + jsString(target) + `, text: 'from elsewhere'})}).catch(() => {});
  r.ws = await new Promise(res => {
    const ws = new WebSocket(api.replace('http:', 'ws:') + '/v1/events');
    ws.onopen = () => res('open');
    ws.onerror = () => res('refused');
  });
  return r;
})();
</script>`
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page)
	}))
	defer other.Close()
	if !strings.HasPrefix(other.URL, "http://127.0.0.1:") {
		t.Fatalf("the other origin %s is not on loopback", other.URL)
	}

	alice.do("open the other page", chromedp.Navigate(other.URL))
	got := eval[map[string]string](alice, `window.results`)
	want := map[string]string{"read": "blocked", "plain": "blocked", "ws": "refused"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("from another origin, %s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	cs, err := alice.n.Contacts()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Peer.String() == target {
			t.Errorf("a page from another origin made Alice write to %s", target)
		}
	}
	// The requests did reach the server, which refused them (403).
	if n := refused(t, alice.reg); n < 4 {
		t.Errorf("the API refused %d requests with 403, want the 4 from the other origin", n)
	}
	// The UI itself still works in that browser.
	alice.do("back to the UI", chromedp.Navigate(alice.url+"#/status"))
	alice.waitJS("the status screen", `document.querySelector('#st-peer') !== null`)
}

// refused counts the API's 403 answers.
func refused(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != "backchannel_api_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == "403" {
					n += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return n
}

// TestBrowserNotices: a node alone says it has no connections; when the
// daemon goes away, the page says that live updates stopped and that the
// daemon does not answer.
func TestBrowserNotices(t *testing.T) {
	browser := newBrowser(t)
	u := newUser(t, browser, "Solo")
	u.waitJS("the no-connections notice", containsText("#notices", "no connections"))
	u.goTo("#/status", "status")
	u.waitJS("live updates connected", `document.querySelector('#st-stream').textContent === 'connected'`)
	if err := u.srv.Close(); err != nil {
		t.Fatal(err)
	}
	u.waitJS("the event stream notice", containsText("#notices", "Live updates stopped"))
	u.waitJS("the daemon notice", containsText("#notices", "does not answer"))
	u.waitJS("no stale notice", `!document.querySelector('#notice-peers')`)
	u.waitJS("the stream notice still says it stopped", containsText("#notices", "Live updates stopped"))
	u.waitJS("the status screen says so", containsText("#st-stream", "disconnected"))
	u.shot("notices")
}

// TestBrowserDemo runs the demo network beside a user's node and looks at it
// in the browser as a newcomer would: contacts' messages in the inbox, a
// stranger in requests with the room it was seen in, a live room with
// questions; a contact answers what the user writes.
func TestBrowserDemo(t *testing.T) {
	browser := newBrowser(t)
	d, err := demo.New(demo.Config{Dir: t.TempDir(), Pace: 150 * time.Millisecond, PubSubHeartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := d.Start(ctx); err != nil {
		d.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("demo Close: %v", err)
		}
		if n := d.Refused(); n != 0 {
			t.Errorf("the demo nodes' gaters refused %d dials or connections", n)
		}
	})
	// A name, not "You": the room would show "You (you)".
	me := newUser(t, browser, "Robin", d.BootstrapAddr())
	if err := d.Welcome(ctx, me.n); err != nil {
		t.Fatal(err)
	}

	me.goTo("#/inbox", "inbox")
	me.waitJS("Ada and Grace in the inbox", containsText("#inbox-list", "Ada")+" && "+containsText("#inbox-list", "Grace"))
	me.shot("demo-inbox")
	me.goTo("#/requests", "requests")
	me.waitJS("the stranger's private question from the room", containsText("#requests-list .request-context", "Sent from room “"+demo.RoomName+"”"))
	me.shot("demo-requests")
	me.goTo("#/room/"+d.RoomID().String(), "room")
	me.waitJS("questions with votes", `document.querySelectorAll('#questions .question').length >= 4 && Number(document.querySelector('#questions .question').dataset.upvotes) >= 2`)
	me.waitJS("an answered question", `document.querySelector('#questions .question.answered') !== null`)
	me.shot("demo-room")

	ada := ""
	for _, c := range mustContacts(t, me.n) {
		if c.Name == "Ada" {
			ada = c.Peer.String()
		}
	}
	me.goTo("#/chat/"+ada, "chat")
	me.typeIn("#composer", "Hi Ada! Trying the demo.")
	me.click("#composer-form button[type=submit]")
	me.waitJS("Ada's answer", `document.querySelectorAll('#thread-log .msg.inbound').length >= 2`)
	me.waitJS("read by Ada", `document.querySelector('#thread-log .msg.outbound[data-state="read"]') !== null`)
	me.shot("demo-thread")
}

func mustContacts(t *testing.T, n *node.Node) []storage.Contact {
	t.Helper()
	cs, err := n.Contacts()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestBrowserSkipLink: "Skip to content" puts focus in the screen's
// content and leaves the user on the screen they were on.
func TestBrowserSkipLink(t *testing.T) {
	browser := newBrowser(t)
	u := newUser(t, browser, "Solo")
	u.goTo("#/rooms", "rooms")
	u.click("a.skip")
	u.waitJS("focus on the content, still on Rooms",
		`document.activeElement.id === 'main' && location.hash === '#/rooms' && document.querySelector('main').dataset.screen === 'rooms'`)
}

// messageKinds counts the kinds of the messages u's node holds in its
// thread with peer (its newest 50).
func messageKinds(t *testing.T, u, peer *user) map[string]int {
	t.Helper()
	ms, err := u.n.Messages(peer.n.ID(), 50, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, m := range ms {
		kinds[m.Kind]++
	}
	return kinds
}
