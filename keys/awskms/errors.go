package awskms

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/ezfs/ezfs/keys"
)

// Sentinel errors; every [*Error] matches at most one of them (or keys.ErrAuth).
var (
	// ErrInvalidSpec means a main-key spec is not a KMS key ARN, alias ARN or alias/NAME.
	ErrInvalidSpec = errors.New("invalid awskms key spec")
	// ErrAccessDenied means the key policy or IAM denied a kms: action.
	ErrAccessDenied = errors.New("access denied")
	// ErrKeyDisabled means the KMS key is disabled.
	ErrKeyDisabled = errors.New("key is disabled")
	// ErrPendingDeletion means the KMS key is scheduled for deletion.
	ErrPendingDeletion = errors.New("key is pending deletion")
	// ErrKeyNotFound means no key or alias of that name exists in the region.
	ErrKeyNotFound = errors.New("key not found")
	// ErrWrongRegion means the key and the KMS endpoint or client are in different regions.
	ErrWrongRegion = errors.New("wrong region")
	// ErrThrottled means KMS throttled every attempt of a call.
	ErrThrottled = errors.New("throttled by KMS")
	// ErrUnreachable means no connection to the KMS endpoint could be made.
	ErrUnreachable = errors.New("cannot reach KMS")
	// ErrNoCredentials means the AWS configuration chain found no usable credentials.
	ErrNoCredentials = errors.New("no AWS credentials")
	// ErrNoRegion means neither the spec nor the AWS configuration names a region.
	ErrNoRegion = errors.New("no AWS region")
	// ErrWrongKey means a wrapped key was made under another KMS key than the
	// configured one. It matches keys.ErrAuth.
	ErrWrongKey = fmt.Errorf("wrapped key was made under another KMS key: %w", keys.ErrAuth)
)

// Error is a failed KMS call: the kms: action, the key as configured, what
// went wrong (Kind: a sentinel of this package, keys.ErrAuth, or nil) and
// what to do about it.
type Error struct {
	Action string // "kms:Decrypt", "kms:ReEncryptFrom", ...
	Key    string // key ARN, alias ARN or alias/NAME
	Kind   error  // sentinel; nil for an error this package does not classify
	Detail string // human text: the cause and the remedy
	Err    error  // the SDK's error, for errors.As; may be nil
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s on %s: %s", e.Action, e.Key, e.Detail)
}

// Unwrap returns Kind and the SDK's error, so errors.Is matches the sentinel
// and errors.As finds SDK types such as smithy.APIError.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// actionRE finds the action KMS names in an AccessDeniedException message.
var actionRE = regexp.MustCompile(`kms:[A-Za-z]+`)

// classify turns an SDK error from action on m's key into an *Error.
func (m *MainKey) classify(action string, err error) error {
	e := &Error{Action: action, Key: m.spec.KeyID, Err: err}
	var api smithy.APIError
	switch {
	case errors.As(err, &api):
		m.classifyAPI(e, api)
	case errors.Is(err, ErrNoCredentials) || isCredentialError(err):
		e.Kind, e.Detail = ErrNoCredentials, "no AWS credentials found: set AWS_PROFILE or "+
			"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use web identity, or run with an instance role"
	case isSendError(err):
		e.Kind = ErrUnreachable
		e.Detail = fmt.Sprintf("cannot reach KMS at %s: %s", endpointOf(err, m.endpoint()), rootCause(err))
	default:
		e.Detail = err.Error()
	}
	return e
}

// classifyAPI fills e from an error response of KMS.
func (m *MainKey) classifyAPI(e *Error, api smithy.APIError) {
	code, msg := api.ErrorCode(), api.ErrorMessage()
	switch code {
	case "AccessDeniedException":
		if a := actionRE.FindString(msg); a != "" {
			e.Action = a
		}
		e.Kind, e.Detail = ErrAccessDenied, fmt.Sprintf("access denied: allow %s on this key for the "+
			"principal ezfs runs as (ezfs mainkey policy prints the statement): %s", e.Action, msg)
	case "DisabledException":
		e.Kind, e.Detail = ErrKeyDisabled, "key is disabled: enable it (aws kms enable-key --key-id "+m.keyARN(msg)+")"
	case "KMSInvalidStateException":
		e.Detail = "key is not usable in its current state: " + msg
		if strings.Contains(msg, "pending deletion") {
			e.Kind, e.Detail = ErrPendingDeletion, pendingDeletionHint(m.keyARN(msg))
		}
	case "NotFoundException":
		e.Kind, e.Detail = ErrKeyNotFound, fmt.Sprintf("key not found in region %s: check the key ARN "+
			"or alias and the region", m.region)
	case "ThrottlingException":
		e.Kind, e.Detail = ErrThrottled, fmt.Sprintf("throttled by KMS after %d attempts: retry later "+
			"or raise the KMS request quota", attempts(e.Err))
	default:
		m.classifyCrypto(e, code, msg)
	}
}

// classifyCrypto handles what remains: authentication failures and region and token errors.
func (m *MainKey) classifyCrypto(e *Error, code, msg string) {
	switch {
	case code == "InvalidCiphertextException":
		e.Kind, e.Detail = keys.ErrAuth, "wrapped key failed authentication: it was tampered with or "+
			"belongs to another volume, key name or version"
	case code == "IncorrectKeyException":
		e.Kind, e.Detail = ErrWrongKey, ErrWrongKey.Error()
	case strings.Contains(msg, "scoped to a valid region"):
		e.Kind, e.Detail = ErrWrongRegion, fmt.Sprintf("wrong region: requests are signed for region %s "+
			"but the KMS endpoint %s serves another region: use the endpoint of %s, or a key in the endpoint's region",
			m.region, m.endpoint(), m.region)
	case code == "UnrecognizedClientException" || code == "InvalidSignatureException":
		e.Kind, e.Detail = ErrNoCredentials, "KMS rejected the AWS credentials: "+code+": "+msg
	default:
		e.Detail = code + ": " + msg
	}
}

// keyARNRE finds a key ARN in a KMS error message.
var keyARNRE = regexp.MustCompile(`arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+`)

// keyARN returns the key ARN to paste into an aws kms command: the one KMS
// named in msg, else the configured one if it is a key ARN, else KEY_ARN.
func (m *MainKey) keyARN(msg string) string {
	if arn := keyARNRE.FindString(msg); arn != "" {
		return arn
	}
	if !m.spec.IsAlias() {
		return m.spec.KeyID
	}
	return "KEY_ARN"
}

func pendingDeletionHint(arn string) string {
	return "key is pending deletion: cancel the deletion (aws kms cancel-key-deletion --key-id " + arn +
		"), then enable the key (aws kms enable-key --key-id " + arn + ")"
}

func attempts(err error) int {
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		return me.Attempt
	}
	return 1
}

func isCredentialError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "get identity:") || strings.Contains(s, "failed to retrieve credentials")
}

// isSendError reports a transport failure: nothing came back from KMS.
func isSendError(err error) bool {
	var conn interface{ ConnectionError() bool }
	var ue *url.Error
	return errors.As(err, &conn) && conn.ConnectionError() || errors.As(err, &ue)
}

// endpointOf returns scheme://host of the URL the failed request went to.
func endpointOf(err error, fallback string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	return fallback
}

// rootCause returns the innermost error's text ("connection refused", ...).
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
