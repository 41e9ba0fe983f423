"""The server's decisions that need no cluster: namespace scope, loopback rule, the printed URL."""

from __future__ import annotations

import pytest

from rollouts.dashboard.routes import RouteError
from rollouts.dashboard.server import DashboardSettings, _Dashboard, check_address, make_server, url_of
from rollouts.plugin import main as plugin_main
from rollouts.plugin.kube import Cluster


def test_a_namespaced_dashboard_refuses_other_namespaces() -> None:
    dashboard = _Dashboard(DashboardSettings(namespace="shop"), Cluster(api_client=None, namespace="shop"))
    assert dashboard.scoped("shop").namespace == "shop"
    with pytest.raises(RouteError) as caught:
        dashboard.scoped("payments")
    assert caught.value.status == 403
    assert "namespace 'shop' only" in caught.value.message


def test_an_all_namespaces_dashboard_acts_in_the_asked_one() -> None:
    settings = DashboardSettings(namespace="shop", all_namespaces=True)
    dashboard = _Dashboard(settings, Cluster(api_client=None, namespace="shop"))
    assert dashboard.scoped("payments").namespace == "payments"


def test_the_namespace_a_list_shows() -> None:
    cluster = Cluster(api_client=None, namespace="shop")
    assert _Dashboard(DashboardSettings(namespace="shop"), cluster).list_namespace("") == "shop"
    everywhere = _Dashboard(DashboardSettings(namespace="shop", all_namespaces=True), cluster)
    assert everywhere.list_namespace("") == ""  # every namespace
    assert everywhere.list_namespace("payments") == "payments"
    with pytest.raises(RouteError):
        _Dashboard(DashboardSettings(namespace="shop"), cluster).list_namespace("payments")


@pytest.mark.parametrize("address", ["0.0.0.0", "10.1.2.3", "::"])
def test_off_loopback_only_with_kubernetes_auth(address: str) -> None:
    with pytest.raises(ValueError, match=f"refusing to listen on {address} without auth"):
        check_address(DashboardSettings(address=address, auth="none"))
    with pytest.raises(ValueError, match="needs --auth kubernetes"):
        check_address(DashboardSettings(address=address, token="t"))
    check_address(DashboardSettings(address=address, auth="kubernetes"))
    check_address(DashboardSettings(address="127.0.0.1", auth="none"))
    check_address(DashboardSettings(address="127.0.0.1", token="t"))


def test_token_mode_needs_its_token() -> None:
    with pytest.raises(ValueError, match="needs a token"):
        check_address(DashboardSettings(token=None))


def test_kubernetes_auth_prints_no_token() -> None:
    settings = DashboardSettings(port=0, auth="kubernetes")
    server = make_server(settings, Cluster(api_client=None, namespace="default"))
    try:
        assert url_of(server, settings) == f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.server_close()


def test_the_url_carries_the_token_and_the_real_port() -> None:
    settings = DashboardSettings(port=0, token="abc")  # the default mode: the token in the URL
    server = make_server(settings, Cluster(api_client=None, namespace="default"))
    try:
        url = url_of(server, settings)
        assert url == f"http://127.0.0.1:{server.server_address[1]}/?token=abc"
        assert not url.endswith(":0/?token=abc")
    finally:
        server.server_close()


def test_the_page_is_shipped_in_the_package() -> None:
    dashboard = _Dashboard(DashboardSettings(), Cluster(api_client=None, namespace="default"))
    page = dashboard.assets["/"].decode()
    assert '<script src="/app.js"' in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from elsewhere
    assert dashboard.assets["/app.js"].startswith(b"// The dashboard page")


def test_the_command_refuses_contradicting_auth_flags(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["dashboard", "--insecure-no-auth", "--auth", "kubernetes", "--kubeconfig", "/nonexistent"]
    assert plugin_main(argv) == 1
    assert "--insecure-no-auth and --auth kubernetes contradict each other" in capsys.readouterr().err


def test_the_command_knows_two_auth_modes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        plugin_main(["dashboard", "--auth", "basic"])
    assert "invalid choice: 'basic' (choose from 'token', 'kubernetes')" in capsys.readouterr().err
