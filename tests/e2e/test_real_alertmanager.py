"""A real Prometheus Alertmanager delivers to the real HTTP app: firing opens, resolve flows."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client

from mayday import incidents
from mayday.incidents import UnknownIncident
from mayday.runtime import EmbeddedHttpServer, serve_http
from mayday.settings import Settings
from tests.helpers import assert_eventually, free_port

pytestmark = pytest.mark.usefixtures("worker")

SECRET = "alertmanager-token"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

CONFIG = """
route:
  receiver: mayday
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: mayday
    webhook_configs:
      - url: http://127.0.0.1:{port}/hooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {secret}
"""


@pytest_asyncio.fixture(scope="module")
async def app_port(settings: Settings, client: Client) -> AsyncIterator[int]:
    """The mayday HTTP app on a real TCP port, as Alertmanager needs one."""
    import uvicorn

    from mayday.http.app import create_app

    async def factory() -> Client:
        return client

    port = free_port()
    secured = settings.model_copy(update={"hook_secret": SecretStr(SECRET), "http_port": port})
    server = EmbeddedHttpServer(
        uvicorn.Config(
            create_app(secured, factory), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve_http(server, stop))
    while not server.started:
        await asyncio.sleep(0.05)
    yield port
    stop.set()
    await task


@pytest.fixture(scope="module")
def alertmanager(app_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's prometheus-alertmanager on loopback, its webhook pointed at the app."""
    if ALERTMANAGER is None:
        pytest.fail("prometheus-alertmanager is not installed; .ci/run installs it")
    folder = tmp_path_factory.mktemp("alertmanager")
    config = folder / "alertmanager.yml"
    config.write_text(CONFIG.format(port=app_port, secret=SECRET))
    port = free_port()
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, Path(folder / "log").read_text()
            subprocess.run(["sleep", "0.1"], check=True)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _alert(alertname: str, ends_at: datetime | None = None) -> list[dict[str, object]]:
    alert: dict[str, object] = {
        "labels": {"alertname": alertname, "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "Checkout 5xx above 5%"},
        "startsAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "generatorURL": "http://prometheus.acme.internal:9090/graph",
    }
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat()
    return [alert]


async def test_real_alertmanager_opens_an_incident_and_resolve_flows_through(
    alertmanager: str, client: Client
) -> None:
    alertname = f"CheckoutErrors{uuid.uuid4().hex[:6]}"
    incident_id = f"incident-checkout-{alertname.lower()}"
    async with httpx.AsyncClient() as http:
        posted = await http.post(f"{alertmanager}/api/v2/alerts", json=_alert(alertname))
        assert posted.status_code == 200, posted.text

        async def opened() -> None:
            try:
                status = await incidents.status(client, incident_id)
            except UnknownIncident as err:
                raise AssertionError(str(err)) from None
            assert list(status.alerts.values()) == ["firing"]
            assert (status.severity, status.source) == ("SEV2", "alertmanager")

        await assert_eventually(opened, timeout=30, interval=0.5)

        resolved = await http.post(
            f"{alertmanager}/api/v2/alerts", json=_alert(alertname, ends_at=datetime.now(UTC))
        )
        assert resolved.status_code == 200

        async def resolved_on_timeline() -> None:
            status = await incidents.status(client, incident_id)
            assert list(status.alerts.values()) == ["resolved"]
            assert "alerts-resolved" in [entry.kind for entry in status.timeline]

        await assert_eventually(resolved_on_timeline, timeout=30, interval=0.5)
