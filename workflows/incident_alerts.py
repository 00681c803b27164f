"""How an incident takes alerts: dedup, episodes, stale deliveries, severity, recurrence."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.alert_book import AlertBook
    from workflows.alerts import Alert, AlertDelivery, AlertStatus
    from workflows.bounds import clean_title
    from workflows.contracts import SYSTEM_ACTOR
    from workflows.incident_command import IncidentCommand
    from workflows.phases import Phase

SEEN_DELIVERIES = 200
"""Delivery ids remembered for dedup; senders resend within minutes, not hundreds of deliveries."""
ALERT_LINES_PER_DELIVERY = 5
"""Alert changes of one delivery written line by line; the rest are counted in one line."""
ALERT_LINES_MAX = 500
"""Alert lines an incident writes in all; past it, one running line counts the changes."""
FOLDED = "alerts-folded"


class IncidentAlerts(IncidentCommand):
    """Alerts joining an incident, and what they change about it."""

    def _take_delivery(self, delivery: AlertDelivery) -> None:
        if delivery.delivery_id in self._s.deliveries:
            return
        if self._s.phase is Phase.CLOSED:
            # The sender got this incident's id; keep the alert for the incident that follows.
            if any(item.status is AlertStatus.FIRING for item in delivery.alerts):
                self._s.late_alerts.append(delivery)
            return
        if self._take_alerts(delivery):
            if self._all_alerts_resolved():
                self._on_alerts_resolved(delivery.source)
            self._publish()

    def _book(self) -> AlertBook:
        return AlertBook(self._s.alert_book)

    def _take_alerts(self, delivery: AlertDelivery) -> bool:
        """Record what changed in a delivery (new, re-fired or resolved alerts); True if any."""
        s, book = self._s, self._book()
        s.deliveries = [*s.deliveries[-(SEEN_DELIVERIES - 1) :], delivery.delivery_id]
        lines: list[str] = []
        refired, changed = False, False
        for item in delivery.alerts:
            previous = book.status(item.fingerprint)
            if self._long_lived and self._stale(item, delivery.received_at):
                continue
            title = clean_title(item.title)
            if item.status is AlertStatus.FIRING:
                episode = self._new_episode(item, previous)
                if not self._note_firing(item, delivery.received_at):
                    s.alerts_untracked += 1
                    continue
                if not episode:
                    continue
                again = " again" if previous is not None else ""
                lines.append(f"Alert firing{again}: {title}")
                refired = refired or s.phase is Phase.RESOLVED
                if self._long_lived:
                    self._raise_for_alert(item, delivery.source)
            elif previous == AlertStatus.FIRING.value:
                book.note(item.fingerprint, ended=item.ends_at or delivery.received_at)
                lines.append(f"Alert resolved: {title}")
            elif previous is not None or self._long_lived:
                # Already resolved, or (since Step 5) a resolve of an alert never seen firing.
                continue
            if not book.note(item.fingerprint, status=item.status.value):
                s.alerts_untracked += 1
                continue
            changed = True
        self._write_alert_lines(delivery.source, lines)
        if refired and s.phase is Phase.RESOLVED and self._long_lived:
            self._recur(delivery)
        if changed:
            self._quiet_changed = True
        return changed

    def _write_alert_lines(self, source: str, lines: list[str]) -> None:
        """A few lines per delivery, and past ALERT_LINES_MAX one running count in all."""
        if not lines:
            return
        s = self._s
        total = f"({len(self._book())} alerts in all)"
        if s.alert_lines >= ALERT_LINES_MAX:
            last = s.timeline[-1] if s.timeline else None
            folded = 0
            if last is not None and last.kind == FOLDED:
                folded = int(last.text.split(" ", 1)[0].replace(",", ""))
                s.timeline.pop()
            self._record(source, FOLDED, f"{folded + len(lines):,} further alert changes {total}.")
            return
        shown = lines[:ALERT_LINES_PER_DELIVERY]
        for text in shown:
            self._record(source, "alert", text)
        s.alert_lines += len(shown)
        if len(lines) > ALERT_LINES_PER_DELIVERY:
            s.alert_lines += 1
            self._record(
                source,
                "alert",
                f"…and {len(lines) - ALERT_LINES_PER_DELIVERY} more alert changes in this "
                f"delivery {total}.",
            )

    def _new_episode(self, item: Alert, previous: str | None) -> bool:
        """Whether a firing alert is news: first seen, firing after a resolve, or re-fired.

        An alert still on record as firing counts again once its source gives a later start
        (a new episode), or, for sources without timestamps, once the incident was resolved.
        """
        if previous != AlertStatus.FIRING.value:
            return True
        if not self._long_lived:
            return False
        known = self._book().fired_at(item.fingerprint)
        if item.starts_at is not None:
            return known is not None and item.starts_at > known
        return self._s.phase is Phase.RESOLVED

    def _note_firing(self, item: Alert, received_at: datetime) -> bool:
        """Note when the alert fired; False when the book had no room for a new alert."""
        book = self._book()
        self._s.last_fired = workflow.now()
        known = book.fired_at(item.fingerprint)
        fired = item.starts_at or received_at
        if known is None or fired > known:
            return book.note(item.fingerprint, fired=fired)
        return True

    def _stale(self, item: Alert, received_at: datetime) -> bool:
        """A delivery older than what the incident already knows of this alert changes nothing."""
        if item.status is AlertStatus.RESOLVED:
            fired = self._book().fired_at(item.fingerprint)
            ended = item.ends_at or received_at
            return fired is not None and ended < fired
        ended_at = self._book().ended_at(item.fingerprint)
        return item.starts_at is not None and ended_at is not None and item.starts_at < ended_at

    def _raise_for_alert(self, item: Alert, source: str) -> None:
        playbook = self._input.playbook
        if item.severity is None or item.severity not in playbook.severities:
            return
        if playbook.rank(item.severity) >= playbook.rank(self._s.severity):
            return
        old, self._s.severity = self._s.severity, item.severity
        title = clean_title(item.title)
        self._record(source, "severity", f"Severity {old} → {item.severity}: alert {title}")
        self._after_raise(old)

    def _after_raise(self, old: str) -> None:
        """A raised severity pages what it now calls for: the team if nobody was, the IC."""
        if not self._s.phase.is_open or not self._s.declaration_paged:
            # Paging at declaration reads the severity the first alerts left.
            return
        was_unpaged = self._input.playbook.page_urgency.get(old, "high") == "none"
        if was_unpaged:
            self._page_team(f"raised to {self._s.severity}")
        self._page_commander_if_due()
        self._business_at_threshold(f"raised to {self._s.severity}")

    def _recur(self, delivery: AlertDelivery) -> None:
        s = self._s
        s.resolved_at = None
        if self._input.on_refire == "record":
            self._record(
                SYSTEM_ACTOR,
                "recurred",
                "The alert fired again after resolve; its route only records it.",
            )
            return
        self._move(delivery.source, Phase.INVESTIGATING, "recurred", "the alert fired again")
        self._page_team("recurred")
        self._page_commander_if_due()

    def _all_alerts_resolved(self) -> bool:
        return self._book().all_resolved()

    def _on_alerts_resolved(self, source: str) -> None:
        if not self._s.phase.is_open:
            return
        if self._input.auto_resolve:
            self._move(source, Phase.RESOLVED, "resolved", "every alert resolved (route opt-in)")
        else:
            # The guide leaves resolution to a person: tell the commander, change nothing.
            self._record(
                SYSTEM_ACTOR,
                "alerts-resolved",
                "Every alert has resolved; the incident commander decides whether to resolve.",
            )
