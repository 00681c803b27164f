"""The business HTTP action: one call to a business function's endpoint ("pause all campaigns").

An action changes the business, so it is sent at most once per activity attempt and its failures
say whether repeating it is safe (the workflow decides; every type is in business_contracts)::

    ACTION_UNAVAILABLE    retryable      nothing reached the endpoint (refused, DNS, connect
                                         timeout) or it answered 429/502/503/504;
                                         details {"status", "retry_after"}
    ACTION_POSSIBLY_DONE  non-retryable  the request may have left and no answer came (read
                                         timeout, dropped connection, ...); details {"status"}
    ACTION_REFUSED        non-retryable  any other status, or a URL that is not http(s);
                                         details {"status"}

`action_key` goes out as the Idempotency-Key, so an endpoint that deduplicates makes a repeat
harmless. Messages name the action key, the method and the host only: URLs may carry tokens in
their query or user info, and headers and bodies may carry secrets or personal data.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from temporalio import activity
from temporalio.exceptions import ApplicationError
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NameResolutionError

from activities.providers.retry_hints import retry_after
from playbooks import Playbook
from workflows.bounds import clean_text
from workflows.business_contracts import (
    ACTION_POSSIBLY_DONE,
    ACTION_REFUSED,
    ACTION_UNAVAILABLE,
    HttpActionRequest,
    HttpActionResult,
)

HEARTBEAT_EVERY = 1.0
"""Seconds between heartbeats while the endpoint answers, so a cancellation reaches the call."""
DETAIL_MAX = 200
"""Characters of a result's detail: the status and an excerpt of the answer."""
EXCERPT_READ = 4_096
"""Bytes of a 2xx answer read for its excerpt; the rest is never downloaded."""
UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})
"""Answers that mean "not now, come back later": the action was not carried out."""
HOST_MAX = 255
"""Characters of the host an error message names."""
DRILL_DETAIL = "drill: not called"
USER_AGENT = "mayday"

DrillSink = Callable[[HttpActionRequest], object]
"""Receives a drill's action instead of its endpoint (a test list's `append`, a log); quick."""

T = TypeVar("T")


@dataclass(frozen=True)
class _Target:
    """The parts of a validated action URL that may be shown: method and host, never the URL."""

    url: str
    method: str
    host: str

    def what(self, action_key: str) -> str:
        return f"Business action {action_key}: {self.method} to {self.host}"


