"""`mayday dev` as a newcomer runs it: one command, URLs answer, Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_alert_hooks import alertmanager_payload
from tests.helpers import REPO, cli_env, free_port, run_cli

STARTUP_BUDGET_SECONDS = 30.0


def _answers(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def _processes_using(path: Path) -> list[int]:
    """Pids whose command line mentions `path` (the dev server's SQLite file)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in cmdline and "start-dev" in cmdline:
            pids.append(int(entry.name))
    return pids


def _post(url: str, body: bytes) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _wait_for_page(outbox: Path, incident_id: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = outbox.read_text().splitlines() if outbox.exists() else []
        for line in lines:
            entry: dict[str, Any] = json.loads(line)
            if entry["incident_id"] == incident_id and entry["purpose"] == "page":
                return entry
        time.sleep(0.05)
    raise AssertionError(f"no page for {incident_id} in {outbox}")


class DevStack:
    """A `mayday dev` subprocess on free ports."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.temporal_port, self.ui_port, self.http_port = free_port(), free_port(), free_port()
        self.process: subprocess.Popen[str] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "MAYDAY_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "MAYDAY_DATA_DIR": str(self.data_dir),
        }

    def workflows(self, query: str) -> list[dict[str, Any]]:
        """`temporal workflow list --query Q` against this stack, as JSON."""
        listed = subprocess.run(
            [
                str(Path(sys.executable).parent / "temporal"),
                "workflow",
                "list",
                "--address",
                f"127.0.0.1:{self.temporal_port}",
                "--query",
                query,
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        found: list[dict[str, Any]] = json.loads(listed.stdout or "[]")
        return found

    def start(self) -> float:
        """Start and return the seconds until both the UI and /readyz answer."""
        began = time.monotonic()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mayday",
                "dev",
                "--data-dir",
                str(self.data_dir),
                "--temporal-port",
                str(self.temporal_port),
                "--ui-port",
                str(self.ui_port),
                "--http-port",
                str(self.http_port),
            ],
            env=cli_env({}),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        while time.monotonic() - began < STARTUP_BUDGET_SECONDS:
            ui = _answers(f"http://127.0.0.1:{self.ui_port}/")
            ready = _answers(f"http://127.0.0.1:{self.http_port}/readyz")
            if ui == 200 and ready == 200:
                return time.monotonic() - began
            assert self.process.poll() is None, self.process.communicate()[0]
            time.sleep(0.2)
        raise AssertionError("mayday dev did not become ready within 30 s")

    def interrupt(self) -> str:
        """Ctrl-C, as a terminal sends it; return what the stack printed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        return output

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in _processes_using(self.data_dir / "temporal.db"):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    dev = DevStack(tmp_path / "data")
    yield dev
    dev.kill()


def test_dev_stack_serves_keeps_incidents_and_stops_cleanly(stack: DevStack) -> None:
    seconds = stack.start()
    assert seconds < STARTUP_BUDGET_SECONDS

    declared = run_cli(
        "declare",
        "--service",
        "checkout",
        "--severity",
        "SEV2",
        "--title",
        "Checkout errors",
        "--as",
        "dana-reyes",
        env=stack.env,
    )
    assert declared.code == 0, declared.stderr
    incident_id = declared.last_line

    # As an operator would check it: the temporal CLI filtering on the search attribute.
    assert incident_id in [
        w["execution"]["workflowId"] for w in stack.workflows('IncidentSeverity="SEV2"')
    ]

    # mayday dev accepts unsigned hooks from loopback; a redelivery joins the same incident.
    alert = json.dumps(alertmanager_payload("CheckoutDevStack")).encode()
    hook = f"http://127.0.0.1:{stack.http_port}/hooks/alertmanager"
    first, second = _post(hook, alert), _post(hook, alert)
    assert first["incidents"] == second["incidents"]
    [alert_incident] = first["incidents"]
    assert len(stack.workflows(f'WorkflowId="{alert_incident}"')) == 1
    # ...and pages the checkout on-call by SMS, through the outbox.
    assert _wait_for_page(stack.data_dir / "outbox.jsonl", alert_incident)["channel"] == "sms"

    output = stack.interrupt()
    assert stack.process is not None and stack.process.returncode == 0, output
    assert f"http://127.0.0.1:{stack.ui_port}" in output
    assert _processes_using(stack.data_dir / "temporal.db") == []

    stack.start()
    status = run_cli("status", incident_id, "--json", env=stack.env)
    assert status.code == 0, status.stderr
    assert json.loads(status.stdout)["phase"] == "investigating"
    resolved = run_cli("resolve", incident_id, env=stack.env)
    assert resolved.code == 0, resolved.stderr
    assert "resolved" in resolved.stdout
    stack.interrupt()
    assert _processes_using(stack.data_dir / "temporal.db") == []


def test_dev_refuses_a_port_in_use(stack: DevStack) -> None:
    stack.start()
    clash = subprocess.run(
        [
            sys.executable,
            "-m",
            "mayday",
            "dev",
            "--data-dir",
            str(stack.data_dir / "other"),
            "--temporal-port",
            str(stack.temporal_port),
            "--ui-port",
            str(free_port()),
            "--http-port",
            str(free_port()),
        ],
        env=cli_env({}),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert clash.returncode == 1
    assert f"Port {stack.temporal_port} (temporal) is already in use" in clash.stderr


def test_worker_exports_sdk_metrics_and_stops_on_sigterm(
    cli_settings_env: dict[str, str], worker: object
) -> None:
    metrics_port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mayday", "worker"],
        env=cli_env({**cli_settings_env, "MAYDAY_METRICS_PORT": str(metrics_port)}),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline and "temporal_" not in text:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as r:
                    text = r.read().decode()
            except OSError:
                time.sleep(0.2)
        assert "temporal_" in text, process.poll()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
    finally:
        if process.poll() is None:
            process.kill()


def test_dev_exits_when_its_temporal_server_dies(stack: DevStack) -> None:
    stack.start()
    assert stack.process is not None
    [server] = _processes_using(stack.data_dir / "temporal.db")
    os.kill(server, signal.SIGKILL)
    began = time.monotonic()
    output, _ = stack.process.communicate(timeout=30)
    elapsed = time.monotonic() - began
    assert stack.process.returncode == 1, output
    flat = " ".join(output.split())
    assert "The Temporal dev server stopped (exit code -9), so mayday dev stopped too" in flat
    assert "run `mayday dev` again" in flat
    assert "Traceback" not in output
    assert elapsed < 15, f"{elapsed:.1f} s"
