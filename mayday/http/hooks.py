"""`POST /hooks/{source}`: authenticate, parse, route and hand alerts to Temporal durably."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError, RPCStatusCode

from mayday.alert_intake import HandOff, UnroutableAlert, acknowledge_from_source, failure_kind
from mayday.hooks import PARSERS, HookError, PayloadTooLarge, verify
from mayday.http.metrics import HookMetrics
from mayday.http.temporal_link import TemporalLink
from mayday.incidents import NoWorker
from mayday.playbook_seam import current_playbook, snapshot
from mayday.settings import Settings

log = logging.getLogger(__name__)

HANDOFF_TIMEOUT_SECONDS = 10.0
RETRY_AFTER_SECONDS = "5"
ACKNOWLEDGED = "incident.acknowledged"
RECONNECT_ON = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.UNKNOWN}


def error(status: int, message: str, field: str | None = None) -> JSONResponse:
    """The one error shape every hook answers with."""
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    return JSONResponse({"error": message, "field": field}, status_code=status, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than the {limit}-byte limit.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body is larger than the {limit}-byte limit.")
        chunks.append(chunk)
    return b"".join(chunks)


class Unsigned(StrEnum):
    """Who may post hooks without credentials when no hook secret is configured."""

    NOBODY = "nobody"
    LOOPBACK = "loopback"
    ANYONE = "anyone"


def register_hooks(
    app: FastAPI,
    settings: Settings,
    link: TemporalLink,
    metrics: HookMetrics,
    *,
    unsigned: Unsigned,
) -> None:
    """Add the alert hook routes; `unsigned` says who may skip authentication without a secret.

    A configured hook secret always wins: every delivery must then be authentic.
    """
    playbook = current_playbook(settings.playbook)
    frozen = snapshot(playbook)
    secret = settings.hook_secret.get_secret_value() if settings.hook_secret else None
    window = timedelta(seconds=settings.hook_signature_window)
    hand_off = HandOff(settings, playbook, frozen, link.client)

    @app.post("/hooks/{source}", status_code=202)
    async def alert_hook(source: str, request: Request) -> JSONResponse:
        began = time.perf_counter()
        response = await handle(source, request)
        label = source if source in PARSERS else "unknown"
        metrics.deliveries.labels(label, str(response.status_code)).inc()
        if response.status_code == 202:
            metrics.handoff_seconds.labels(label).observe(time.perf_counter() - began)
        return response

    async def handle(source: str, request: Request) -> JSONResponse:
        parse = PARSERS.get(source)
        if parse is None:
            return error(404, f"Unknown hook source {source!r}; use one of {sorted(PARSERS)}.")
        try:
            body = await read_body(request, settings.hook_max_body_bytes)
            if secret or unsigned is not Unsigned.ANYONE:
                verify(
                    source,
                    body,
                    request.headers,
                    secret=secret,
                    now=datetime.now(UTC),
                    loopback_only_unauthenticated=unsigned is Unsigned.LOOPBACK,
                    client_host=request.client.host if request.client else "",
                    window=window,
                )
            parsed = parse(body, request.headers)
        except HookError as err:
            return error(err.status, err.error, err.field)
        if parsed.event == ACKNOWLEDGED and parsed.alerts:
            try:
                async with asyncio.timeout(HANDOFF_TIMEOUT_SECONDS):
                    client = await link.client()
                    acked = await acknowledge_from_source(
                        client, playbook, parsed.source, parsed.alerts
                    )
            except UnroutableAlert as err:
                return error(422, str(err), err.field)
            except NoWorker:
                log.warning("PagerDuty ack unanswered: no worker")
                return error(503, "No mayday worker answered; the ack was not recorded, retry.")
            except (RPCError, RuntimeError, TimeoutError) as err:
                unavailable(err)
                return error(503, "Temporal is unavailable; the ack was not recorded, retry.")
            return JSONResponse({"incidents": acked, "event": parsed.event}, status_code=202)
        if not parsed.alerts:
            return JSONResponse({"incidents": [], "event": parsed.event}, status_code=202)
        try:
            async with asyncio.timeout(HANDOFF_TIMEOUT_SECONDS):
                intake = await hand_off(parsed.source, parsed.delivery_id, parsed.alerts)
        except UnroutableAlert as err:
            unrouted(parsed.source, err.unrouted)
            return error(422, str(err), err.field)
        except HookError as err:
            return error(err.status, err.error, err.field)
        except (RPCError, RuntimeError, TimeoutError) as err:
            unavailable(err)
            return error(503, "Temporal is unavailable; the alert was not accepted, retry later.")
        unrouted(parsed.source, intake.unrouted)
        return JSONResponse(
            {"incidents": intake.incidents, "unrouted": intake.unrouted, "ignored": intake.ignored},
            status_code=202,
        )

    def unrouted(source: str, count: int) -> None:
        if count:
            # Counts only: labels may name people or hosts (no PII in logs).
            log.warning("%d alert(s) from %s matched no route of the playbook", count, source)
            metrics.unrouted.labels(source).inc(count)

    def unavailable(err: BaseException) -> None:
        kind = failure_kind(err)
        if kind == "signal-limit":
            # The incident's run is full: it must continue-as-new before taking more alerts.
            log.error("alert hand-off refused by Temporal: %s", kind)
            return
        log.warning("alert hand-off to Temporal failed: %s", kind)
        if isinstance(err, RuntimeError) or (
            isinstance(err, RPCError) and err.status in RECONNECT_ON
        ):
            link.forget()
