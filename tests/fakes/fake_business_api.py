"""A fake business API (a marketing tool, a storefront) whose endpoints a business action calls."""

from __future__ import annotations

from tests.fakes.server import FakeServer, Fault, Incoming, RecordedRequest, Reply

OK = {"ok": True}


class FakeBusinessApi(FakeServer):
    """Answers every method and path with 200 `{"ok": true}` and records each request.

    Knobs from `FakeServer`: `fail_next(n, status=503, retry_after=30)` answers the next `n`
    requests with that status, `drop_next(n)` closes their connections unanswered. `hang_next`
    carries requests out and holds their answers past a client's read timeout.
    """

    vendor = "business-api"

    def route(self, request: Incoming) -> Reply:
        """Carry out any action."""
        return Reply.json(200, OK)

    def error_reply(self, fault: Fault, request: Incoming) -> Reply:
        """`{"ok": true}` for a held 2xx answer, else a short error body."""
        if 200 <= fault.status < 300:
            return Reply.json(fault.status, OK)
        return Reply.json(fault.status, {"ok": False, "error": f"injected HTTP {fault.status}"})

    def hang_next(self, count: int = 1, *, seconds: float = 5.0) -> None:
        """Carry out the next `count` requests, answering each only after `seconds`."""
        self.fail_next(count, status=200, delay=seconds)

    def calls(self, path: str | None = None) -> list[RecordedRequest]:
        """Every request received (on `path`, when given), oldest first."""
        return [r for r in self.requests if path is None or r.path == path]

    def idempotency_keys(self) -> list[str]:
        """The distinct Idempotency-Key headers received, in order of first arrival."""
        keys = (r.header("Idempotency-Key") for r in self.requests)
        return list(dict.fromkeys(key for key in keys if key is not None))
