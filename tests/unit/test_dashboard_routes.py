"""Routing of the dashboard's API paths and parsing of action bodies, malformed input included."""

from __future__ import annotations

import pytest

from rollouts.dashboard.routes import Route, RouteError, parse_action_body, parse_login_body, route


@pytest.mark.parametrize(
    ("method", "target", "expected"),
    [
        ("GET", "/", Route("asset", asset="/")),
        ("GET", "/?token=abc", Route("asset", asset="/")),
        ("GET", "/app.js", Route("asset", asset="/app.js")),
        ("GET", "/api/v1/version", Route("version")),
        ("GET", "/api/v1/rollouts/info", Route("list")),
        ("GET", "/api/v1/rollouts/team-a/info", Route("list", namespace="team-a")),
        ("GET", "/api/v1/rollouts/team-a/web/info", Route("detail", "team-a", "web")),
        ("PUT", "/api/v1/rollouts/team-a/web/promote", Route("action", "team-a", "web", "promote")),
        ("PUT", "/api/v1/rollouts/team-a/web/abort", Route("action", "team-a", "web", "abort")),
        ("PUT", "/api/v1/rollouts/team-a/web/undo", Route("action", "team-a", "web", "undo")),
        ("PUT", "/api/v1/rollouts/team-a/web/undo/3", Route("action", "team-a", "web", "undo", 3)),
        ("GET", "/api/v1/session", Route("session")),
        ("POST", "/api/v1/login", Route("login")),
        ("POST", "/api/v1/logout", Route("logout")),
        ("GET", "/api/v1/rollouts/info/watch", Route("list", stream=True)),
        ("GET", "/api/v1/rollouts/team-a/info/watch", Route("list", namespace="team-a", stream=True)),
        ("GET", "/api/v1/rollouts/team-a/web/info/watch", Route("detail", "team-a", "web", stream=True)),
    ],
)
def test_known_paths(method: str, target: str, expected: Route) -> None:
    assert route(method, target) == expected


@pytest.mark.parametrize(
    ("method", "target", "status", "words"),
    [
        ("GET", "/etc/passwd", 404, "not found"),
        ("GET", "/static/../server.py", 404, "not found"),
        ("GET", "/api/v2/rollouts/info", 404, "not found"),
        ("GET", "/api/v1/things", 404, "no such API path"),
        ("GET", "/api/v1/rollouts/a/b/c/d/e", 404, "no such API path"),
        ("PUT", "/api/v1/rollouts/ns/web/explode", 404, "unknown action 'explode'"),
        ("PUT", "/api/v1/rollouts/ns/web/promote/now", 404, "no such API path"),
        ("PUT", "/api/v1/rollouts/ns/web/undo/two", 400, "invalid revision 'two'"),
        ("PUT", "/api/v1/rollouts/ns/web/undo/-1", 400, "invalid revision"),
        ("GET", "/api/v1/rollouts/Bad_NS/info", 400, "invalid namespace 'Bad_NS'"),
        ("GET", "/api/v1/rollouts/ns/%2e%2e/info", 400, "invalid rollout name '..'"),
        ("GET", "/api/v1/rollouts/ns/web/promote", 405, "use PUT"),
        ("PUT", "/api/v1/rollouts/ns/web/info", 405, "use GET"),
        ("POST", "/", 405, "use GET"),
        ("DELETE", "/api/v1/rollouts/info", 405, "use GET"),
        ("GET", "/api/v1/login", 405, "use POST"),
        ("PUT", "/api/v1/session", 405, "use GET"),
        ("PUT", "/api/v1/rollouts/ns/web/info/watch", 405, "use GET"),
        ("GET", "/api/v1/rollouts/ns/web/promote/watch", 404, "no such API path"),
        ("GET", "/api/v1/rollouts/a/b/c/info/watch", 404, "no such API path"),
        ("GET", "/api/v1/rollouts/Bad_NS/info/watch", 400, "invalid namespace 'Bad_NS'"),
        ("GET", "/api/v1/rollouts/watch", 404, "no such API path"),
    ],
)
def test_bad_paths_and_methods_say_why(method: str, target: str, status: int, words: str) -> None:
    with pytest.raises(RouteError) as caught:
        route(method, target)
    assert caught.value.status == status
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"", {}), (b"  ", {}), (b"{}", {}), (b'{"full": true}', {"full": True})],
)
def test_action_bodies(raw: bytes, expected: dict[str, object]) -> None:
    assert parse_action_body(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"{", "malformed JSON body"),
        (b"\xff\xfe", "malformed JSON body"),
        (b"[1, 2]", "must be a JSON object, not list"),
        (b'"promote"', "must be a JSON object, not str"),
        (b'{"full": "yes"}', '"full" must be true or false'),
    ],
)
def test_malformed_bodies_are_400(raw: bytes, words: str) -> None:
    with pytest.raises(RouteError) as caught:
        parse_action_body(raw)
    assert caught.value.status == 400
    assert words in caught.value.message


def test_a_login_body_carries_one_token() -> None:
    assert parse_login_body(b'{"token": " eyJhbGc.abc.def "}') == "eyJhbGc.abc.def"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", '{"token": "<a Kubernetes bearer token>"}'),
        (b'{"token": ""}', '{"token": "<a Kubernetes bearer token>"}'),
        (b'{"token": 42}', '{"token": "<a Kubernetes bearer token>"}'),
        (b'{"token": "a b"}', "one line of printable characters"),
        (b'{"token": "a\\nb"}', "one line of printable characters"),
        (b'{"token": "' + b"x" * 17000 + b'"}', "at most 16 KiB"),
        (b"{nope", "malformed JSON body"),
    ],
)
def test_malformed_logins_are_400(raw: bytes, words: str) -> None:
    with pytest.raises(RouteError) as caught:
        parse_login_body(raw)
    assert caught.value.status == 400
    assert words in caught.value.message
