"""The click handler's answers when something it depends on fails: never a 500, never a lost click."""

from __future__ import annotations

import io
import json
from types import ModuleType

import pytest

from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.logic.click_redirect import ClickRedirector
from partnerpoints.signing import ClickKeys
from partnerpoints_infra.functions import LocalLambdaContext
from tests.unit.test_click_open_redirect import event
from tests.unit.test_click_redirect import BROWSER, FakeStore

CONTEXT = LocalLambdaContext("ClickRedirectFunction", 256, 3, "us-east-1")
KEYS = ClickKeys.from_secret("h" * 48)


def browser_click(query: str = "") -> dict[str, object]:
    return event("shop-a-home", query, {"user-agent": BROWSER}, "GET")


def test_a_click_that_cannot_be_stored_is_redirected_and_logged_whole(
    click_handler: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FakeStore()
    store.failing = True
    monkeypatch.setattr(click_handler, "get_click_redirector", lambda: ClickRedirector(store, lambda: KEYS))
    log = io.StringIO()
    monkeypatch.setattr(click_handler.logger.registered_handler, "stream", log)  # bound to stdout at import
    capsys.readouterr()
    response = click_handler.lambda_handler(browser_click("sub1=kept"), CONTEXT)
    assert response["statusCode"] == 302
    logs = [json.loads(line) for line in log.getvalue().splitlines()]
    [logged] = [line for line in logs if line["message"] == "click redirected but not recorded"]
    assert logged["click"]["sub_ids"] == {"sub1": "kept"}
    assert logged["click"]["click_id"] in response["headers"]["Location"]
    assert "198.51.100.7" not in json.dumps(logged)  # the raw IP is not in the log either
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [metrics] = [line for line in emitted if "UnrecordedClicks" in line]
    assert (metrics["UnrecordedClicks"], metrics["Clicks"]) == ([1.0], [1.0])


def test_an_unreadable_signing_key_is_a_503_page_not_a_500(
    click_handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable() -> ClickKeys:
        raise StorageUnavailable("the click signing secret could not be read")

    monkeypatch.setattr(
        click_handler, "get_click_redirector", lambda: ClickRedirector(FakeStore(), unreadable)
    )
    response = click_handler.lambda_handler(browser_click(), CONTEXT)
    assert response["statusCode"] == 503
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "try again" in response["body"]
    assert "secret" not in response["body"]


@pytest.mark.parametrize("query", ["sub1=%ff", "&".join(f"x{i}=1" for i in range(51))])
def test_an_unreadable_query_is_a_400_page(click_handler: ModuleType, query: str) -> None:
    response = click_handler.lambda_handler(browser_click(query), CONTEXT)
    assert response["statusCode"] == 400
    assert "query string is not valid" in response["body"]
