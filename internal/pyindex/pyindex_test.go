package pyindex

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/wheeltag"
)

func TestFiles(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/simple/zope-interface/":
			w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
			_, _ = w.Write([]byte(`{"meta":{"api-version":"1.1"},"name":"zope-interface","files":[
				{"filename":"zope.interface-7.0-cp311-cp311-manylinux_2_17_x86_64.whl","url":"x","hashes":{},"requires-python":">=3.8","yanked":false},
				{"filename":"zope.interface-7.1-cp311-cp311-manylinux_2_28_x86_64.whl","url":"x","hashes":{},"yanked":"broken build"},
				{"filename":"zope.interface-7.1.tar.gz","url":"x","hashes":{},"requires-python":null}]}`))
		case "/simple/html/":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html></html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New(strings.Replace(srv.URL, "http://", "http://ci:s3cret@", 1)+"/simple", nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.Files(context.Background(), "Zope.Interface")
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Filename: "zope.interface-7.0-cp311-cp311-manylinux_2_17_x86_64.whl", RequiresPython: ">=3.8"},
		{Filename: "zope.interface-7.1-cp311-cp311-manylinux_2_28_x86_64.whl", Yanked: true},
		{Filename: "zope.interface-7.1.tar.gz"},
	}
	if !slices.Equal(files, want) {
		t.Errorf("Files = %+v, want %+v", files, want)
	}
	if auth == "" {
		t.Error("the index URL's credentials were not sent")
	}
	if got := Release(files, "zope-interface", "7.1.0"); !slices.Equal(got, []string{want[1].Filename, want[2].Filename}) {
		t.Errorf("Release 7.1.0 = %q", got)
	}
	for _, project := range []string{"html", "missing"} {
		_, err := c.Files(context.Background(), project)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Files(%s) = %v, want an error without the password", project, err)
		}
	}
	if _, err := New("ftp://index.example.invalid/simple", nil); err == nil {
		t.Error("New accepts an ftp URL")
	}
}

func TestNewest(t *testing.T) {
	files := []File{
		{Filename: "x-1.0-cp311-cp311-manylinux2014_x86_64.whl"},
		{Filename: "x-1.1-cp311-cp311-manylinux2014_x86_64.whl", RequiresPython: ">=3.12"},
		{Filename: "x-1.2-cp311-cp311-manylinux_2_24_x86_64.whl"},
		{Filename: "x-1.3-cp311-cp311-manylinux_2_17_x86_64.whl", Yanked: true},
		{Filename: "x-1.4-cp311-cp311-manylinux_2_28_x86_64.whl"}, {Filename: "x-1.4.tar.gz"},
		{Filename: "x-2.0rc1-cp311-cp311-manylinux2014_x86_64.whl"},
		{Filename: "other-9.0-cp311-cp311-manylinux2014_x86_64.whl"},
	}
	tests := []struct {
		runtime, arch, newest, next string
		ok                          bool
	}{
		{"python3.11", "x86_64", "1.2", "1.4", true}, // 2_24 loads on glibc 2.26; 1.3 is yanked
		{"python3.11", "arm64", "", "", false},
		{"python3.12", "x86_64", "", "", false}, // cp311 only
	}
	for _, tt := range tests {
		rt, err := wheeltag.RuntimeFor(tt.runtime, tt.arch)
		if err != nil {
			t.Fatal(err)
		}
		newest, next, ok := Newest(files, "x", rt)
		if newest != tt.newest || next != tt.next || ok != tt.ok {
			t.Errorf("%s: Newest = %q, %q, %v; want %q, %q, %v", rt, newest, next, ok, tt.newest, tt.next, tt.ok)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"files":[{"filename":"a-1-py3-none-any.whl","yanked":"why"}]}`)
	f.Add(`{"files":[{"filename":"a-1.tar.gz","requires-python":null,"yanked":false}]}`)
	rt, _ := wheeltag.RuntimeFor("python3.11", "x86_64")
	f.Fuzz(func(t *testing.T, page string) {
		files, err := decode(strings.NewReader(page))
		if err != nil {
			return
		}
		if newest, _, ok := Newest(files, "a", rt); ok && newest == "" {
			t.Fatal("Newest: ok without a version")
		}
		for _, f := range files {
			_ = Release(files, "a", "1")
			_, _ = fileVersion(f.Filename, "a")
		}
	})
}
