"""The dashboard off loopback: users' bearer tokens, TokenReview, SubjectAccessReview, their rights.

The dashboard listens on a non-loopback address of this machine (from ``hostname -I``; 0.0.0.0
if it has none) with ``--auth kubernetes`` and a kubeconfig for its own ServiceAccount bound to
``deploy/dashboard/clusterrole.yaml`` — read-only, plus the two reviews. Users are
ServiceAccounts with tokens from the TokenRequest API: ``reader`` (a Role with reads only),
``operator`` (reads and patch on rollouts and rollouts/status) and ``stranger`` (no Role).
Because the dashboard's own identity may not patch anything, an operator's promote that lands
proves it was sent with the operator's token. The Rollout is a paused canary whose status the
test writes itself (no controller), so a promote is seen as its pause condition going away.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from dashboard_browser import Browser
from dashboard_helpers import (
    Event,
    artefacts_folder,
    call,
    dashboard_process,
    events,
    first_event,
    new_namespace,
    refused_start,
    shot,
    write_paused_status,
)
from kubernetes import client
from plugin_helpers import create_rollout, read, rollout_manifest, set_rollout_status, until

from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "dashboard"
VIEW = ["get", "list", "watch"]
READS = [
    {"apiGroups": ["argoproj.io"], "resources": ["rollouts", "analysisruns", "experiments"], "verbs": VIEW},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": VIEW},
    {"apiGroups": [""], "resources": ["pods", "events"], "verbs": VIEW},
]
PATCHES = [{"apiGroups": ["argoproj.io"], "resources": ["rollouts", "rollouts/status"], "verbs": ["patch"]}]


def machine_address() -> str:
    """A non-loopback address of this machine, or 0.0.0.0 (also not loopback) without one."""
    found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False).stdout.split()
    return next(
        (address for address in found if "." in address and not address.startswith("127.")), "0.0.0.0"
    )


@dataclass(frozen=True)
class Setup:
    namespace: str
    base: str  # the dashboard's URL, on the non-loopback address
    tokens: dict[str, str]  # user -> bearer token
    dashboard_kubeconfig: str
    admin_kubeconfig: Path


def _token(core: Any, namespace: str, account: str) -> str:
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=account))
    )
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    token: str = core.create_namespaced_service_account_token(account, namespace, request).status.token
    return token


def _role(rbac: Any, namespace: str, name: str, rules: list[dict[str, Any]]) -> None:
    rbac.create_namespaced_role(namespace, {"metadata": {"name": name}, "rules": rules})
    binding = {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    }
    rbac.create_namespaced_role_binding(namespace, binding)


def _kubeconfig(admin: Path, token: str, path: Path) -> str:
    """The admin kubeconfig's server and CA with ``token`` as the only credential."""
    config = yaml.safe_load(admin.read_text())
    for entry in config["users"]:
        entry["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.fixture(scope="module")
def setup(
    devcluster: DevCluster, api_client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    install_crds(api_client, timeout=120)
    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    namespace = new_namespace(api_client, "dash-auth-")
    # the dashboard's identity: the deploy/ ClusterRole, under a name of this test's own
    role = yaml.safe_load((DEPLOY / "clusterrole.yaml").read_text())
    role["metadata"]["name"] = f"rollouts-dashboard-{namespace}"
    rbac.create_cluster_role(role)
    binding = yaml.safe_load((DEPLOY / "clusterrolebinding.yaml").read_text())
    binding["metadata"]["name"] = role["metadata"]["name"]
    binding["roleRef"]["name"] = role["metadata"]["name"]
    binding["subjects"][0]["namespace"] = namespace
    rbac.create_cluster_role_binding(binding)
    try:
        accounts = ("rollouts-dashboard", "reader", "operator", "stranger")
        tokens = {account: _token(core, namespace, account) for account in accounts}
        _role(rbac, namespace, "reader", READS)
        _role(rbac, namespace, "operator", READS + PATCHES)
        folder = tmp_path_factory.mktemp("dashboard-auth")
        kubeconfig = _kubeconfig(
            devcluster.kubeconfig, tokens.pop("rollouts-dashboard"), folder / "kubeconfig"
        )
        _paused_rollout(api_client, namespace)
        address = machine_address()
        with dashboard_process(
            kubeconfig, "--address", address, "--auth", "kubernetes", "-n", namespace
        ) as url:
            assert "token=" not in url  # nothing secret is printed: users bring their own tokens
            base = url.rstrip("/").replace("0.0.0.0", "127.0.0.1")
            yield Setup(namespace, base, tokens, kubeconfig, devcluster.kubeconfig)
    finally:
        rbac.delete_cluster_role_binding(role["metadata"]["name"])
        rbac.delete_cluster_role(role["metadata"]["name"])
        core.delete_namespace(namespace, propagation_policy="Background")


def _paused_rollout(api_client: Any, namespace: str) -> None:
    steps = [{"setWeight": 50}, {"pause": {}}, {"setWeight": 80}]
    create_rollout(api_client, namespace, rollout_manifest("guarded", canary={"steps": steps}))
    write_paused_status(api_client, namespace, "guarded")


def bearer(setup: Setup, user: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {setup.tokens[user]}", **more}


def test_off_loopback_it_refuses_to_start_without_kubernetes_auth(devcluster: DevCluster) -> None:
    address, kubeconfig = machine_address(), str(devcluster.kubeconfig)
    assert "needs --auth kubernetes" in refused_start(kubeconfig, "--address", address)
    assert f"refusing to listen on {address} without auth" in refused_start(
        kubeconfig, "--address", address, "--insecure-no-auth"
    )
    # the other side of the rule: all of 127.0.0.0/8 is loopback, where the kubeconfig may be used
    with dashboard_process(kubeconfig, "--address", "127.0.0.2") as url:
        base, token = url.split("/?token=")
        assert base.startswith("http://127.0.0.2:")
        assert call(base, "/api/v1/version", headers={"Authorization": f"Bearer {token}"})[0] == 200


def test_a_request_without_a_valid_token_is_401(setup: Setup) -> None:
    status, body, _ = call(setup.base, f"/api/v1/rollouts/{setup.namespace}/info")
    assert (status, body["auth"], "missing token" in body["error"]) == (401, "kubernetes", True)
    status, body, _ = call(
        setup.base, "/api/v1/rollouts/info", headers={"Authorization": "Bearer not-a-token"}
    )
    assert (status, "invalid token" in body["error"]) == (401, True)
    status, body, _ = call(setup.base, "/api/v1/rollouts/info/watch", headers={"Authorization": "Bearer x"})
    assert status == 401  # a live stream too


def test_reads_are_authorized_per_user(setup: Setup) -> None:
    ns = setup.namespace
    status, body, _ = call(setup.base, "/api/v1/session", headers=bearer(setup, "reader"))
    assert (status, body["user"]) == (200, f"system:serviceaccount:{ns}:reader")
    status, body, _ = call(setup.base, "/api/v1/rollouts/info", headers=bearer(setup, "reader"))
    assert (status, [row["name"] for row in body["rollouts"]]) == (200, ["guarded"])
    status, body, _ = call(setup.base, f"/api/v1/rollouts/{ns}/guarded/info", headers=bearer(setup, "reader"))
    assert (status, body["status"]) == (200, "Paused")
    view = first_event(setup.base, f"/api/v1/rollouts/{ns}/guarded/info/watch", bearer(setup, "reader"))
    assert (view["name"], view["status"]) == ("guarded", "Paused")

    for path in ("/api/v1/rollouts/info", f"/api/v1/rollouts/{ns}/guarded/info/watch"):
        status, body, _ = call(setup.base, path, headers=bearer(setup, "stranger"))
        assert status == 403, body
        assert body["error"].startswith(f'user "system:serviceaccount:{ns}:stranger" may not ')
        assert "rollouts.argoproj.io" in body["error"]


def test_an_action_the_users_rbac_forbids_is_403_and_changes_nothing(setup: Setup, api_client: Any) -> None:
    ns = setup.namespace
    before = read(api_client, ns, "rollouts", "guarded")
    headers = bearer(setup, "reader", **{"Content-Type": "application/json"})
    status, body, _ = call(
        setup.base, f"/api/v1/rollouts/{ns}/guarded/promote", method="PUT", body=b"{}", headers=headers
    )
    assert status == 403
    assert body["error"] == (
        f'user "system:serviceaccount:{ns}:reader" may not '
        f'patch rollouts.argoproj.io/status "guarded" in namespace "{ns}"'
    )
    after = read(api_client, ns, "rollouts", "guarded")
    assert (after["spec"], after["status"]) == (before["spec"], before["status"])


def test_an_allowed_users_promote_is_sent_with_their_token(setup: Setup, api_client: Any) -> None:
    ns = setup.namespace
    # the dashboard's own identity cannot patch a Rollout: whatever lands was sent as the user
    own = client.CustomObjectsApi(_api_client(setup.dashboard_kubeconfig))
    with pytest.raises(client.ApiException) as refused:
        own.patch_namespaced_custom_object_status(
            "argoproj.io", "v1alpha1", ns, "rollouts", "guarded", {"status": {}}
        )
    assert refused.value.status == 403

    headers = bearer(setup, "operator", **{"Content-Type": "application/json"})
    status, body, _ = call(
        setup.base, f"/api/v1/rollouts/{ns}/guarded/promote", method="PUT", body=b"{}", headers=headers
    )
    assert (status, body) == (200, {"message": "rollout 'guarded' promoted"})
    status_after = read(api_client, ns, "rollouts", "guarded")["status"]
    assert "pauseConditions" not in status_after
    # the operator's cookie from a browser is not enough without the page's CSRF token
    login = json.dumps({"token": setup.tokens["operator"]}).encode()
    json_only = {"Content-Type": "application/json"}
    status, body, headers_back = call(
        setup.base, "/api/v1/login", method="POST", body=login, headers=json_only
    )
    assert status == 200
    cookie = headers_back["Set-Cookie"].split(";")[0]
    assert "HttpOnly" in headers_back["Set-Cookie"] and "SameSite=Strict" in headers_back["Set-Cookie"]
    with_cookie = {"Cookie": cookie, "Content-Type": "application/json"}
    status, body, _ = call(
        setup.base, f"/api/v1/rollouts/{ns}/guarded/pause", method="PUT", body=b"{}", headers=with_cookie
    )
    assert (status, "X-CSRF-Token" in body["error"]) == (403, True)
    with_csrf = {
        **with_cookie,
        "X-CSRF-Token": call(setup.base, "/api/v1/session", headers={"Cookie": cookie})[1]["csrfToken"],
    }
    status, body, _ = call(
        setup.base, f"/api/v1/rollouts/{ns}/guarded/pause", method="PUT", body=b"{}", headers=with_csrf
    )
    assert status == 200, body
    assert read(api_client, ns, "rollouts", "guarded")["spec"]["paused"] is True


def test_on_loopback_it_acts_with_the_kubeconfigs_rights(setup: Setup, tmp_path: Path) -> None:
    """A reader's own kubeconfig on loopback: the live page works without Jobs (the reader may
    not list them: left out, as ``kubectl rollouts get`` does); a stranger's gets a 403."""
    ns = setup.namespace
    reader = _kubeconfig(setup.admin_kubeconfig, setup.tokens["reader"], tmp_path / "reader")
    with dashboard_process(reader, "-n", ns) as url:
        base, token = url.split("/?token=")
        view = first_event(base, f"/api/v1/rollouts/{ns}/guarded/info/watch", {"X-Rollouts-Token": token})
        assert (view["name"], view["status"] in ("Paused", "Progressing")) == ("guarded", True)
    stranger = _kubeconfig(setup.admin_kubeconfig, setup.tokens["stranger"], tmp_path / "stranger")
    with dashboard_process(stranger, "-n", ns) as url:
        base, token = url.split("/?token=")
        status, body, _ = call(base, "/api/v1/rollouts/info/watch", headers={"X-Rollouts-Token": token})
        assert status == 403
        assert f"system:serviceaccount:{ns}:stranger" in body["error"]


def test_a_resumed_stream_gets_only_what_changed(setup: Setup, api_client: Any) -> None:
    """Reconnecting with the current Last-Event-ID: no snapshot again, the next change comes as
    a row update against the view the page holds (nothing else changes in this namespace)."""
    for name in ("second", "third"):  # one row of three changing is sent as a row update
        create_rollout(api_client, setup.namespace, rollout_manifest(name))
    headers = bearer(setup, "reader")

    def snapshot_now() -> Event:
        stream = events(setup.base, "/api/v1/rollouts/info/watch", headers)
        try:
            return next(stream)
        finally:
            stream.close()

    # until the dashboard's watch has seen both new rollouts
    snapshot = until("three rows", snapshot_now, lambda event: len(event.data["rollouts"]) == 3)
    resumed = events(setup.base, "/api/v1/rollouts/info/watch", {**headers, "Last-Event-ID": snapshot.id})
    try:
        set_rollout_status(api_client, setup.namespace, "guarded", readyReplicas=1)
        update = next(resumed)
    finally:
        resumed.close()
    assert update.name == "rows", (snapshot.id, update)
    assert (update.data["remove"], update.data["namespaces"]) == ([], [setup.namespace])
    assert [(row["name"], row["replicas"]["ready"]) for row in update.data["upsert"]] == [("guarded", 1)]
    assert update.id != snapshot.id
    # an id from another start of the server (or none) gets the whole view
    fresh = events(setup.base, "/api/v1/rollouts/info/watch", {**headers, "Last-Event-ID": "elsewhere.1"})
    try:
        assert next(fresh).name == "message"
    finally:
        fresh.close()


def _api_client(kubeconfig: str) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=kubeconfig)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    opened = Browser(tmp_path_factory.mktemp("chromium-auth"))
    try:
        yield opened
    finally:
        opened.close()


def test_in_the_browser_a_reader_signs_in_sees_and_is_refused_an_action(
    setup: Setup, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    artefacts = artefacts_folder(tmp_path_factory.mktemp("screenshots-auth"))
    browser.open(setup.base + "/")
    browser.wait_for("the sign-in form", "document.getElementById('login')?.hidden === false")
    shot(browser, artefacts, "auth-sign-in")
    browser.click("#login-token")
    browser.send("Input.insertText", text=setup.tokens["reader"])
    browser.click("#login-submit")
    browser.wait_for("the overview row", "!!document.querySelector('tr[data-name=\"guarded\"]')")
    assert browser.evaluate("document.getElementById('user').innerText") == (
        f"signed in as system:serviceaccount:{setup.namespace}:reader"
    )
    assert browser.evaluate("document.cookie") == ""  # the token cookie is HttpOnly
    shot(browser, artefacts, "auth-overview")

    browser.click('tr[data-name="guarded"] a')
    browser.wait_for("the live detail", "document.querySelector('#rollout-name')?.innerText === 'guarded'")
    browser.wait_for("the live stream", "document.getElementById('live').dataset.state === 'open'")
    browser.click("#promote")
    browser.wait_for("the confirmation", "document.getElementById('confirm').open")
    browser.click("#confirm-ok")
    banner = "document.getElementById('banner').innerText"
    refusal = browser.wait_for("the refusal", f"{banner}.includes('may not') && {banner}")
    assert f"system:serviceaccount:{setup.namespace}:reader" in refusal
    shot(browser, artefacts, "auth-action-refused")
