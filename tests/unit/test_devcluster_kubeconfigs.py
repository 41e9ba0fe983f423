import pytest

from rollouts.devcluster import DevClusterError
from rollouts.devcluster.kubeconfigs import parse_kubeconfig

# The shape internal/cluster/identities.go renders.
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: devcluster
  cluster:
    server: https://127.0.0.1:41000
    certificate-authority-data: UEVN
users:
- name: devcluster-admin
  user:
    token: abc123
contexts:
- name: devcluster
  context:
    cluster: devcluster
    user: devcluster-admin
current-context: devcluster
"""


def test_reads_server_and_token_of_the_current_context():
    credentials = parse_kubeconfig(KUBECONFIG)
    assert credentials.server == "https://127.0.0.1:41000"
    assert credentials.token == "abc123"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [", "not valid YAML"),
        ("{}", "no current-context"),
        (KUBECONFIG.replace("current-context: devcluster", "current-context: other"), "no context named"),
        (KUBECONFIG.replace("    user: devcluster-admin", "    user: nobody"), "no user named"),
        (KUBECONFIG.replace("https://127.0.0.1:41000", "http://127.0.0.1:41000"), "https URL"),
        (KUBECONFIG.replace("    token: abc123", "    username: x"), "no token"),
    ],
)
def test_damaged_kubeconfig_is_a_clear_error(text, message):
    with pytest.raises(DevClusterError, match=message):
        parse_kubeconfig(text)
