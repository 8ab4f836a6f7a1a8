"""The partner dashboard in a real browser (Debian's Chromium), on the demo's data as `make demo` leaves
it served: the demo's partner signs in with the key the demo printed, and what the page shows is what
the reporting API answers. Screenshots at a
desktop's width and a phone's (360 px) go to test-output/portal/; an error in the page's console fails."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from partnerpoints_infra.http_client import call
from partnerpoints_infra.template import PROJECT_ROOT
from tests.e2e.browser import chromium, console_errors, require_browser, screenshot
from tests.e2e.test_app_over_http import OPERATOR

WAIT_SECONDS = 30  # a bound on waiting for the page, not a measure of it


@pytest.fixture(scope="module")
def portal() -> Iterator[dict[str, Any]]:
    """`partnerpoints demo --keep-serving yes`, as `make demo` runs from a terminal: the scenario, then
    the stack left serving the dashboard on the demo's data, whose address and key it prints last. It
    must stop cleanly on Ctrl-C (SIGINT) when the tests are done."""
    require_browser()
    state_dir = Path(tempfile.mkdtemp(prefix="portal-demo-"))
    command = [sys.executable, "-m", "partnerpoints_infra.cli", "demo", "--keep-serving", "yes"]
    command += ["--port", "0", "--lambda-port", "0", "--state-dir", str(state_dir)]
    demo = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    printed: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            printed.append(line)
            if "sign in with shop-a's API key" in line:
                break
        found = re.search(r"Partner dashboard\s+(\S+)/portal\n.*API key\s+(\S+)", "".join(printed[-2:]))
        assert found, "".join(printed[-40:])
        base, api_key = found.groups()
        reading = threading.Thread(target=lambda: printed.extend(demo.stdout or []), daemon=True)
        reading.start()
        with chromium() as browser:
            yield {"base": base, "key": api_key, "browser": browser, "state_dir": state_dir}
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            code = demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            code = demo.wait()
        shutil.rmtree(state_dir, ignore_errors=True)
    assert code == 0, "".join(printed[-40:])
    assert "Stopping the local stack..." in "".join(printed)


def api(portal: dict[str, Any], path: str) -> Any:
    """A /partner route with the demo partner's key."""
    return call("GET", f"{portal['base']}{path}", headers={"authorization": f"Bearer {portal['key']}"}).json()


def operator(portal: dict[str, Any], path: str) -> Any:
    """An /admin route as the local stack's operator (IAM-signed)."""
    return call("GET", f"{portal['base']}{path}", sign_with=OPERATOR).json()


def sign_in(browser: WebDriver, base: str, api_key: str) -> None:
    browser.get(f"{base}/portal")
    field = browser.find_element(By.ID, "api-key")
    field.send_keys(api_key, Keys.ENTER)  # the keyboard alone signs in


def loaded(browser: WebDriver) -> None:
    """The dashboard answered (or said why not); a page still being left is waited for too."""
    WebDriverWait(browser, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda page: (
            page.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"
            or page.find_element(By.ID, "load-error").text
        )
    )
    assert browser.find_element(By.ID, "load-error").text == ""


def card(browser: WebDriver, name: str) -> tuple[str, str]:
    """A card's raw value (what the API answered) and the text a reader sees."""
    element = browser.find_element(By.CSS_SELECTOR, f'[data-card="{name}"]')
    return str(element.get_attribute("data-value")), element.find_element(By.CLASS_NAME, "value").text


def label(text: str) -> str:
    """A segment's code from the label the page shows ("Potential loyalists" -> potential_loyalists)."""
    return text.lower().replace(" ", "_")


def rows(browser: WebDriver, table_id: str) -> list[list[str]]:
    body = browser.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in body]


