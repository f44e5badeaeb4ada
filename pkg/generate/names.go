package generate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// nameHashLength is how many hex digits of a SHA-256 end a shortened name.
const nameHashLength = 10

// validNamePrefix refuses a --name-prefix that cannot start an object name
// (a DNS-1123 subdomain, RFC 1123): the prefix itself is what is wrong, so
// the error names it. A valid prefix leaves room for at least a hash.
func validNamePrefix(prefix string) error {
	if errs := validation.IsDNS1123Subdomain(prefix + "a"); len(errs) > 0 {
		return fmt.Errorf("name prefix %q cannot start a policy name (an RFC 1123 subdomain: lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit): %s", prefix, strings.Join(errs, "; "))
	}
	if len(prefix)+1+nameHashLength > validation.DNS1123SubdomainMaxLength {
		return fmt.Errorf("name prefix %q is %d characters: a policy name has at most %d, and the prefix must leave room for %d more", prefix, len(prefix), validation.DNS1123SubdomainMaxLength, 1+nameHashLength)
	}
	return nil
}

// policyName is prefix+identity, shortened when longer than an object name
// may be (253 characters): cut, and ended with "-" and the first
// nameHashLength hex digits of the SHA-256 of the full identity, so the
// name is deterministic and distinct identities keep distinct names.
func policyName(prefix, identity string) string {
	name := prefix + identity
	if len(name) <= validation.DNS1123SubdomainMaxLength {
		return name
	}
	sum := sha256.Sum256([]byte(identity))
	keep := validation.DNS1123SubdomainMaxLength - 1 - nameHashLength
	// Each dot-separated part must end with a letter or digit.
	return strings.TrimRight(name[:keep], "-.") + "-" + hex.EncodeToString(sum[:])[:nameHashLength]
}
