package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// uiFiles serves the web UI's static files from memory, read, hashed and
// compressed once, when the server is made; gzipped when the browser
// accepts it and that is smaller, with a strong ETag of the content, and
// "Vary: Accept-Encoding".
//
// Every file has two addresses. The pages (index.html, login.html) name
// the versioned one, under uiPrefix + "v/" + version + "/", where version
// is a hash of all the files: it changes whenever any file does, so a
// browser may keep what it loaded there for a year without asking again
// ("max-age=31536000, immutable"; "private" but for the login screen's
// public files, though a loopback server has no shared cache between it
// and the browser). The modules' relative imports ('./dom.js',
// '../api.js') and the style sheet's url(icon.svg) inherit the prefix. The
// pages themselves are never cached (servePage), so they always name the
// current version.
//
// The unversioned address (uiPrefix + name), and a versioned one with
// another version, serve the current file with "no-cache": a browser keeps
// it but revalidates it every time (304 while the ETag matches). That
// keeps a page from an older build working, for what its session allows
// (sessions end with the daemon's run, so an upgrade ends them), without
// ever storing a file as immutable under a version it does not belong to:
// a downgrade back to that version would otherwise find it. No redirect to
// the current version: a module redirected to another prefix would import
// a second copy of dom.js and api.js, with their own state.
type uiFiles struct {
	byPath  map[string]uiFile // by path in the FS, without a leading slash
	version string            // the hash of all the files, in their versioned URLs
}

// uiVersionDir is the directory, under uiPrefix, of the versioned URLs.
const uiVersionDir = "v/"

// uiVersionLen is the length of a version: 64 bits of SHA-256, in hex.
const uiVersionLen = 16

// uiImmutable is how long a browser keeps a file from its versioned URL.
const uiImmutable = "max-age=31536000, immutable"

// uiFile is one static file as served.
type uiFile struct {
	data, gz    []byte // gz is nil when compressing does not pay
	contentType string
	etag        string
}

// newUIFiles reads every file of fsys but the HTML pages (served by
// servePage, with their placeholders filled in).
func newUIFiles(fsys fs.FS) (*uiFiles, error) {
	u := &uiFiles{byPath: map[string]uiFile{}}
	all := sha256.New() // of every file's name and content, in WalkDir's lexical order
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(name, ".html") {
			return err
		}
		if strings.HasPrefix(name, uiVersionDir) {
			return fmt.Errorf("%s: the directory %s is where the versioned URLs are", name, uiVersionDir)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(all, "%s\x00%x\x00", name, sum)
		f := uiFile{data: data, etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
			contentType: mime.TypeByExtension(path.Ext(name))}
		if f.contentType == "" {
			f.contentType = http.DetectContentType(data)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		if _, err := zw.Write(data); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if buf.Len() < len(data) {
			f.gz = buf.Bytes()
		}
		u.byPath[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the UI's files: %w", err)
	}
	u.version = hex.EncodeToString(all.Sum(nil))[:uiVersionLen]
	return u, nil
}

// prefix is the path under which the current version's files are served,
// without a trailing slash: what the pages' uiPlaceholder stands for.
func (u *uiFiles) prefix() string { return uiPrefix + uiVersionDir + u.version }

// uiName splits p, a path under uiPrefix, into the name of the file it
// asks for and the version in it ("" for the unversioned address). It is
// not ok when p is not under uiPrefix, names a version that is not one
// (uiVersionLen hex digits), or a name that is not a clean path to a file
// (fs.ValidPath: no dot or dot-dot, no empty element, no trailing slash).
func uiName(p string) (name, version string, ok bool) {
	name, ok = strings.CutPrefix(p, uiPrefix)
	if !ok {
		return "", "", false
	}
	if rest, versioned := strings.CutPrefix(name, uiVersionDir); versioned {
		version, name, ok = strings.Cut(rest, "/")
		if !ok || !isVersion(version) {
			return "", "", false
		}
	}
	return name, version, fs.ValidPath(name) && name != "."
}

// isVersion tells whether v has the form of a version.
func isVersion(v string) bool {
	if len(v) != uiVersionLen {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil && strings.ToLower(v) == v
}

// serve answers a request for name, from its versioned URL of version.
func (u *uiFiles) serve(w http.ResponseWriter, r *http.Request, name, version string) {
	f, ok := u.byPath[name]
	if !ok {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such file: "+r.URL.Path)
		return
	}
	h := w.Header()
	h.Set("ETag", f.etag)
	switch {
	case version != u.version:
		h.Set("Cache-Control", "no-cache")
	case strings.HasPrefix(name, publicDir):
		h.Set("Cache-Control", "public, "+uiImmutable)
	default:
		h.Set("Cache-Control", "private, "+uiImmutable)
	}
	h.Set("Vary", "Accept-Encoding")
	if etagMatches(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.data
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = f.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatches tells whether an If-None-Match header names etag (or is *).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip tells whether an Accept-Encoding header accepts gzip (and
// does not refuse it with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
