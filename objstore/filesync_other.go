//go:build !linux

package objstore

import (
	"os"
)

// batchDurable is false where there is no syncfs(2): each upload to a
// file:// store syncs its file and its directory itself.
const batchDurable = false

func syncFS(*os.File) error { return nil }
