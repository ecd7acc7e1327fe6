package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the UI's files: index.html at the root (with the placeholder
// {{CSRF}} that the API server fills in), login.html (the login screen,
// with the placeholder {{MESSAGE}}), the files anyone may load under
// public/, the rest beside them. Both pages name the files through the
// placeholder {{UI}}, which the API server fills in with the path of the
// current version's files ("{{UI}}/js/app.js"); the files refer to each
// other by relative paths, so that they stay within that version.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // static is embedded: it is always there
	}
	return sub
}
