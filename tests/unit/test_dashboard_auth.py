"""The dashboard's admission rules: the token (header, bearer or cookie) and cross-site actions."""

from __future__ import annotations

import pytest

from rollouts.dashboard.auth import COOKIE_NAME, check_request, new_token, session_cookie, token_matches

TOKEN = "s3cret-token"
JSON = {"content-type": "application/json", "host": "127.0.0.1:3100"}


def test_tokens_are_random_and_long() -> None:
    first, second = new_token(), new_token()
    assert first != second
    assert len(first) >= 40


@pytest.mark.parametrize(
    "headers",
    [
        {"x-rollouts-token": TOKEN},
        {"authorization": f"Bearer {TOKEN}"},
        {"authorization": f"bearer {TOKEN}"},
        {"cookie": f"other=1; {COOKIE_NAME}={TOKEN}"},
    ],
)
def test_a_read_with_the_token_passes(headers: dict[str, str]) -> None:
    assert check_request(TOKEN, "GET", headers).allowed


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
def test_a_read_without_the_right_token_is_401(headers: dict[str, str], word: str) -> None:
    verdict = check_request(TOKEN, "GET", headers)
    assert (verdict.status, word in verdict.message) == (401, True)


def test_no_auth_lets_reads_through() -> None:
    assert check_request(None, "GET", {}).allowed


def test_an_action_needs_json_content_even_without_auth() -> None:
    verdict = check_request(None, "PUT", {"content-type": "application/x-www-form-urlencoded"})
    assert verdict.status == 415
    assert "application/json" in verdict.message
    assert check_request(None, "PUT", {"content-type": "application/json; charset=utf-8"}).allowed


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:3101", "null"])
def test_a_cross_site_action_is_refused_even_with_the_cookie(origin: str) -> None:
    headers = {**JSON, "origin": origin, "cookie": f"{COOKIE_NAME}={TOKEN}"}
    verdict = check_request(TOKEN, "PUT", headers)
    assert verdict.status == 403
    assert "cross-site" in verdict.message


def test_a_same_origin_action_with_the_token_passes() -> None:
    headers = {**JSON, "origin": "http://127.0.0.1:3100", "cookie": f"{COOKIE_NAME}={TOKEN}"}
    assert check_request(TOKEN, "PUT", headers).allowed


def test_the_session_cookie_stays_out_of_scripts_and_other_sites() -> None:
    cookie = session_cookie(TOKEN)
    assert cookie.startswith(f"{COOKIE_NAME}={TOKEN};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_token_comparison() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN, None)
    assert not token_matches(TOKEN, TOKEN[:-1])
    assert not token_matches(TOKEN, "é")
