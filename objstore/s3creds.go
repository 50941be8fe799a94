package objstore

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// quietS3 makes cfg, loaded from the store URL's parameters q, print
// nothing of its own: the SDK's logger writes to stderr (an EC2 metadata
// service that answers 404, as a proxy or a container network does,
// gives "WARN falling back to IMDSv1" before pixform's error), and the
// credential chain, built with the logger the configuration had when it
// was loaded, is built again with none. The chain is the SDK's standard
// one, the EC2 instance role last, so that a machine that relies on its
// role keeps working; gocloud's loader takes no logger, so this is done
// here (the same profile, region and role).
func quietS3(ctx context.Context, cfg *aws.Config, q url.Values) error {
	cfg.Logger = logging.Nop{}
	if anon, _ := strconv.ParseBool(q.Get("anonymous")); anon {
		return nil // no chain: nothing to ask
	}
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if p := q.Get("profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return err
	}
	if role := q.Get("role"); role != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), role))
		return nil
	}
	cfg.Credentials = base.Credentials
	return nil
}

// noS3Credentials says what the SDK's credential chain looked for, when
// it found nothing: err is its answer, which ends with the EC2 instance
// role it asked last.
func noS3Credentials(err error) error {
	return &credentialsError{err}
}

// credentialsError is the chain's failure, said as what was looked for.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string {
	return "looked for them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in the profile AWS_PROFILE names (else default) in ~/.aws/credentials and ~/.aws/config, in AWS_WEB_IDENTITY_TOKEN_FILE and a container's credentials endpoint, and last in an EC2 instance role, and found none (the metadata service: " + strings.TrimPrefix(e.err.Error(), "failed to refresh cached credentials, ") + ")"
}

func (e *credentialsError) Unwrap() error { return e.err }

// noRoleFound reports whether err is the credential chain's answer when
// it found no credentials anywhere, its last try the EC2 metadata service
// (which did not answer, or had no role): no credentials, not a store
// that cannot be reached (the store was not asked).
func noRoleFound(err error) bool {
	return strings.Contains(err.Error(), "no EC2 IMDS role found")
}
