"""The alert book: exact times, digests for long fingerprints, room made, small when full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workflows.alert_book import ALERTS_MAX, AlertBook, alert_key
from workflows.contracts import IncidentState
from workflows.phases import Phase

T0 = datetime(2026, 12, 2, 3, 0, 0, 123456, tzinfo=UTC)


def test_times_round_trip_to_the_microsecond() -> None:
    book = AlertBook({})
    book.note("a", status="firing", fired=T0)
    book.note("a", ended=T0 + timedelta(microseconds=1))
    assert book.fired_at("a") == T0
    assert book.ended_at("a") == T0 + timedelta(microseconds=1)
    assert book.status("a") == "firing"
    book.note("a", status="resolved")
    assert (book.status("a"), book.fired_at("a")) == ("resolved", T0)
    assert book.status("never") is None and book.fired_at("never") is None


def test_long_or_hash_like_fingerprints_are_keyed_by_a_digest() -> None:
    long = "f" * 300
    assert alert_key(long).startswith("#") and len(alert_key(long)) == 33
    assert alert_key("#short") != "#short"
    book = AlertBook({})
    book.note(long, status="firing", fired=T0)
    assert book.status(long) == "firing" and len(next(iter(book.newest(1)))) == 33


def test_a_full_book_makes_room_from_the_oldest_resolved_and_else_refuses() -> None:
    raw: dict[str, str] = {}
    book = AlertBook(raw)
    for n in range(ALERTS_MAX):
        book.note(f"a{n}", status="resolved" if n == 7 else "firing", fired=T0)
    assert book.note("newcomer", status="firing", fired=T0)
    assert book.status("a7") is None and book.status("newcomer") == "firing"
    assert not book.note("one-too-many", status="firing", fired=T0)
    assert len(book) == ALERTS_MAX
    assert book.counts() == {"firing": ALERTS_MAX}


def test_twenty_thousand_alerts_fit_a_continue_as_new_input_with_room_to_spare() -> None:
    state = IncidentState(severity="SEV2", phase=Phase.INVESTIGATING)
    book = AlertBook(state.alert_book)
    for n in range(20_000):
        fired = T0 + timedelta(seconds=n)
        book.note(f"{n:016x}", status="firing", fired=fired)
        book.note(f"{n:016x}", status="resolved", ended=fired + timedelta(minutes=5))
    size = len(state.model_dump_json())
    assert size < 1_000_000, size  # Temporal refuses payloads over 2 MB
    assert book.all_resolved() and book.counts() == {"resolved": 20_000}


def test_state_carried_from_before_the_book_migrates_without_losing_a_fact() -> None:
    statuses = {"a": "firing", "b": "resolved"}
    fired = {"a": T0, "b": T0}
    ended = {"b": T0 + timedelta(minutes=1)}
    book = AlertBook({})
    book.migrate(statuses, fired, ended)
    assert (book.status("a"), book.fired_at("a"), book.ended_at("a")) == ("firing", T0, None)
    assert book.ended_at("b") == T0 + timedelta(minutes=1)
    assert statuses == fired == ended == {}


def test_shedding_forgets_the_oldest_resolved_first() -> None:
    book = AlertBook({})
    for n in range(6):
        book.note(f"a{n}", status="resolved" if n % 2 else "firing", fired=T0)
    assert book.shed_resolved(2) == 2
    assert [book.status(f"a{n}") for n in range(6)] == [
        "firing",
        None,
        "firing",
        None,
        "firing",
        "resolved",
    ]


def test_a_state_too_big_to_carry_sheds_old_entries_then_resolved_alerts() -> None:
    from workflows.contracts import TimelineEntry
    from workflows.incident_core import STATE_BUDGET, STATUS_TIMELINE, IncidentCore

    state = IncidentState(severity="SEV2", phase=Phase.INVESTIGATING)
    state.timeline = [
        TimelineEntry(at=T0, actor="mayday", kind="alert", text=f"{n} " + "x" * 480)
        for n in range(2_000)
    ]
    book = AlertBook(state.alert_book)
    for n in range(25_000):
        book.note(f"{n:016x}", status="resolved" if n < 20_000 else "firing", fired=T0)
    assert len(state.model_dump_json()) > STATE_BUDGET
    core = IncidentCore.__new__(IncidentCore)
    core._s = state
    core._fit_state()
    assert len(state.model_dump_json()) <= STATE_BUDGET
    assert [e.text.split()[0] for e in state.timeline[:2]] == ["0", "1"]  # the head stays
    assert state.timeline[-1].text.startswith("1999 ")  # the newest stay
    assert state.timeline_dropped + len(state.timeline) == 2_000
    assert len(state.timeline) >= STATUS_TIMELINE
    assert book.counts()["firing"] == 5_000  # firing alerts are never shed