class BusinessActions:
    """Carries out business functions' HTTP actions; register `acts.http_action`.

    `connect_timeout` bounds reaching the endpoint (a timeout there is ACTION_UNAVAILABLE);
    `timeout` bounds waiting for its answer once the request is sent (ACTION_POSSIBLY_DONE).
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        sinks: Sequence[DrillSink] = (),
        playbook: Playbook | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._timeout = (connect_timeout, timeout)
        self._sinks = tuple(sinks)
        self._playbook = playbook
        self._environ = os.environ if environ is None else environ

    def _headers(self, request: HttpActionRequest) -> dict[str, str]:
        """The playbook action's headers, `${NAME}` taken from the environment.

        Headers (tokens) never enter workflow history: the workflow names the action, and its
        headers are read here from the worker's playbook.
        """
        if self._playbook is None or not request.action:
            return dict(request.call.headers)
        function = self._playbook.business_functions.get(request.function)
        steps = (function.halt if request.kind == "halt" else function.resume) if function else []
        action = next((step for step in steps if step.id == request.action), None)
        if action is None or action.http is None:
            return {}
        return {
            name: _expand(value, self._environ, request.action_key)
            for name, value in action.http.headers.items()
        }

    @activity.defn(name="business_http_action")
    async def http_action(self, request: HttpActionRequest) -> HttpActionResult:
        """Call the action's endpoint once; a drill hands the action to the sinks instead."""
        target = _target(request)
        if request.drill:
            for sink in self._sinks:
                sink(request)
            return HttpActionResult(status=0, detail=DRILL_DETAIL)
        headers = self._headers(request)
        request = request.model_copy(
            update={"call": request.call.model_copy(update={"headers": headers})}
        )
        call = asyncio.to_thread(self._call, request, target)
        try:
            result = await (call if activity.info().is_local else _heartbeating(call))
        except ApplicationError as err:
            activity.logger.warning("%s", err.message)
            raise
        activity.logger.info(
            "%s answered HTTP %d in %d ms.",
            target.what(request.action_key),
            result.status,
            result.elapsed_ms,
        )
        return result

    def _call(self, request: HttpActionRequest, target: _Target) -> HttpActionResult:
        what = target.what(request.action_key)
        # A fresh session per action: a stale pooled connection would fail after sending and
        # look like a possibly-done action.
        with requests.Session() as session:
            try:
                prepared = session.prepare_request(_http_request(request, target))
            except (requests.RequestException, TypeError, ValueError) as exc:
                raise _unbuildable(what, exc) from None
            settings = session.merge_environment_settings(target.url, {}, True, None, None)
            started = time.monotonic()
            try:
                # Redirects are answers, never followed: a 302 would turn the action into a GET.
                response = session.send(
                    prepared, timeout=self._timeout, allow_redirects=False, **settings
                )
            except requests.RequestException as exc:
                # Never chained nor quoted: requests' own messages contain the full URL.
                raise _transport_error(what, exc, self._timeout) from None
            except Exception as exc:
                # Whatever else breaks while sending may break after the request left.
                raise _possibly_done(what, f"the call failed ({type(exc).__name__})") from None
            with response:
                status = response.status_code
                if not 200 <= status < 300:
                    raise _status_error(what, status, response)
                excerpt = _excerpt(response)
        return HttpActionResult(
            status=status,
            detail=_detail(status, excerpt),
            elapsed_ms=int((time.monotonic() - started) * 1000),
        )


