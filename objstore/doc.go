// Package objstore is pixform's image store in object storage: a bucket
// (S3, GCS, Azure Blob, a shared directory, or memory in tests) reached
// through gocloud.dev/blob, holding image bytes by content, records of which
// object a render of given inputs produced, and lock objects.
//
// Layout under the URL's prefix:
//
//	sha256/<2 hex>/<64 hex>   image bytes, immutable, written only if absent
//	inputs/<input digest>     a small JSON Record naming the object
//	locks/<key>               a JSON LockInfo, created only if absent
//
// Credentials come only from each cloud's standard environment and
// credential chain; a URL that carries one is refused, and no error or
// String ever contains one. Errors are *Error (or *LockedError) values that
// carry facts; views words the advice.
package objstore
