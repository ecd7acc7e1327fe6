package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/backchannel/backchannel/api"
)

// TestBrowserLogin: a browser without a login sees the login screen and
// nothing of the app; a wrong token and a used login link are refused with
// a reason; the API token pasted into the login screen, or a fresh link,
// opens the UI.
func TestBrowserLogin(t *testing.T) {
	browser := newBrowser(t)
	alice := newUser(t, browser, "Alice") // logged in by a link
	visitor := alice.newTab(browser, "Visitor")
	token, err := api.ReadToken(alice.home)
	if err != nil {
		t.Fatal(err)
	}

	// No login: the login screen, no app, no CSRF value, no script; the
	// app's files are refused.
	visitor.do("open the UI's address", chromedp.Navigate(visitor.url))
	visitor.waitJS("the login screen", `document.querySelector('#login-token') !== null`)
	if !eval[bool](visitor, `!document.querySelector('#nav') && !document.querySelector('meta[name="backchannel-csrf"]') && document.scripts.length === 0`) {
		t.Errorf("the login screen holds some of the app: %s", eval[string](visitor, `document.documentElement.outerHTML`))
	}
	if got := eval[float64](visitor, `fetch('/ui/js/app.js').then(r => r.status)`); got != 401 {
		t.Errorf("the app's script without a login: %v, want 401", got)
	}
	if got := eval[float64](visitor, `fetch('/v1/id').then(r => r.status)`); got != 401 {
		t.Errorf("the API without a login: %v, want 401", got)
	}
	visitor.shot("login")

	// A wrong token: refused, saying so.
	visitor.typeIn("#login-token", "not-the-token")
	visitor.do("submit a wrong token", chromedp.Submit(chromedp.CSS("#login-token")), chromedp.WaitVisible(chromedp.CSS("#login-message")))
	visitor.waitJS("the reason", containsText("#login-message", "not the API token"))

	// A link already used: refused, saying so.
	link, err := alice.srv.LoginURL(api.LoginLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	other := alice.newTab(browser, "Other")
	other.do("open a login link", chromedp.Navigate(link.URL), chromedp.WaitVisible(chromedp.CSS("#nav a")))
	visitor.do("open the used link", chromedp.Navigate(link.URL), chromedp.WaitVisible(chromedp.CSS("#login-message")))
	visitor.waitJS("the reason", containsText("#login-message", "used already"))

	// The token: the app, with a session of its own.
	visitor.typeIn("#login-token", string(token))
	visitor.do("submit the token", chromedp.Submit(chromedp.CSS("#login-token")), chromedp.WaitVisible(chromedp.CSS("#nav a")))
	visitor.waitJS("the UI has started", `document.querySelectorAll('#nav a').length >= 5`)
	visitor.goTo("#/status", "status")
	visitor.waitJS("the status screen", fmt.Sprintf(`document.querySelector('#st-peer')?.textContent.includes(%q)`, alice.peerID()))
	if eval[bool](visitor, `location.href.includes('code=') || location.pathname !== '/'`) {
		t.Errorf("the UI's address after login: %s", eval[string](visitor, `location.href`))
	}
}
