package cluster

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Identity is a user of the API server authenticated by a static token (--token-auth-file).
type Identity struct {
	// Part is the cluster part using the identity, or "admin" for people and tests.
	Part   string
	User   string
	Groups []string
}

// AdminPart names the identity written to the user's kubeconfig.
const AdminPart = "admin"

// Identities are the static users. The controller manager and scheduler use the users the
// bootstrap RBAC policy already binds. The fake kubelet drives many nodes through one client, so
// it cannot pass the per-node Node authorizer and acts as a cluster admin instead.
var Identities = []Identity{
	{Part: AdminPart, User: "devcluster-admin", Groups: []string{"system:masters"}},
	{Part: PartControllerManager, User: "system:kube-controller-manager"},
	{Part: PartScheduler, User: "system:kube-scheduler"},
	{Part: PartKubelet, User: "devcluster-kubelet", Groups: []string{"system:masters"}},
}

// Tokens maps an identity's Part to its bearer token.
type Tokens map[string]string

// NewTokens draws a fresh random token for every identity.
func NewTokens() (Tokens, error) {
	tokens := Tokens{}
	for _, id := range Identities {
		raw := make([]byte, 24)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		tokens[id.Part] = hex.EncodeToString(raw)
	}
	return tokens, nil
}

// RenderTokenFile writes the token-auth-file: token,user,uid,"group,group".
func RenderTokenFile(tokens Tokens) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	for _, id := range Identities {
		_ = w.Write([]string{tokens[id.Part], id.User, id.User, strings.Join(id.Groups, ",")})
	}
	w.Flush()
	return b.String()
}

// ParseTokenFile reads back a file written by RenderTokenFile, so a restarted cluster keeps the
// tokens its users already hold. A file missing an identity is an error (callers regenerate).
func ParseTokenFile(text string) (Tokens, error) {
	records, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	byUser := map[string]string{}
	for _, r := range records {
		if len(r) < 2 || r[0] == "" {
			return nil, fmt.Errorf("token file: malformed record %q", r)
		}
		byUser[r[1]] = r[0]
	}
	tokens := Tokens{}
	for _, id := range Identities {
		token, ok := byUser[id.User]
		if !ok {
			return nil, fmt.Errorf("token file: no token for %s", id.User)
		}
		tokens[id.Part] = token
	}
	return tokens, nil
}

// LoadOrCreateTokens reuses the tokens in path when it is complete, else writes new ones.
func LoadOrCreateTokens(path string) (Tokens, error) {
	if text, err := os.ReadFile(path); err == nil {
		if tokens, err := ParseTokenFile(string(text)); err == nil {
			return tokens, nil
		}
	}
	tokens, err := NewTokens()
	if err != nil {
		return nil, err
	}
	return tokens, os.WriteFile(path, []byte(RenderTokenFile(tokens)), 0o600)
}

// RenderKubeconfig is a kubeconfig with one cluster, one token user and one current context.
// Every value is base64, a URL or hex, so plain formatting yields valid YAML.
func RenderKubeconfig(serverURL string, caPEM []byte, user, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: devcluster
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: devcluster
  context:
    cluster: devcluster
    user: %s
current-context: devcluster
`, serverURL, base64.StdEncoding.EncodeToString(caPEM), kubeconfigUserName(user), token,
		kubeconfigUserName(user))
}

// kubeconfigUserName keeps the kubeconfig's user entry a plain YAML word (no colons).
func kubeconfigUserName(user string) string {
	return strings.ReplaceAll(user, ":", "-")
}
