package objstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenCloudWithoutCredentials(t *testing.T) {
	ctx := context.Background()
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "none.json"))
	_, err := Open(ctx, "gs://bucket/p")
	if kind(err) != NoCredentials || !strings.Contains(err.Error(), "gs://bucket/p") {
		t.Errorf("Open(gs://) without credentials: %v, want kind NoCredentials naming the URL", err)
	}

	for _, k := range []string{"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGEBLOB_CONNECTIONSTRING"} {
		t.Setenv(k, "")
	}
	_, err = Open(ctx, "azblob://container/p")
	if kind(err) != NoCredentials || !strings.Contains(err.Error(), "AZURE_STORAGE_ACCOUNT") {
		t.Errorf("Open(azblob://) without an account: %v, want kind NoCredentials naming AZURE_STORAGE_ACCOUNT", err)
	}

	// A SAS token from the environment must not go to a host the URL names.
	const sas = "sv=2022-11-02&sig=MARKERsasSIGNATURE"
	t.Setenv("AZURE_STORAGE_ACCOUNT", "acct")
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", sas)
	_, err = Open(ctx, "azblob://container/p?domain=evil.example")
	if kind(err) != BadURL || strings.Contains(err.Error(), "MARKERsas") {
		t.Errorf("Open(azblob://?domain=) with a SAS token: %v, want kind BadURL without the token", err)
	}
}
