"""The shared machinery of the fake vendor servers: a threaded HTTP server on 127.0.0.1:0 that
records every request, plus knobs for latency and injected failures.

Each fake subclasses `FakeServer` and implements `route` (the happy path and the vendor's own
validation) and `error_reply` (the vendor's error body for an injected status/code).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

T = TypeVar("T")


class EventLog(Generic[T]):
    """A thread-safe, append-only list with a blocking `wait_for`."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def append(self, item: T) -> None:
        """Add an item and wake waiters."""
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def snapshot(self) -> list[T]:
        """A copy of the items so far."""
        with self._changed:
            return list(self._items)

    def wait_for(
        self, count: int = 1, *, where: Callable[[T], bool] | None = None, timeout: float = 5.0
    ) -> list[T]:
        """Block until at least `count` items (matching `where`) exist; return those items."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matching = [i for i in self._items if where is None or where(i)]
                remaining = deadline - time.monotonic()
                if len(matching) >= count or remaining <= 0:
                    break
                self._changed.wait(remaining)
        if len(matching) < count:
            raise TimeoutError(f"expected {count} entries within {timeout} s, got {len(matching)}")
        return matching

    def clear(self) -> None:
        """Forget every item."""
        with self._changed:
            self._items.clear()

    def __len__(self) -> int:
        with self._changed:
            return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    def __getitem__(self, index: int) -> T:
        with self._changed:
            return self._items[index]


@dataclass(frozen=True)
class Reply:
    """What the fake answers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        """A JSON reply."""
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


@dataclass(frozen=True)
class Fault:
    """An injected failure for one request: an error reply, extra delay, or a dropped socket."""

    status: int = 500
    code: int | None = None
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class Incoming:
    """A parsed request, as handed to `FakeServer.route`; `target` is the raw path and query."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    form: dict[str, list[str]]
    json: Any
    target: str

    def header(self, name: str) -> str | None:
        """A header value, looked up case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def field(self, name: str) -> str | None:
        """The first value of a form field."""
        values = self.form.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class RecordedRequest(Incoming):
    """One request as the fake received it: when, and the status it answered (0: dropped)."""

    at: float
    status: int


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per answer and no Nagle: split writes cost 40 ms per keep-alive request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeServer


class FakeServer:
    """Base fake: start with `with Fake() as fake:` (or `start()`/`close()`), then use `fake.url`.

    Knobs: `latency` (seconds before every answer), `fail_next(...)` to inject failures for the
    next N requests (then it succeeds again), `drop_next(n)` to close sockets without answering.
    """

    vendor = "fake"

    def __init__(self) -> None:
        self.requests: EventLog[RecordedRequest] = EventLog()
        self.latency = 0.0
        self.hang_ratio = 0.0
        """Share of requests that are carried out and then never answered (a read timeout)."""
        self.hang_for = 5.0
        self._hang_dice = random.Random(0)
        self.hung: EventLog[Incoming] = EventLog()
        """Requests carried out whose answer was held back."""
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (no trailing slash)."""
        if self._httpd is None:
            raise RuntimeError(f"the fake {self.vendor} server is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Listen on an ephemeral port in a background thread."""
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        code: int | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `count` requests with an error (vendor-shaped unless `body` is given)."""
        fault = Fault(status, code, retry_after, dict(headers or {}), body, delay)
        with self._lock:
            self._faults.extend([fault] * count)

    def drop_next(self, count: int = 1) -> None:
        """Close the connection of the next `count` requests without answering."""
        with self._lock:
            self._faults.extend([Fault(drop=True)] * count)

    def reset(self) -> None:
        """Forget pending faults, latency and the request log."""
        with self._lock:
            self._faults.clear()
        self.latency = 0.0
        self.hang_ratio = 0.0
        self.requests.clear()

    def route(self, request: Incoming) -> Reply:
        """Answer a request that no fault intercepted."""
        return Reply.json(404, {"message": f"no route for {request.method} {request.path}"})

    def error_reply(self, fault: Fault, request: Incoming) -> Reply:
        """The vendor's error body for an injected fault."""
        return Reply.json(fault.status, {"message": f"injected HTTP {fault.status}"})

    def hang(self, ratio: float, *, seconds: float = 5.0, seed: int = 0) -> None:
        """Carry out `ratio` of requests, then hold each answer `seconds` (a client timeout)."""
        with self._lock:
            self.hang_ratio, self.hang_for = ratio, seconds
            self._hang_dice = random.Random(seed)

    def _hangs(self) -> bool:
        with self._lock:
            return self._hang_dice.random() < self.hang_ratio

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _serve(self, handler: _Handler) -> None:
        incoming = _parse(handler)
        fault = self._next_fault()
        if fault is not None and fault.drop:
            self._record(incoming, 0)
            handler.close_connection = True
            return
        if fault is not None:
            reply = self.error_reply(fault, incoming)
            if fault.body is not None:
                reply = Reply(fault.status, fault.body, {"Content-Type": "text/html"})
            extra = dict(fault.headers)
            if fault.retry_after is not None:
                extra["Retry-After"] = str(int(fault.retry_after))
            reply = Reply(reply.status, reply.body, {**reply.headers, **extra})
        else:
            reply = self.route(incoming)
        self._record(incoming, reply.status)
        if fault is None and self.hang_ratio and self._hangs():
            # The request was carried out (a message created); only the answer never comes.
            self.hung.append(incoming)
            self._stopping.wait(self.hang_for)
            handler.close_connection = True
            return
        delay = self.latency + (fault.delay if fault else 0.0)
        if delay > 0 and self._stopping.wait(delay):
            return
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)

    def _record(self, incoming: Incoming, status: int) -> None:
        self.requests.append(
            RecordedRequest(
                incoming.method,
                incoming.path,
                incoming.query,
                incoming.headers,
                incoming.body,
                incoming.form,
                incoming.json,
                incoming.target,
                time.time(),
                status,
            )
        )


def _parse(handler: _Handler) -> Incoming:
    parts = urlsplit(handler.path)
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    content_type = handler.headers.get("Content-Type") or ""
    form: dict[str, list[str]] = {}
    payload: Any = None
    if "application/x-www-form-urlencoded" in content_type:
        form = parse_qs(body.decode(), keep_blank_values=True)
    elif body:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
    return Incoming(
        handler.command,
        parts.path,
        parse_qs(parts.query, keep_blank_values=True),
        dict(handler.headers.items()),
        body,
        form,
        payload,
        handler.path,
    )


class WebhookReceiver(FakeServer):
    """Stands in for mayday's hook endpoints: records every POST and answers `reply`.

    The default reply is Twilio's empty TwiML document, which every vendor accepts as a 200.
    """

    vendor = "receiver"

    def __init__(self) -> None:
        super().__init__()
        self.reply = Reply(200, b"<Response/>", {"Content-Type": "text/xml"})

    def route(self, request: Incoming) -> Reply:
        """Answer whatever was posted with `reply`."""
        return self.reply