def test_a_partner_sees_its_numbers_as_the_api_answers_them(portal: dict[str, Any]) -> None:
    browser = portal["browser"]
    sign_in(browser, portal["base"], portal["key"])
    loaded(browser)
    today = datetime.now(UTC).date()
    month = f"from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}"
    totals = api(portal, f"/partner/summary?{month}")["totals"]
    (eur,) = totals["money"]
    assert int(card(browser, "clicks")[0]) == totals["clicks"]["total"] > 0
    assert card(browser, "clicks")[1] == f"{totals['clicks']['total']:,}"
    assert int(card(browser, "unique")[0]) == totals["clicks"]["unique"]
    assert int(card(browser, "orders")[0]) == totals["orders"]["new"] > 0
    assert card(browser, "sales") == (eur["gross_sales"], f"€{Decimal(eur['gross_sales']):,.2f}")
    assert card(browser, "commission")[0] == eur["commission_net"]
    assert Decimal(card(browser, "conversion")[0]) == Decimal(totals["conversion_rate"])
    assert browser.find_element(By.ID, "who").text == "Signed in as shop-a"

    # The latest transactions, the links, the segments and the statements, each from its route.
    orders = api(portal, f"/partner/orders?{month}&limit=20")["orders"]
    shown = rows(browser, "orders-table")
    assert [row[0] for row in shown] == [order["order_id"] for order in orders]
    links = api(portal, f"/partner/links?{month}")["links"]
    assert [row[0] for row in rows(browser, "links-table")] == [link["link_id"] for link in links][:10]
    rfm = api(portal, "/partner/analytics/rfm")
    (scored,) = rfm["currencies"]
    segments = {label(row[0]): int(row[1]) for row in rows(browser, "rfm-table")}
    assert segments == {s["segment"]: s["members"] for s in scored["segments"] if s["members"]}
    assert sum(segments.values()) == scored["members"] > 0
    statements = rows(browser, "statements-table")
    assert any(row[1] == "Day" for row in statements)
    assert browser.execute_script("return sessionStorage.length") == 1  # the key, for this tab only
    assert console_errors(browser) == []

    desktop = screenshot(browser, "partner-dashboard", 1280)
    phone = screenshot(browser, "partner-dashboard", 360)
    assert desktop.stat().st_size > 0
    assert phone.stat().st_size > 0
    # At 360 px nothing is wider than the screen but the tables, which scroll inside their panels.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
    assert console_errors(browser) == []


def test_a_refused_key_is_said_so_and_forgotten(portal: dict[str, Any]) -> None:
    browser = portal["browser"]
    browser.get(f"{portal['base']}/portal")
    browser.execute_script("sessionStorage.clear()")
    sign_in(browser, portal["base"], "ppk_notakey_notasecret")
    error = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda page: page.find_element(By.ID, "sign-in-error").text
    )
    assert "not accepted" in error
    assert browser.execute_script("return sessionStorage.length") == 0
    assert browser.find_element(By.ID, "dashboard").get_attribute("hidden") is not None
    # The browser reports the 401 answers themselves; nothing else went wrong in the page. The page's
    # other requests with the refused key may still be answering: read until the log stays quiet, so
    # that none of their 401s is left for the next test to find.
    reported = console_errors(browser)
    quiet_since = time.monotonic()
    deadline = quiet_since + WAIT_SECONDS
    while time.monotonic() - quiet_since < 1.5 and time.monotonic() < deadline:
        time.sleep(0.25)
        more = console_errors(browser)
        if more:
            reported += more
            quiet_since = time.monotonic()
    assert all("401" in message for message in reported)


def test_signing_out_forgets_the_key(portal: dict[str, Any]) -> None:
    browser = portal["browser"]
    sign_in(browser, portal["base"], portal["key"])
    loaded(browser)
    browser.find_element(By.ID, "sign-out").click()
    assert browser.execute_script("return sessionStorage.length") == 0
    assert browser.find_element(By.ID, "sign-in").is_displayed()
    assert console_errors(browser) == []


def test_the_operator_approves_an_unattributed_order_and_it_leaves_the_queue(portal: dict[str, Any]) -> None:
    browser = portal["browser"]
    browser.get(f"{portal['base']}/portal/console.html")
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda page: page.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"
    )
    waiting = operator(portal, "/admin/orders?status=unattributed")["orders"]
    assert [row[1] for row in rows(browser, "unattributed-table")] == [order["order_id"] for order in waiting]
    assert waiting, "the demo leaves an order no click explains"
    screenshot(browser, "operator-console", 1280)  # the queue as the operator finds it
    screenshot(browser, "operator-console", 360)
    first = waiting[0]
    form = browser.find_element(By.CSS_SELECTOR, "#unattributed-table tbody tr form")
    form.find_element(By.NAME, "member").send_keys("alice")
    form.find_element(By.NAME, "note").send_keys("receipt checked by phone")
    form.find_element(By.CSS_SELECTOR, "button[value=approve]").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda page: (
            page.find_element(By.TAG_NAME, "body").get_attribute("data-unattributed") == str(len(waiting) - 1)
        )
    )
    assert "approved" in browser.find_element(By.ID, "console-status").text
    decided = operator(portal, f"/admin/orders/{first['partner_id']}/{first['order_id']}")
    assert decided["review"]["decision"] == "approve"
    assert decided["review"]["note"] == "receipt checked by phone"
    assert decided["attribution"]["member_id"] == "alice"
    assert console_errors(browser) == []


