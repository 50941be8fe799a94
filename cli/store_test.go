package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLockKey checks that the store lock's key is the same for one
// directory of two clones of a repository, wherever they are checked out,
// and differs between directories of one repository.
func TestLockKey(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mk("a/repo/.git")
	mk("elsewhere/clone/.git")
	os.WriteFile(filepath.Join(mk("wt"), ".git"), []byte("gitdir: ../a/repo/.git/worktrees/wt\n"), 0o644)
	site1, site2 := mk("a/repo/site"), mk("elsewhere/clone/site")
	blog := mk("a/repo/blog")
	top1, top2, wt := filepath.Join(root, "a/repo"), filepath.Join(root, "elsewhere/clone"), filepath.Join(root, "wt")
	if lockKey(site1) != lockKey(site2) {
		t.Errorf("one directory of two clones: %s vs %s", lockKey(site1), lockKey(site2))
	}
	if lockKey(top1) != lockKey(top2) || lockKey(top1) != lockKey(wt) {
		t.Errorf("the tops of two clones and a worktree differ: %s, %s, %s", lockKey(top1), lockKey(top2), lockKey(wt))
	}
	if lockKey(site1) == lockKey(blog) || lockKey(site1) == lockKey(top1) {
		t.Errorf("two directories of one repository share %s", lockKey(site1))
	}
	for _, k := range []string{lockKey(site1), lockKey(root)} {
		if len(k) != len("dir-")+16 {
			t.Errorf("key %q is not dir- and 16 hex digits", k)
		}
	}
}