def _target(request: HttpActionRequest) -> _Target:
    """The call's method and shown host, once its URL is http(s) with a host and valid port."""
    method = request.call.method
    try:
        parts = urlsplit(request.call.url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        scheme, host, port = "", None, None
    if scheme not in ("http", "https") or not host:
        raise ApplicationError(
            f"Business action {request.action_key}: {method} not sent: the playbook's URL must "
            "be http:// or https:// with a host and a valid port; fix the action's http block.",
            {"status": None},
            type=ACTION_REFUSED,
            non_retryable=True,
        )
    shown = clean_text(f"[{host}]" if ":" in host else host, HOST_MAX)
    return _Target(request.call.url, method, f"{shown}:{port}" if port else shown)


def _http_request(request: HttpActionRequest, target: _Target) -> requests.Request:
    """The request to send: the playbook's headers and JSON body, with our Idempotency-Key.

    Raises ValueError (UnicodeEncodeError) for a header http.client cannot send, so that it is
    refused before anything leaves, and TypeError or ValueError for a body that is not JSON.
    """
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict({"User-Agent": USER_AGENT})
    headers.update(request.call.headers)
    headers["Idempotency-Key"] = request.action_key
    data: bytes | None = None
    if request.call.body is not None:
        data = json.dumps(request.call.body, allow_nan=False).encode()
        headers.setdefault("Content-Type", "application/json")
    for name, value in headers.items():
        name.encode("ascii")
        value.encode("latin-1")
    return requests.Request(target.method, target.url, headers=headers, data=data)


def _excerpt(response: requests.Response) -> str:
    """The start of a 2xx answer as text; "" when it cannot be read."""
    head = b""
    try:
        for chunk in response.iter_content(chunk_size=1024):
            head += chunk
            if len(head) >= EXCERPT_READ:
                break
    except (requests.RequestException, OSError):
        # The status line came: the action was done, only its description is lost.
        return ""
    return head[:EXCERPT_READ].decode("utf-8", errors="replace")


def _detail(status: int, excerpt: str) -> str:
    """`HTTP <status>: <excerpt>`, visible, on one line and at most DETAIL_MAX characters."""
    prefix = f"HTTP {status}"
    shown = clean_text(excerpt, DETAIL_MAX - len(prefix) - 2)
    return f"{prefix}: {shown}" if shown else prefix


def _refused(what: str, status: int | None, why: str) -> ApplicationError:
    return ApplicationError(
        f"{what} {why}; not repeated: fix the playbook's http block or carry out the action "
        "by hand.",
        {"status": status},
        type=ACTION_REFUSED,
        non_retryable=True,
    )


def _possibly_done(what: str, cause: str) -> ApplicationError:
    return ApplicationError(
        f"{what} may have been carried out: {cause}. Not repeated: check the function by hand.",
        {"status": None},
        type=ACTION_POSSIBLY_DONE,
        non_retryable=True,
    )


def _unbuildable(what: str, exc: Exception) -> ApplicationError:
    """A request that could not be built from the playbook (URL, header or body)."""
    cause = type(exc).__name__
    return _refused(what, None, f"was not sent: the request could not be built ({cause})")


def _status_error(what: str, status: int, response: requests.Response) -> ApplicationError:
    """The error for a non-2xx answer: come back later (429, 502-504), else refused."""
    if status not in UNAVAILABLE_STATUSES:
        return _refused(what, status, f"was refused with HTTP {status}")
    hint = retry_after(response.headers)
    seconds = None if hint is None else hint.total_seconds()
    when = "it may be retried" if seconds is None else f"it asked to retry after {seconds:g} s"
    return ApplicationError(
        f"{what} answered HTTP {status}: not carried out, {when}.",
        {"status": status, "retry_after": seconds},
        type=ACTION_UNAVAILABLE,
        non_retryable=False,
        next_retry_delay=hint,
    )


def _transport_error(
    what: str, exc: requests.RequestException, timeout: tuple[float, float]
) -> ApplicationError:
    """The error for a call that got no answer: whether the request may have left decides."""
    unsent = _why_unsent(exc)
    if unsent is not None:
        return ApplicationError(
            f"{what} was not sent: {unsent}; it may be retried.",
            {"status": None, "retry_after": None},
            type=ACTION_UNAVAILABLE,
            non_retryable=False,
        )
    if isinstance(exc, requests.ReadTimeout):
        return _possibly_done(what, f"no answer came within {timeout[1]:g} s")
    if isinstance(exc, requests.ConnectionError):
        return _possibly_done(what, "the connection was lost before the answer came")
    return _possibly_done(what, f"the call failed ({type(exc).__name__})")


def _why_unsent(exc: requests.RequestException) -> str | None:
    """Why the request never left, when the failure proves it did not; None when it may have.

    With read retries off (requests' default), urllib3 raises failures after sending as they
    are; a connect failure comes wrapped in MaxRetryError as its reason.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return "connecting timed out"
    reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else None
    if isinstance(reason, NameResolutionError):
        return "the host name did not resolve"
    if isinstance(reason, ConnectTimeoutError):
        # NewConnectionError (refused, unreachable) is a ConnectTimeoutError in urllib3.
        return "the connection was refused or timed out"
    return None


async def _heartbeating(work: Coroutine[Any, Any, T]) -> T:
    """Await `work`, heartbeating meanwhile; a cancellation stops the wait at once."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            activity.heartbeat()
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
    finally:
        # A request already on the wire (in a thread) still ends; its answer is dropped.
        task.cancel()


_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def _expand(value: str, environ: Mapping[str, str], action_key: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ApplicationError(
                f"Business action {action_key}: header needs ${{{name}}}, which is not set "
                "on this worker.",
                {"status": None},
                type=ACTION_REFUSED,
                non_retryable=True,
            )
        return environ[name]

    return _VARIABLE.sub(one, value)
