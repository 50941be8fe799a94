package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
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
		o := &azureblob.URLOpener{MakeClient: azureClient, ServiceURLOptions: *opts}
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

// azureRetry is the Azure SDK's retry policy for a store: a request that
// fails in a way worth trying again (no connection, 408, 429, 5xx) is
// tried twice more, after about a quarter and half a second, so that one
// transient failure is ridden out and a store that is down fails in about
// a second. The SDK's default (three retries growing from 0.8 s to 60 s
// apart) kept a command waiting half a minute for a stopped server; the
// uploads of an apply retry on their own, later (storesync).
func azureRetry() policy.RetryOptions {
	return policy.RetryOptions{MaxRetries: 2, RetryDelay: 250 * time.Millisecond, MaxRetryDelay: time.Second}
}

// azureClient is azureblob.NewDefaultClient with azureRetry: a container
// client with credentials from the environment, as gocloud's default
// client takes them (AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, else
// AZURE_STORAGE_SAS_TOKEN in the service URL, else a connection string,
// else DefaultAzureCredential).
func azureClient(svcURL azureblob.ServiceURL, containerName azureblob.ContainerName) (*container.Client, error) {
	opts := &container.ClientOptions{}
	opts.Retry = azureRetry()
	containerURL, err := url.JoinPath(string(svcURL), string(containerName))
	if err != nil {
		return nil, err
	}
	account, key := os.Getenv("AZURE_STORAGE_ACCOUNT"), os.Getenv("AZURE_STORAGE_KEY")
	conn := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if conn == "" {
		conn = os.Getenv("AZURE_STORAGEBLOB_CONNECTIONSTRING")
	}
	switch {
	case account != "" && key != "":
		cred, err := azblob.NewSharedKeyCredential(account, key)
		if err != nil {
			return nil, fmt.Errorf("AZURE_STORAGE_KEY: %w", err)
		}
		return container.NewClientWithSharedKeyCredential(containerURL, cred, opts)
	case os.Getenv("AZURE_STORAGE_SAS_TOKEN") != "":
		return container.NewClientWithNoCredential(containerURL, opts)
	case conn != "":
		return container.NewClientFromConnectionString(conn, string(containerName), opts)
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("DefaultAzureCredential: %w", err)
	}
	return container.NewClient(containerURL, cred, opts)
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
