package objstore

import (
	"context"
	"errors"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
)

// openCloudBucket opens a gs:// or azblob:// bucket with credentials from
// the cloud's standard chain: Application Default Credentials for GCS, and
// for Azure AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, a SAS token or a
// connection string from the environment, else DefaultAzureCredential.
func openCloudBucket(ctx context.Context, u string, loc location, cfg openConfig) (*blob.Bucket, error) {
	switch loc.scheme {
	case "gs":
		return openGCS(ctx, u, loc, cfg)
	case "azblob":
		opts := azureblob.NewDefaultServiceURLOptions()
		// A SAS token from the environment is part of the service URL: the
		// store URL must not send it to another origin.
		if opts.SASToken != "" {
			for _, k := range []string{"domain", "protocol", "cdn", "localemu"} {
				if loc.query.Has(k) {
					return nil, &Error{Kind: BadURL, URL: u, Err: errors.New("with AZURE_STORAGE_SAS_TOKEN set, the URL cannot change the service endpoint (" + k + "=)")}
				}
			}
		}
		if opts.AccountName == "" {
			return nil, &Error{Kind: NoCredentials, URL: u, Err: errors.New("AZURE_STORAGE_ACCOUNT is not set (nor an account in AZURE_STORAGE_CONNECTION_STRING)")}
		}
		o := &azureblob.URLOpener{MakeClient: azureblob.NewDefaultClient, ServiceURLOptions: *opts}
		b, err := o.OpenBucketURL(ctx, loc.openerURL())
		if err != nil {
			k := kindOf(ctx, err)
			if k == Other {
				k = NoCredentials
			}
			return nil, &Error{Kind: k, URL: u, Err: err}
		}
		return b, nil
	}
	return nil, &Error{Kind: BadURL, URL: u, Err: errors.New("unsupported scheme " + loc.scheme)}
}

// conditionOther makes a delete conditional on the version read, for GCS
// (the object's generation) and Azure (If-Match on the ETag). Where the
// driver is none of these, the delete stays unconditional: the caller has
// compared the lock's ID just before.
func conditionOther(as func(any) bool, etag string, generation int64) error {
	var gcsOpts *gcsDeleteOptions
	if generation != 0 && as(&gcsOpts) {
		gcsOpts.IfGenerationMatch = generation
		return nil
	}
	var azOpts *azblobblob.DeleteOptions
	if as(&azOpts) {
		if azOpts.AccessConditions == nil {
			azOpts.AccessConditions = &azblobblob.AccessConditions{}
		}
		if azOpts.AccessConditions.ModifiedAccessConditions == nil {
			azOpts.AccessConditions.ModifiedAccessConditions = &azblobblob.ModifiedAccessConditions{}
		}
		tag := azcore.ETag(etag)
		azOpts.AccessConditions.ModifiedAccessConditions.IfMatch = &tag
		return nil
	}
	return nil
}
