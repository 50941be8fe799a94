package objstore

import (
	"context"
	"fmt"

	"gocloud.dev/blob"
)

// openCloudBucket opens a gs:// or azblob:// bucket.
func openCloudBucket(ctx context.Context, url string, loc location) (*blob.Bucket, error) {
	return nil, &Error{Kind: BadURL, URL: url, Err: fmt.Errorf("%s:// is not supported yet", loc.scheme)}
}

// conditionOther makes a delete conditional on etag for drivers other than
// S3; it leaves the delete unconditional where it does not know the driver.
func conditionOther(as func(any) bool, etag string) error {
	return nil
}
