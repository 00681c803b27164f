"""The Business section of `mayday status` at 80 columns: every open action on one line."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console, Group

from mayday.cli.business_view import BusinessView, actions_table, business_rows
from workflows.business_contracts import Stage
from workflows.business_state import ActionStatus, BusinessStatus, Deliverable

NOW = datetime.now(UTC)
INCIDENT = "incident-checkout-3f9a1c2e"
BUSINESS = "business-checkout-3f9a1c2e-1-a1b2c3"


def _action(
    action: str, owner: str, *, step: int = 0, eta: int = 10, done: bool = False
) -> ActionStatus:
    return ActionStatus(
        function="marketing",
        kind="halt",
        action=action,
        title=action.replace("-", " "),
        owner_role=owner,
        state="done" if done else "waiting",
        step=step,
        eta_at=NOW + timedelta(minutes=eta),
    )


def _business(**changes: object) -> BusinessStatus:
    status = BusinessStatus(
        id=BUSINESS,
        parent_id=INCIDENT,
        stage=Stage.EMERGENCY_OPS,
        emergency="active",
        security=False,
        codename=None,
        roles={"business_lead": "lena-schmidt", "technical_slt": "kofi-mensah"},
        missing=["media_officer"],
        briefing={"started": "09:12Z"},
        briefing_missing=["trigger", "affected_now"],
        modes={"marketing": "halting", "social": "halted"},
        actions=[
            _action("pause-proactive-outreach", "marketing_officer", step=3, eta=-20),
            _action("pause-paid-ads", "marketing_officer", step=2, eta=-10),
            _action("freeze-web-promotions", "marketing_officer", eta=-1),
            _action("pause-call-campaigns", "marketing_officer"),
            _action("pause-scheduled-posts", "social_officer", done=True),
        ],
        pages={},
        resolution_sent_at=None,
        preliminary=None,
        postmortem=None,
        timeline=[],
        timeline_total=0,
    )
    return status.model_copy(update=changes)


def _lines(view: BusinessView, width: int = 80) -> list[str]:
    rows = [f"{label:<16}  {value}" for label, value in business_rows(view, INCIDENT)]
    out = io.StringIO()
    table = actions_table(view, width=width, wide=False)
    Console(width=width, file=out).print(Group(*rows, *([table] if table else [])))
    return out.getvalue().splitlines()


def test_open_actions_show_owner_step_and_eta_within_80_columns() -> None:
    lines = _lines(BusinessView(BUSINESS, _business()))
    table = lines[next(i for i, line in enumerate(lines) if line.split()[:1] == ["action"]) :]
    assert max(len(line) for line in table) <= 80, table
    steps = {line.split()[0]: line for line in table[1:]}
    assert "overdue, Lead paged" in steps["pause-proactive-outreach"]
    assert "overdue, backup paged" in steps["pause-paid-ads"]
    assert "overdue" in steps["freeze-web-promotions"]
    assert "assigned" in steps["pause-call-campaigns"]
    assert "pause-scheduled-posts" not in steps  # done
    assert all(
        "marketing_officer" in line and line.rstrip().endswith("Z") for line in steps.values()
    )


def test_rows_say_what_is_missing_and_when_the_postmortem_is_due() -> None:
    due = NOW - timedelta(hours=1)
    business = _business(
        stage=Stage.POST_INCIDENT,
        resolution_sent_at=NOW,
        postmortem=Deliverable(owner_role="incident_commander", owner="aisha-bello", due_at=due),
        preliminary=Deliverable(owner_role="technical_slt", status="closed", due_at=due),
    )
    rows = dict(business_rows(BusinessView(BUSINESS, business), INCIDENT))
    assert rows["stage"] == "post_incident, emergency active"
    assert rows["missing roles"] == "media_officer"
    assert rows["briefing missing"] == "trigger, affected-now"
    assert rows["functions"] == "marketing halting, social halted"
    assert rows["resolution"].startswith("sent ")
    assert (
        rows["postmortem"].startswith("none, overdue since") and "aisha-bello" in rows["postmortem"]
    )
    assert rows["preliminary"].startswith("closed, due") and "technical_slt" in rows["preliminary"]
    assert rows["open actions"] == f"4: mayday confirm {INCIDENT} ACTION"


def test_a_business_incident_not_created_yet_says_so() -> None:
    view = BusinessView(BUSINESS, note="starting (created in a moment)")
    assert business_rows(view, INCIDENT) == [("stage", "starting (created in a moment)")]
    assert actions_table(view, width=80, wide=False) is None
