import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from cxpipe.config import Settings
from cxpipe.notify import WEBHOOK_ENV, alert_log_path, send_alert


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Receiver]]:
    """A real local HTTP server standing in for a chat tool's incoming webhook."""
    _Receiver.received = []
    _Receiver.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{server.server_port}/hook")
    yield _Receiver
    server.shutdown()


def test_alert_is_logged_without_a_webhook(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    alert = send_alert("task_failed", {"task_id": "publish"}, settings)
    assert alert["delivered"] is None
    logged = [json.loads(line) for line in alert_log_path(settings).read_text().splitlines()]
    assert logged == [alert]


def test_alert_is_posted_to_the_webhook(settings: Settings, webhook: type[_Receiver]) -> None:
    alert = send_alert("complaint_spike", {"cause": "late_delivery", "count": 30}, settings)
    assert alert["delivered"] is True
    assert len(webhook.received) == 1
    body = webhook.received[0]
    assert body["alert"]["cause"] == "late_delivery"
    assert body["text"].startswith("[cxpipe] complaint_spike:") and "count=30" in body["text"]


def test_a_failing_webhook_does_not_lose_the_alert(settings: Settings, webhook: type[_Receiver]) -> None:
    webhook.status = 500
    alert = send_alert("task_failed", {"task_id": "quality_gate"}, settings)
    assert alert["delivered"] is False
    assert json.loads(alert_log_path(settings).read_text())["task_id"] == "quality_gate"
