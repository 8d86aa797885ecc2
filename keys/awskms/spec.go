package awskms

import (
	"fmt"
	"regexp"
	"strings"
)

// SpecPrefix starts every AWS KMS main-key spec.
const SpecPrefix = "awskms:"

// Spec names a KMS key: what follows "awskms:" in a main-key spec.
type Spec struct {
	// KeyID is the key ARN, alias ARN or "alias/NAME", as KMS accepts it in KeyId.
	KeyID string
	// Region is the ARN's region; empty for "alias/NAME".
	Region string
}

var (
	aliasRE     = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)
	keyIDRE     = regexp.MustCompile(`^key/[A-Za-z0-9-]{1,128}$`)
	partitionRE = regexp.MustCompile(`^aws(-[a-z]+)*$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
)

// ParseSpec parses "awskms:arn:aws:kms:REGION:ACCOUNT:key/ID",
// "awskms:arn:aws:kms:REGION:ACCOUNT:alias/NAME" or "awskms:alias/NAME".
// Errors match [ErrInvalidSpec].
func ParseSpec(s string) (Spec, error) {
	id, ok := strings.CutPrefix(s, SpecPrefix)
	switch {
	case !ok:
		return Spec{}, specError(s, "must start with "+SpecPrefix)
	case strings.HasPrefix(id, "arn:"):
		return parseARN(s, id)
	case aliasRE.MatchString(id):
		return checkAlias(s, Spec{KeyID: id}, id)
	}
	return Spec{}, specError(s, "want a key ARN, an alias ARN or alias/NAME")
}

func parseARN(s, arn string) (Spec, error) {
	f := strings.SplitN(arn, ":", 6) // arn, partition, service, region, account, resource
	if len(f) != 6 || !partitionRE.MatchString(f[1]) || f[2] != "kms" {
		return Spec{}, specError(s, "not a KMS ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)")
	}
	if !regionRE.MatchString(f[3]) {
		return Spec{}, specError(s, "invalid region "+f[3])
	}
	if !accountRE.MatchString(f[4]) {
		return Spec{}, specError(s, "account must be 12 digits")
	}
	if !keyIDRE.MatchString(f[5]) && !aliasRE.MatchString(f[5]) {
		return Spec{}, specError(s, "resource must be key/ID or alias/NAME")
	}
	return checkAlias(s, Spec{KeyID: arn, Region: f[3]}, f[5])
}

// checkAlias returns sp, or an error if resource is the alias of an AWS
// managed key, which only AWS services may use.
func checkAlias(s string, sp Spec, resource string) (Spec, error) {
	if strings.HasPrefix(resource, "alias/aws/") {
		return Spec{}, specError(s, "alias/aws/ names an AWS managed key; use a customer managed key")
	}
	return sp, nil
}

func specError(s, why string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidSpec, s, why)
}

// String returns the spec as ParseSpec accepts it: "awskms:" ‖ KeyID.
func (s Spec) String() string { return SpecPrefix + s.KeyID }

// IsAlias reports whether the spec names an alias (by name or ARN) rather than a key.
func (s Spec) IsAlias() bool {
	return strings.HasPrefix(s.KeyID, "alias/") || strings.Contains(s.KeyID, ":alias/")
}
