// Package web is Backchannel's web UI: an HTML page, a style sheet and
// plain JavaScript modules, embedded in the binary and served by the
// daemon's local API server (api.Config.UI) on the same loopback address as
// the API. Nothing needs building, at run time or before: the files under
// static/ are what the browser loads, and nothing is fetched from anywhere
// else, so the UI works offline.
//
// The page talks only to the local API (/v1/...) and its WebSocket event
// stream, with the session cookie and CSRF header the API server hands out
// once the browser has logged in (see package api): the bearer token never
// reaches the page. Without a login the server serves login.html, the
// login screen, and only the files under static/public/ beside it. Screens live one per module in static/js/screens/ and are
// listed in static/js/app.js; a new screen (groups, once their API exists)
// is one module and one line there.
package web
