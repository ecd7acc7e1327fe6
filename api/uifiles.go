package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// uiFiles serves the web UI's static files from memory: each with a
// strong ETag of its content and "Cache-Control: no-cache", so that a
// browser keeps it and asks again with If-None-Match, getting 304 and no
// body until the daemon serves a different build; and compressed with gzip
// when the browser accepts it and that is smaller. The files are read,
// hashed and compressed once, when the server is made.
type uiFiles struct {
	byPath map[string]uiFile // by path in the FS, without a leading slash
}

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
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(name, ".html") {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
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
		return nil, err
	}
	return u, nil
}

// serve answers a request for name (the path under uiPrefix).
func (u *uiFiles) serve(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := u.byPath[name]
	if !ok {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such file: "+r.URL.Path)
		return
	}
	h := w.Header()
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
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
