"""Splitting deliveries to fit a signal, and group commit of concurrent ones per incident."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from mayday.hooks import PayloadTooLarge
from mayday.intake_batching import GroupCommit, Submission, alert_size, split
from workflows.alerts import Alert, AlertBatch, AlertDelivery, AlertStatus

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def alert(n: int, pad: int = 0) -> Alert:
    return Alert(
        source="alertmanager",
        fingerprint=f"f{n}",
        status=AlertStatus.FIRING,
        title="Checkout 5xx",
        labels={"alertname": "CheckoutErrors", "pod": f"p{n}", "pad": "x" * pad},
    )


def submission(n: int, size: int = 100) -> Submission[str]:
    delivery = AlertDelivery(
        delivery_id=f"d{n}", source="alertmanager", alerts=[alert(n)], received_at=NOW
    )
    return Submission(delivery, size, "open")


def test_a_small_delivery_stays_whole_under_the_senders_id() -> None:
    [chunk] = split("abc", [alert(n) for n in range(10)])
    assert chunk.delivery_id == "abc"
    assert len(chunk.alerts) == 10


def test_a_big_delivery_splits_into_signals_that_fit_with_ids_a_retry_repeats() -> None:
    alerts = [alert(n, pad=200) for n in range(2_000)]
    chunks = split("abc", alerts, max_bytes=64 * 1024)
    assert len(chunks) > 4
    assert [c.delivery_id for c in chunks] == [f"abc#{n}" for n in range(1, len(chunks) + 1)]
    assert [a for c in chunks for a in c.alerts] == alerts
    for chunk in chunks:
        batch = AlertBatch(
            deliveries=[
                AlertDelivery(
                    delivery_id=chunk.delivery_id,
                    source="alertmanager",
                    alerts=chunk.alerts,
                    received_at=NOW,
                )
            ]
        )
        assert len(batch.model_dump_json()) <= chunk.size <= 64 * 1024
    again = split("abc", list(alerts), max_bytes=64 * 1024)
    assert [(c.delivery_id, c.alerts) for c in again] == [(c.delivery_id, c.alerts) for c in chunks]


def test_one_alert_too_big_to_travel_is_the_senders_413_naming_it() -> None:
    huge = alert(1, pad=1_100_000)
    assert alert_size(huge) > 1024 * 1024
    with pytest.raises(PayloadTooLarge) as caught:
        split("abc", [alert(0), huge])
    assert caught.value.field == "alerts.1"
    assert "x" * 10 not in str(caught.value)


async def test_deliveries_arriving_while_a_signal_is_in_flight_ride_the_next_one() -> None:
    sent: list[list[str]] = []
    release = asyncio.Event()

    async def send(_incident: str, batch: list[Submission[str]]) -> bool:
        sent.append([s.delivery.delivery_id for s in batch])
        await release.wait()
        return True

    commit = GroupCommit(send, max_deliveries=3)
    first = asyncio.create_task(commit.submit("incident-a", [submission(0)]))
    await asyncio.sleep(0)
    others = [asyncio.create_task(commit.submit("incident-a", [submission(n)])) for n in (1, 2)]
    more = [asyncio.create_task(commit.submit("incident-a", [submission(n)])) for n in (3, 4)]
    await asyncio.sleep(0.01)
    assert sent == [["d0"]]
    assert not first.done()
    release.set()
    assert await asyncio.gather(first, *others, *more) == [True] * 5
    assert sent == [["d0"], ["d1", "d2", "d3"], ["d4"]]


async def test_a_batch_is_bounded_in_bytes_and_keys_do_not_wait_for_each_other() -> None:
    sent: list[tuple[str, list[str]]] = []

    async def send(incident: str, batch: list[Submission[str]]) -> bool:
        sent.append((incident, [s.delivery.delivery_id for s in batch]))
        await asyncio.sleep(0.01)
        return True

    commit = GroupCommit(send, max_bytes=250)
    await asyncio.gather(
        commit.submit("incident-a", [submission(n) for n in range(5)]),
        commit.submit("incident-b", [submission(9)]),
    )
    assert ("incident-b", ["d9"]) in sent
    assert [ids for key, ids in sent if key == "incident-a"] == [["d0", "d1"], ["d2", "d3"], ["d4"]]


async def test_every_sender_in_a_failed_signal_gets_its_error_and_later_ones_still_go() -> None:
    calls = 0

    async def send(_incident: str, batch: list[Submission[str]]) -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 2:
            raise RuntimeError("Temporal refused")
        return calls != 3

    commit = GroupCommit(send)
    first = asyncio.create_task(commit.submit("incident-a", [submission(0)]))
    await asyncio.sleep(0)
    failing = [asyncio.create_task(commit.submit("incident-a", [submission(n)])) for n in (1, 2)]
    assert await first
    results = await asyncio.gather(*failing, return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert await commit.submit("incident-a", [submission(3)]) is False  # not reached


async def test_a_sender_that_gave_up_is_left_out_and_never_cancels_the_signal_in_flight() -> None:
    sent: list[list[str]] = []
    release = asyncio.Event()

    async def send(_incident: str, batch: list[Submission[str]]) -> bool:
        sent.append([s.delivery.delivery_id for s in batch])
        await release.wait()
        return True

    commit = GroupCommit(send)
    in_flight = asyncio.create_task(commit.submit("incident-a", [submission(0)]))
    rider = asyncio.create_task(commit.submit("incident-a", [submission(5)]))
    await asyncio.sleep(0)
    queued = asyncio.create_task(commit.submit("incident-a", [submission(1)]))
    await asyncio.sleep(0)
    rider.cancel()
    queued.cancel()
    await asyncio.sleep(0)
    stays = asyncio.create_task(commit.submit("incident-a", [submission(2)]))
    await asyncio.sleep(0)
    release.set()
    assert await in_flight
    assert await stays
    assert sent == [["d0", "d5"], ["d2"]]


async def test_a_linger_lets_deliveries_arriving_together_share_the_first_signal() -> None:
    sent: list[list[str]] = []

    async def send(_incident: str, batch: list[Submission[str]]) -> bool:
        sent.append([s.delivery.delivery_id for s in batch])
        return True

    commit = GroupCommit(send, linger=0.02)
    first = asyncio.create_task(commit.submit("incident-a", [submission(0)]))
    await asyncio.sleep(0.005)
    assert list(await asyncio.gather(first, commit.submit("incident-a", [submission(1)]))) == [
        True,
        True,
    ]
    assert sent == [["d0", "d1"]]
