"""The dashboard's admission rules: credentials, cross-site writes, CSRF tokens, where it may bind."""

from __future__ import annotations

import pytest

from rollouts.dashboard.auth import (
    AUTH_KUBERNETES,
    AUTH_NONE,
    AUTH_TOKEN,
    COOKIE_NAME,
    Credential,
    bind_refusal,
    check_csrf,
    check_token,
    check_write,
    cleared_cookie,
    csrf_token,
    is_loopback,
    new_token,
    offered_credentials,
    session_cookie,
    token_matches,
)

TOKEN = "s3cret-token"
SECRET = "per-start-secret"
JSON = {"content-type": "application/json", "host": "127.0.0.1:3100"}


def test_tokens_are_random_and_long() -> None:
    first, second = new_token(), new_token()
    assert first != second
    assert len(first) >= 40


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-rollouts-token": TOKEN}, [Credential(TOKEN)]),
        ({"authorization": f"Bearer {TOKEN}"}, [Credential(TOKEN)]),
        ({"authorization": f"bearer  {TOKEN} "}, [Credential(TOKEN)]),
        ({"cookie": f"other=1; {COOKIE_NAME}={TOKEN}"}, [Credential(TOKEN, from_cookie=True)]),
        (
            {"authorization": "Bearer a", "cookie": f"{COOKIE_NAME}=b"},
            [Credential("a"), Credential("b", from_cookie=True)],
        ),
        ({"authorization": "Basic abc"}, []),
        ({"cookie": 'bad"cookie;;=='}, []),
        ({"cookie": f"{COOKIE_NAME}="}, []),
        ({}, []),
    ],
)
def test_offered_credentials_headers_first(headers: dict[str, str], expected: list[Credential]) -> None:
    assert offered_credentials(headers) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {"x-rollouts-token": TOKEN},
        {"authorization": f"Bearer {TOKEN}"},
        {"cookie": f"other=1; {COOKIE_NAME}={TOKEN}"},
        {"x-rollouts-token": "wrong", "cookie": f"{COOKIE_NAME}={TOKEN}"},
    ],
)
def test_token_mode_lets_the_right_token_through(headers: dict[str, str]) -> None:
    verdict, credential = check_token(TOKEN, headers)
    assert verdict.allowed
    assert credential is not None and credential.value == TOKEN


@pytest.mark.parametrize(
    ("headers", "word"),
    [
        ({}, "missing token"),
        ({"x-rollouts-token": "wrong"}, "invalid token"),
        ({"authorization": "Basic abc"}, "missing token"),
        ({"cookie": f"{COOKIE_NAME}={TOKEN}x"}, "invalid token"),
        ({"cookie": 'bad"cookie;;=='}, "missing token"),
        ({"x-rollouts-token": ""}, "invalid token"),
    ],
)
def test_token_mode_refuses_without_the_right_token(headers: dict[str, str], word: str) -> None:
    verdict, credential = check_token(TOKEN, headers)
    assert (verdict.status, word in verdict.message, credential) == (401, True, None)


def test_reads_need_no_write_checks() -> None:
    assert check_write("GET", {"origin": "http://evil.example"}).allowed


def test_a_write_needs_json_content() -> None:
    verdict = check_write("PUT", {"content-type": "application/x-www-form-urlencoded"})
    assert verdict.status == 415
    assert "application/json" in verdict.message
    assert check_write("POST", {"content-type": "text/plain"}).status == 415
    assert check_write("PUT", {"content-type": "application/json; charset=utf-8"}).allowed


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:3101", "null"])
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_a_cross_site_write_is_refused(origin: str, method: str) -> None:
    verdict = check_write(method, {**JSON, "origin": origin})
    assert verdict.status == 403
    assert "cross-site" in verdict.message


def test_a_same_origin_write_passes() -> None:
    assert check_write("PUT", {**JSON, "origin": "http://127.0.0.1:3100"}).allowed
    assert check_write("PUT", {**JSON, "origin": "https://127.0.0.1:3100"}).allowed


def test_csrf_tokens_are_bound_to_the_secret_and_the_credential() -> None:
    token = csrf_token(SECRET, TOKEN)
    assert token == csrf_token(SECRET, TOKEN)
    assert token != csrf_token("other-secret", TOKEN)
    assert token != csrf_token(SECRET, "other-credential")
    assert TOKEN not in token and len(token) == 64


def test_a_cookie_borne_write_must_echo_the_csrf_token() -> None:
    cookie = Credential(TOKEN, from_cookie=True)
    refused = check_csrf(SECRET, "PUT", cookie, {})
    assert (refused.status, "X-CSRF-Token" in refused.message) == (403, True)
    assert check_csrf(SECRET, "PUT", cookie, {"x-csrf-token": "nope"}).status == 403
    assert check_csrf(SECRET, "PUT", cookie, {"x-csrf-token": csrf_token(SECRET, "other")}).status == 403
    assert check_csrf(SECRET, "PUT", cookie, {"x-csrf-token": csrf_token(SECRET, TOKEN)}).allowed


def test_a_header_borne_write_and_any_read_need_no_csrf_token() -> None:
    assert check_csrf(SECRET, "PUT", Credential(TOKEN), {}).allowed  # browsers never add this header
    assert check_csrf(SECRET, "GET", Credential(TOKEN, from_cookie=True), {}).allowed


def test_without_auth_writes_still_need_the_csrf_token() -> None:
    assert check_csrf(SECRET, "PUT", None, {}).status == 403
    assert check_csrf(SECRET, "PUT", None, {"x-csrf-token": csrf_token(SECRET, "")}).allowed


def test_the_session_cookie_stays_out_of_scripts_and_other_sites() -> None:
    cookie = session_cookie(TOKEN)
    assert cookie.startswith(f"{COOKIE_NAME}={TOKEN};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Max-Age=0" in cleared_cookie() and "HttpOnly" in cleared_cookie()


def test_token_comparison() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN, None)
    assert not token_matches(TOKEN, TOKEN[:-1])
    assert not token_matches(TOKEN, "é")


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "[::1]", "localhost"])
def test_loopback_addresses(address: str) -> None:
    assert is_loopback(address)


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "10.1.2.3", "192.0.2.2", "fd00::2", "example.com", ""])
def test_addresses_other_machines_can_reach(address: str) -> None:
    assert not is_loopback(address)


@pytest.mark.parametrize("mode", [AUTH_TOKEN, AUTH_KUBERNETES, AUTH_NONE])
def test_every_mode_may_bind_loopback(mode: str) -> None:
    assert bind_refusal("127.0.0.1", mode) is None


@pytest.mark.parametrize("address", ["0.0.0.0", "192.0.2.2", "::", "dashboard.example"])
def test_off_loopback_only_kubernetes_auth(address: str) -> None:
    assert bind_refusal(address, AUTH_KUBERNETES) is None
    no_auth = bind_refusal(address, AUTH_NONE)
    assert no_auth is not None and f"refusing to listen on {address} without auth" in no_auth
    token = bind_refusal(address, AUTH_TOKEN)
    assert token is not None and "--auth kubernetes" in token


def test_an_unknown_mode_is_refused() -> None:
    refusal = bind_refusal("127.0.0.1", "basic")
    assert refusal is not None and "unknown auth mode 'basic'" in refusal
