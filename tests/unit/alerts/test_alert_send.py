import json
import logging

import pytest
from configured import configured
from conftest import Webhook

from cxpipe.alerts.send import alert_log_path, send_alert
from cxpipe.settings import Settings


def test_alert_is_logged_without_a_webhook(settings: Settings) -> None:
    alert = send_alert("task_failed", {"task_id": "publish"}, settings)
    assert alert["delivered"] is None
    logged = [json.loads(line) for line in alert_log_path(settings).read_text().splitlines()]
    assert logged == [alert]


def test_alert_is_posted_to_the_webhook(settings: Settings, webhook: Webhook) -> None:
    settings = configured(settings, CX_ALERT_WEBHOOK_URL=webhook.url)
    alert = send_alert("complaint_spike", {"cause": "late_delivery", "count": 30}, settings)
    assert alert["delivered"] is True
    assert len(webhook.received) == 1
    body = webhook.received[0]
    assert body["alert"]["cause"] == "late_delivery"
    assert body["text"].startswith("[cxpipe] complaint_spike:") and "count=30" in body["text"]


def test_a_failing_webhook_does_not_lose_the_alert(settings: Settings, webhook: Webhook) -> None:
    settings = configured(settings, CX_ALERT_WEBHOOK_URL=webhook.url)
    webhook.status = 500
    alert = send_alert("task_failed", {"task_id": "quality_gate"}, settings)
    assert alert["delivered"] is False
    assert json.loads(alert_log_path(settings).read_text())["task_id"] == "quality_gate"


def test_a_failing_webhook_is_logged_without_its_token(
    settings: Settings, webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    secret_url = f"{webhook.url.rstrip('/')}/services/T0SECRET/B0SECRET/tokenXYZ123"
    settings = configured(settings, CX_ALERT_WEBHOOK_URL=secret_url)
    webhook.status = 404  # requests' error quotes the whole URL
    with caplog.at_level(logging.WARNING):
        assert send_alert("task_failed", {"task_id": "publish"}, settings)["delivered"] is False
    unreachable = configured(settings, CX_ALERT_WEBHOOK_URL="http://127.0.0.1:9/hooks/tokenABC987?key=k3y")
    with caplog.at_level(logging.WARNING):
        assert send_alert("task_failed", {"task_id": "publish"}, unreachable)["delivered"] is False
    logged = caplog.text
    assert "did not accept the alert" in logged and "/***" in logged
    for secret in ("T0SECRET", "tokenXYZ123", "tokenABC987", "k3y"):
        assert secret not in logged
