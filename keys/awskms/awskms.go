package awskms

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/ezfs/ezfs/keys"
)

// Encryption-context keys binding a wrapped zone-key version (FORMAT.md "AWS KMS main key").
const (
	ContextVolume  = "ezfs:volume"
	ContextKey     = "ezfs:key"
	ContextVersion = "ezfs:version"
)

// DefaultMaxAttempts is how many times a KMS call is tried when
// Options.MaxAttempts is zero: throttling and connection errors are retried
// with exponential backoff and full jitter.
const DefaultMaxAttempts = 5

// DialTimeout bounds connecting to KMS when Options.HTTPClient is nil, so an
// unreachable endpoint fails within attempts × DialTimeout plus backoff
// rather than the SDK's 30 s per attempt.
const DialTimeout = 5 * time.Second

// Limits KMS puts on Encrypt's plaintext and on a ciphertext blob.
const (
	maxPlaintext = 4096
	maxBlob      = 6144
)

// Options configures New. The zero value uses the standard AWS chain for
// everything.
type Options struct {
	// Region overrides the region of the chain for an alias/NAME spec. With an
	// ARN spec it must be empty or the ARN's region (else ErrWrongRegion).
	Region string
	// Profile selects a shared-config profile; empty means AWS_PROFILE or default.
	Profile string
	// Endpoint overrides the KMS endpoint URL (AWS_ENDPOINT_URL_KMS does the same).
	Endpoint string
	// HTTPClient replaces the SDK's HTTP client (tests, proxies); nil means
	// the SDK's client with DialTimeout. When AWS_CA_BUNDLE is set it must be
	// an *awshttp.BuildableClient (aws/transport/http), as the SDK requires.
	HTTPClient aws.HTTPClient
	// Credentials replaces the chain's credentials (tests use static ones).
	Credentials aws.CredentialsProvider
	// MaxAttempts bounds tries per call; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps the delay between tries; 0 means the SDK's 20 s.
	MaxBackoff time.Duration
	// Logger receives a Warn per retried call; nil discards.
	Logger *slog.Logger
}

// MainKey is a keys.MainKey backed by one KMS key. It keeps no state but its
// client and is safe for concurrent use.
type MainKey struct {
	spec   Spec
	region string
	client *kms.Client
}

var _ keys.MainKey = (*MainKey)(nil)

// New returns a MainKey for spec, with a client configured from the standard
// AWS chain and o. It makes no KMS call (Check does); it fails with
// ErrWrongRegion or ErrNoRegion when the region cannot be settled.
func New(ctx context.Context, spec Spec, o Options) (*MainKey, error) {
	if spec.KeyID == "" {
		return nil, fmt.Errorf("%w: empty key id", ErrInvalidSpec)
	}
	region, err := pickRegion(spec, o.Region)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOptions(region, o)...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for %s: %w", spec.KeyID, err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("%w for %s: use the key ARN, or set AWS_REGION or a region in the AWS profile",
			ErrNoRegion, spec.KeyID)
	}
	client := kms.NewFromConfig(cfg, func(ko *kms.Options) {
		if o.Endpoint != "" {
			ko.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	return &MainKey{spec: spec, region: cfg.Region, client: client}, nil
}

func pickRegion(spec Spec, region string) (string, error) {
	if spec.Region != "" && region != "" && region != spec.Region {
		return "", fmt.Errorf("%w: key %s is in region %s but region %s was requested: drop the region setting "+
			"or use a key in %s", ErrWrongRegion, spec.KeyID, spec.Region, region, region)
	}
	if spec.Region != "" {
		return spec.Region, nil
	}
	return region, nil
}

func loadOptions(region string, o Options) []func(*config.LoadOptions) error {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(o) }),
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	} else {
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithDialerOptions(
			func(d *net.Dialer) { d.Timeout = DialTimeout })))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	return opts
}

// newRetryer is the SDK's standard retryer (exponential backoff with jitter;
// retries ThrottlingException and connection errors), logging each retry.
func newRetryer(o Options) aws.Retryer {
	std := retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = DefaultMaxAttempts
		if o.MaxAttempts > 0 {
			so.MaxAttempts = o.MaxAttempts
		}
		if o.MaxBackoff > 0 {
			so.MaxBackoff = o.MaxBackoff
		}
	})
	if o.Logger == nil {
		return std
	}
	return &loggingRetryer{RetryerV2: std, log: o.Logger}
}

// loggingRetryer logs one Warn per retry; the SDK's error text carries no key material.
type loggingRetryer struct {
	aws.RetryerV2
	log *slog.Logger
}

// RetryDelay returns the standard delay and logs the retry.
func (r *loggingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	r.log.Warn("kms call failed, retrying", "attempt", attempt, "delay", d, "err", err)
	return d, derr
}

// Spec returns the key spec the MainKey was made with.
func (m *MainKey) Spec() Spec { return m.spec }

// Region returns the region the client signs requests for.
func (m *MainKey) Region() string { return m.region }

// String returns the spec, "awskms:...".
func (m *MainKey) String() string { return m.spec.String() }

// endpoint returns the configured KMS endpoint, or the regional default, for messages.
func (m *MainKey) endpoint() string {
	if ep := m.client.Options().BaseEndpoint; ep != nil {
		return *ep
	}
	return "https://kms." + m.region + ".amazonaws.com"
}

// encryptionContext returns the context binding kc, or an error if kc is incomplete.
func encryptionContext(kc keys.KeyContext) (map[string]string, error) {
	if kc.VolumeID == "" || kc.Key.Version == 0 {
		return nil, fmt.Errorf("awskms: incomplete key context %q %s", kc.VolumeID, kc.Key)
	}
	if err := keys.CheckName(kc.Key.Name); err != nil {
		return nil, fmt.Errorf("awskms: %w", err)
	}
	return map[string]string{
		ContextVolume:  kc.VolumeID,
		ContextKey:     kc.Key.Name,
		ContextVersion: strconv.FormatUint(uint64(kc.Key.Version), 10),
	}, nil
}
