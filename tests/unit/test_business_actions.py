"""The business HTTP action against a fake business API: what went out, and what each failure
means for repeating it (unavailable: retry; refused or possibly done: never automatically)."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.business_actions import BusinessActions
from tests.fakes.fake_business_api import FakeBusinessApi
from workflows.business_contracts import (
    ACTION_POSSIBLY_DONE,
    ACTION_REFUSED,
    ACTION_UNAVAILABLE,
    HttpActionRequest,
    HttpActionResult,
    HttpCall,
)

KEY = "business-checkout-1-1:marketing:halt:pause-campaigns"
PATH = "/v1/campaigns/pause"
SECRETS = ("hunter2", "tok-secret", "sig=abc123", "Bearer live-key", "ada@example.com")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def api() -> Iterator[FakeBusinessApi]:
    with FakeBusinessApi() as fake:
        yield fake


@pytest.fixture
def actions() -> BusinessActions:
    return BusinessActions(timeout=0.5, connect_timeout=0.5)


def action(url: str, **call: Any) -> HttpActionRequest:
    return HttpActionRequest(
        action_key=KEY,
        business_id="business-checkout-1-1",
        call=HttpCall(url=url, **call),
    )


async def run(actions: BusinessActions, request: HttpActionRequest) -> HttpActionResult:
    return await ActivityEnvironment().run(actions.http_action, request)


async def failure(actions: BusinessActions, request: HttpActionRequest) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await run(actions, request)
    return caught.value


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_action_is_sent_once_with_its_idempotency_key_and_json_body(
    api: FakeBusinessApi, actions: BusinessActions
) -> None:
    request = action(
        api.url + PATH,
        headers={"Authorization": "Bearer live-key", "idempotency-key": "from-the-playbook"},
        body={"scope": "all", "reason": "incident"},
    )
    result = await run(actions, request)

    assert (result.status, result.detail) == (200, 'HTTP 200: {"ok": true}')
    assert result.elapsed_ms >= 0
    [sent] = api.calls(PATH)
    assert sent.method == "POST"
    assert sent.json == {"scope": "all", "reason": "incident"}
    assert sent.header("Content-Type") == "application/json"
    assert sent.header("Authorization") == "Bearer live-key"
    assert sent.header("User-Agent") == "mayday"
    assert api.idempotency_keys() == [KEY]


async def test_long_unprintable_answer_becomes_a_short_visible_detail(
    api: FakeBusinessApi, actions: BusinessActions
) -> None:
    api.fail_next(status=202, body=b"\x1b]0;owned\x07queued\r\n" + b"x" * 3_000)
    result = await run(actions, action(api.url + PATH, method="PUT"))

    assert result.status == 202
    assert result.detail.startswith("HTTP 202: queued x")
    assert result.detail.endswith("[truncated]")
    assert len(result.detail) <= 200
    assert result.detail.isprintable()


async def test_delete_without_body_sends_no_body(
    api: FakeBusinessApi, actions: BusinessActions
) -> None:
    api.fail_next(status=204, body=b"")
    result = await run(actions, action(api.url + PATH, method="DELETE"))

    assert (result.status, result.detail) == (204, "HTTP 204")
    [sent] = api.calls()
    assert (sent.method, sent.body, sent.header("Content-Type")) == ("DELETE", b"", None)


async def test_503_with_retry_after_is_unavailable_and_says_when(
    api: FakeBusinessApi, actions: BusinessActions
) -> None:
    api.fail_next(status=503, retry_after=30)
    err = await failure(actions, action(api.url + PATH))

    assert (err.type, err.non_retryable) == (ACTION_UNAVAILABLE, False)
    assert err.details == ({"status": 503, "retry_after": 30.0},)
    assert err.next_retry_delay == timedelta(seconds=30)
    assert KEY in err.message and "POST" in err.message and "503" in err.message


@pytest.mark.parametrize("status", [429, 502, 504])
async def test_come_back_later_statuses_are_unavailable(
    api: FakeBusinessApi, actions: BusinessActions, status: int
) -> None:
    api.fail_next(status=status)
    err = await failure(actions, action(api.url + PATH))

    assert (err.type, err.non_retryable) == (ACTION_UNAVAILABLE, False)
    assert err.details == ({"status": status, "retry_after": None},)


async def test_closed_port_is_unavailable(actions: BusinessActions) -> None:
    err = await failure(actions, action(f"http://127.0.0.1:{closed_port()}{PATH}"))

    assert (err.type, err.non_retryable) == (ACTION_UNAVAILABLE, False)
    assert err.details == ({"status": None, "retry_after": None},)
    assert "refused" in err.message


async def test_unknown_host_is_unavailable(actions: BusinessActions) -> None:
    err = await failure(actions, action(f"https://mayday-test.invalid{PATH}"))

    assert (err.type, err.non_retryable) == (ACTION_UNAVAILABLE, False)
    assert "did not resolve" in err.message


async def test_connect_timeout_is_unavailable(actions: BusinessActions) -> None:
    # A listener that never accepts, its backlog full: the next connection attempt hangs.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        queued = [socket.socket() for _ in range(3)]
        for sock in queued:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
        try:
            err = await failure(actions, action(f"http://127.0.0.1:{port}{PATH}"))
        finally:
            for sock in queued:
                sock.close()

    assert (err.type, err.non_retryable) == (ACTION_UNAVAILABLE, False)
    assert "connecting timed out" in err.message


async def test_answer_past_the_read_timeout_is_possibly_done_and_sent_once(
    api: FakeBusinessApi,
) -> None:
    api.hang_next(seconds=5)
    env = ActivityEnvironment()
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    with pytest.raises(ApplicationError) as caught:
        await env.run(BusinessActions(timeout=1.2).http_action, action(api.url + PATH))

    err = caught.value
    assert (err.type, err.non_retryable) == (ACTION_POSSIBLY_DONE, True)
    assert err.details == ({"status": None},)
    assert "1.2 s" in err.message
    assert len(api.calls(PATH)) == 1
    assert len(beats) >= 2


async def test_connection_dropped_after_sending_is_possibly_done(
    api: FakeBusinessApi, actions: BusinessActions
) -> None:
    api.drop_next()
    err = await failure(actions, action(api.url + PATH))

    assert (err.type, err.non_retryable) == (ACTION_POSSIBLY_DONE, True)
    assert len(api.calls(PATH)) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 409, 500, 501, 302])
async def test_other_statuses_are_refused_with_their_status(
    api: FakeBusinessApi, actions: BusinessActions, status: int
) -> None:
    api.fail_next(status=status, headers={"Location": api.url + "/elsewhere"})
    err = await failure(actions, action(api.url + PATH))

    assert (err.type, err.non_retryable) == (ACTION_REFUSED, True)
    assert err.details == ({"status": status},)
    assert f"HTTP {status}" in err.message
    assert [call.path for call in api.calls()] == [PATH]


async def test_drill_calls_nothing_and_hands_the_action_to_the_sinks(
    api: FakeBusinessApi,
) -> None:
    drilled: list[HttpActionRequest] = []
    request = action(api.url + PATH).model_copy(update={"drill": True})
    result = await run(BusinessActions(sinks=[drilled.append]), request)

    assert (result.status, result.detail) == (0, "drill: not called")
    assert drilled == [request]
    assert api.calls() == []


async def test_local_activity_does_not_heartbeat(
    api: FakeBusinessApi, actions: BusinessActions
) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, is_local=True)
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    result = await env.run(actions.http_action, action(api.url + PATH))

    assert result.status == 200
    assert beats == []


async def test_cancellation_stops_the_wait_at_once(api: FakeBusinessApi) -> None:
    api.hang_next(seconds=5)
    env = ActivityEnvironment()
    task = asyncio.create_task(
        env.run(BusinessActions(timeout=3).http_action, action(api.url + PATH))
    )
    await asyncio.to_thread(api.requests.wait_for, 1)
    cancelled_at = time.monotonic()
    env.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - cancelled_at < 0.5


@pytest.mark.parametrize("status", [400, 503, None], ids=["refused", "unavailable", "closed"])
async def test_messages_never_show_the_url_headers_or_body(
    api: FakeBusinessApi, actions: BusinessActions, status: int | None
) -> None:
    if status is None:
        port = closed_port()
    else:
        port = int(api.url.rsplit(":", 1)[1])
        api.fail_next(status=status)
    err = await failure(
        actions,
        action(
            f"http://ops:hunter2@127.0.0.1:{port}{PATH}?token=tok-secret&sig=abc123",
            headers={"Authorization": "Bearer live-key"},
            body={"notify": "ada@example.com"},
        ),
    )

    assert err.message.startswith(f"Business action {KEY}: POST to 127.0.0.1:{port} ")
    shown = err.message + repr(err.details)
    assert not [secret for secret in SECRETS if secret in shown]
    assert PATH not in shown and "\n" not in err.message
    assert err.__cause__ is None


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/pause", "file:///etc/passwd", "javascript:alert(1)", "http:///x"]
)
async def test_url_that_is_not_http_with_a_host_is_refused(
    api: FakeBusinessApi, actions: BusinessActions, url: str
) -> None:
    err = await failure(actions, action(url))

    assert (err.type, err.non_retryable) == (ACTION_REFUSED, True)
    assert err.details == ({"status": None},)
    assert "http:// or https://" in err.message


async def test_header_that_cannot_be_sent_is_refused_before_anything_leaves(
    api: FakeBusinessApi, actions: BusinessActions
) -> None:
    for bad in ("line\r\nX-Injected: 1", "snow \u2603"):
        err = await failure(actions, action(api.url + PATH, headers={"X-Campaign": bad}))
        assert (err.type, err.non_retryable) == (ACTION_REFUSED, True)
        assert bad not in err.message
    assert api.calls() == []
