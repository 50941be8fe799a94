//go:build !linux

package objstore

import (
	"errors"
	"os"
)

// batchDurable is false where there is no syncfs(2): each upload to a
// file:// store syncs its file and its directory itself.
const batchDurable = false

func syncFS(*os.File) error { return nil }

func batchable(*os.File) bool { return false }

var errNoUnnamed = errors.New("no unnamed files (O_TMPFILE) here")

func createUnnamed(string) (*os.File, error) { return nil, errNoUnnamed }

func linkUnnamed(*os.File, string) error { return errNoUnnamed }