def test_the_operator_sees_a_partners_page_as_the_partner_does(portal: dict[str, Any]) -> None:
    browser = portal["browser"]
    browser.get(f"{portal['base']}/portal/console.html")
    field = browser.find_element(By.ID, "partner")
    field.send_keys("shop-a", Keys.ENTER)
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: "partner=shop-a" in page.current_url)
    loaded(browser)
    assert browser.find_element(By.ID, "who").text == "Operator's view of shop-a"
    assert not browser.find_element(By.ID, "sign-out").is_displayed()
    today = datetime.now(UTC).date()
    month = f"from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}"
    totals = api(portal, f"/partner/summary?{month}")["totals"]  # with the partner's own key
    assert int(card(browser, "clicks")[0]) == totals["clicks"]["total"]
    assert card(browser, "sales")[0] == totals["money"][0]["gross_sales"]
    assert console_errors(browser) == []


def test_the_operator_sees_the_machinery_and_every_partner(portal: dict[str, Any]) -> None:
    """The queues' depths and the last nights as GET /admin/operations answers them; each partner's last
    seven days as its summary does; a partner's name opens its page."""
    browser = portal["browser"]
    browser.get(f"{portal['base']}/portal/console.html")
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda page: page.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"
    )
    overview = operator(portal, "/admin/operations?nights=7")
    assert int(card(browser, "dead-letters")[0]) == overview["dead_letter_queue"]["messages"]
    assert int(card(browser, "statement-tasks")[0]) == overview["statement_tasks"]["messages"]
    shown = rows(browser, "nights-table")
    assert len(shown) == 7
    for night, row in zip(overview["nights"], shown, strict=True):
        assert row[1] == f"{night['shards_done']} of {night['shards']}"
        if night["manifest_written"]:
            assert row[4] == ("Clean" if night["clean"] else f"{night['mismatches']} mismatched accounts")
    # The demo closed its day: that run is there, clean, and the page says which was the last.
    assert any(night["manifest_written"] and night["clean"] for night in overview["nights"])
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-last-reconciliation") == "true"

    today = datetime.now(UTC).date()
    week = f"from={(today - timedelta(days=6)).isoformat()}&to={today.isoformat()}"
    partners = operator(portal, "/admin/partners")["partners"]
    by_id = {row[1]: row for row in rows(browser, "partners-table")}
    assert set(by_id) == {partner["partner_id"] for partner in partners}
    totals = operator(portal, f"/admin/partners/shop-a/summary?{week}")["totals"]
    assert by_id["shop-a"][2] == f"{totals['clicks']['total']:,}"
    assert by_id["shop-a"][3] == f"{totals['orders']['new']:,}"
    assert by_id["shop-a"][4] == f"€{Decimal(totals['money'][0]['gross_sales']):,.2f}"
    screenshot(browser, "operator-overview", 1280)
    screenshot(browser, "operator-overview", 360)
    assert console_errors(browser) == []

    browser.find_element(By.CSS_SELECTOR, "#partners-table a[href*='partner=shop-a']").send_keys(Keys.ENTER)
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: "partner=shop-a" in page.current_url)
    loaded(browser)
    assert browser.find_element(By.ID, "who").text == "Operator's view of shop-a"
    assert console_errors(browser) == []


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_a_members_statement_is_made_for_people(portal: dict[str, Any], member: str) -> None:
    """The HTML statement the member receives, opened as the file the demo wrote: the summary first,
    labels and dates instead of the program's codes and timestamps, and nobody's ARN."""
    browser = portal["browser"]
    today = datetime.now(UTC).date().isoformat()
    page = (
        portal["state_dir"]
        / "buckets"
        / "StatementsBucket"
        / "statements"
        / today
        / "members"
        / f"{member}.html"
    )
    browser.get(page.as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    headings = [heading.text for heading in browser.find_elements(By.TAG_NAME, "h2")]
    assert headings[0] == "At a glance"
    assert "Available now" in text
    assert "arn:" not in browser.page_source
    for code in ("accrual_pending", "accrual_release", "clawback", "promo_credit", "adjustment#", "spend#"):
        assert code not in text, code
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", text), "timestamps to the microsecond"
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2} UTC", text), "dates people read"
    screenshot(browser, f"member-statement-{member}", 1280)
    screenshot(browser, f"member-statement-{member}", 360)
    assert console_errors(browser) == []
