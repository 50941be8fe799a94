package safepath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := map[string]struct {
		path string
		want Reason // 0: accepted
	}{
		"plain":            {"hero.png", 0},
		"nested":           {"assets/icons/home.png", 0},
		"dot file":         {".hero.png", 0},
		"pixform prefix":   {".pixformx/a.png", 0},
		"lock elsewhere":   {"a/pixform.lock.json", 0},
		"unicode":          {"héros/ÉTÉ.png", 0},
		"escape":           {"images/p\x1b[2J.png", Control},
		"newline":          {"a\nb.png", Control},
		"del":              {"a\x7f.png", Control},
		"c1":               {"a\u009b1m.png", Control},
		"rtl override":     {"a\u202egnp.exe", Control},
		"bad utf-8":        {"a\xff.png", Control},
		"emoji":            {"🦊/fox.png", 0},
		"emoji with zwj":   {"icons/👨\u200d👩\u200d👧.png", 0},
		"persian zwnj":     {"تصاویر/می\u200cخواهم.png", 0},
		"rtl isolate":      {"a\u2067b.png", Control},
		"replacement char": {"a\ufffd.png", 0}, // valid UTF-8
		"empty":            {"", Empty},
		"dot":              {".", Empty},
		"nul":              {"a\x00.png", NUL},
		"backslash":        {`a\..\..\x.png`, Backslash},
		"absolute":         {"/etc/passwd", Absolute},
		"drive":            {"C:/x.png", Absolute},
		"drive relative":   {"c:x.png", Absolute},
		"trailing slash":   {"a/", NotClean},
		"double slash":     {"a//b.png", NotClean},
		"inner dotdot":     {"a/../b.png", NotClean},
		"dot segment":      {"./a.png", NotClean},
		"dotdot":           {"..", Escapes},
		"up":               {"../x.png", Escapes},
		"workdir":          {".pixform", Reserved},
		"under workdir":    {".pixform/cache/x.png", Reserved},
		"upper workdir":    {".PIXFORM/x.png", Reserved},
		"mixed workdir":    {".PixForm/x.png", Reserved},
		"kelvin workdir":   {".pi\u212Aform/x.png", 0}, // no K in pixform: not a fold of it
		"long s workdir":   {".pixform/\u017F.png", Reserved},
		"lockfile":         {"pixform.lock.json", Reserved},
		"upper lockfile":   {"PIXFORM.LOCK.JSON", Reserved},
		"dotdot in name":   {"a..b.png", 0},
		"dotdot dir named": {"..a/b.png", 0},
		"workdir dot":      {".pixform./x.png", Reserved}, // Windows drops trailing dots and spaces
		"lockfile space":   {"pixform.lock.json ", Reserved},
		"git":              {".git", VCS},
		"git head":         {".git/HEAD", VCS},
		"git image":        {".git/x.png", VCS},
		"upper git":        {".GIT/config", VCS},
		"mixed git":        {".Git/refs/heads/main", VCS},
		"nested git":       {"vendor/lib/.git/HEAD", VCS},
		"submodule git":    {"vendor/lib/.git", VCS},
		"git dots":         {".git../HEAD", VCS},
		"git space":        {".git /HEAD", VCS},
		"git ignorable":    {".g\u200cit/HEAD", VCS}, // HFS+ ignores U+200C
		"git bom":          {"\ufeff.git/HEAD", VCS},
		"hg":               {".hg/store/x.png", VCS},
		"svn":              {".SVN/entries", VCS},
		"github":           {".github/x.png", 0},
		"gitignore":        {".gitignore", 0},
		"git no dot":       {"git/x.png", 0},
		"git suffix":       {"a.git/x.png", 0},
		"gitx":             {".gitx/x.png", 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := Check(tt.path)
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.path, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Reason != tt.want {
				t.Fatalf("Check(%q) = %v, want reason %d", tt.path, err, tt.want)
			}
			if !strings.Contains(err.Error(), "path ") {
				t.Errorf("message %q does not name the path", err)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := map[string]struct {
		a, b string
		same bool
	}{
		"case":        {"Hero.png", "hero.png", true},
		"dirs":        {"Assets/HERO.PNG", "assets/hero.png", true},
		"kelvin":      {"\u212A.png", "k.png", true},
		"long s":      {"\u017Fun.png", "SUN.png", true},
		"greek sigma": {"Σ.png", "σ.png", true},
		"final sigma": {"ς.png", "Σ.png", true},
		"accents":     {"ÉTÉ.png", "été.png", true},
		"different":   {"hero.png", "herd.png", false},
		"different e": {"e.png", "é.png", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Key(tt.a) == Key(tt.b); got != tt.same {
				t.Errorf("Key(%q) = %q, Key(%q) = %q: same %v, want %v", tt.a, Key(tt.a), tt.b, Key(tt.b), got, tt.same)
			}
			if ef := strings.EqualFold(tt.a, tt.b); ef != tt.same {
				t.Errorf("EqualFold disagrees: %v", ef)
			}
		})
	}
	if k := Key("already/lower.png"); k != "already/lower.png" {
		t.Errorf("Key of a lower-case ASCII path = %q", k)
	}
}

func TestDisk(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	mk := func(rel string) {
		full := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("real/a.png")
	mk("top.png")
	link := func(rel, target string) {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(rel))); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	link("out", outside)
	link("in", "real")
	link("real/file-link.png", "a.png")
	link("dangling", "nowhere")
	tests := map[string]struct {
		path   string
		exists bool
		link   string // "" when accepted
	}{
		"file":              {"top.png", true, ""},
		"nested":            {"real/a.png", true, ""},
		"missing":           {"new/dir/b.png", false, ""},
		"missing in real":   {"real/b.png", false, ""},
		"through a file":    {"top.png/x.png", false, ""},
		"outside link":      {"out/victim.png", false, "out"},
		"inside link":       {"in/a.png", false, "in"},
		"deep under link":   {"in/x/y/z.png", false, "in"},
		"link itself":       {"real/file-link.png", true, "real/file-link.png"},
		"dangling dir link": {"dangling/x.png", false, "dangling"},
		"dangling leaf":     {"dangling", true, "dangling"},
	}
	d := NewDisk(root)
	for _, pass := range []string{"first", "memoized"} {
		for name, tt := range tests {
			t.Run(pass+"/"+name, func(t *testing.T) {
				exists, err := d.Check(tt.path)
				if tt.link == "" {
					if err != nil || exists != tt.exists {
						t.Fatalf("Check(%q) = %v, %v; want %v, nil", tt.path, exists, err, tt.exists)
					}
					return
				}
				var e *Error
				if !errors.As(err, &e) || e.Reason != Symlink || e.Link != tt.link || e.Path != tt.path {
					t.Fatalf("Check(%q) = %v (%#v), want a Symlink error at %q", tt.path, err, e, tt.link)
				}
			})
		}
	}
	if _, err := d.Check("../x.png"); err == nil {
		t.Error("Disk.Check accepts what Check refuses")
	}
}
