package redact

import "testing"

func TestText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Looking in indexes: https://user:s3cret@index.example.invalid/simple", "Looking in indexes: https://****@index.example.invalid/simple"},
		{"https://token@index.example.invalid/simple and http://a:b@c.example.invalid/", "https://****@index.example.invalid/simple and http://****@c.example.invalid/"},
		{"attrs @ https://tok:SECRET@host.example.invalid/attrs-22.1.0-py3-none-any.whl conflicts with attrs==22.1.0", "attrs @ https://****@host.example.invalid/attrs-22.1.0-py3-none-any.whl conflicts with attrs==22.1.0"},
		{"-r https://alice:SEC@RET@host.example.invalid/reqs.txt", "-r https://****@host.example.invalid/reqs.txt"},
		{"git+https://user:s3cret@git.example.invalid/private.git@v1", "git+https://****@git.example.invalid/private.git@v1"},
		{"no url here: user@host", "no url here: user@host"},
		{"https://${USER}:${TOKEN}@index.example.invalid/simple", "https://${USER}:${TOKEN}@index.example.invalid/simple"},
		{"https://${USER}:hunter2@index.example.invalid/simple", "https://****@index.example.invalid/simple"},
		{"https://index.example.invalid/simple", "https://index.example.invalid/simple"},
	} {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://u:p@index.example.invalid/simple?token=x", "https://****@index.example.invalid/simple"},
		{"https://index.example.invalid/simple?token=x", "https://index.example.invalid/simple"},
		{"https://index.example.invalid/simple", "https://index.example.invalid/simple"},
		{"git+https://u:p@git.example.invalid/x.git@v1#egg=x", "git+https://****@git.example.invalid/x.git@v1#egg=x"},
	} {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
