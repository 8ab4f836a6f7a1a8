"""Debian's Chromium driven by its chromium-driver through Selenium: headless, in a profile of its own,
with the network calls a browser makes on its own turned off (this machine's network is closed), and
the page's console kept so that a test can fail on an error in it. Nothing downloads a browser."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from partnerpoints_infra.template import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OUTPUT = PROJECT_ROOT / "test-output" / "portal"
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # as root, in a container: Chromium's sandbox needs namespaces it does not get
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--lang=en-GB",
)


def require_browser() -> None:
    """Skip where Chromium is not installed (make bootstrap installs it as root); in CI its absence fails."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = f"{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    require_browser()
    profile = tempfile.mkdtemp(prefix="portal-browser-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()  # the browser and its driver end with the test
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """The page's console errors since the last call (reading them empties the log)."""
    entries: list[dict[str, str]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


def screenshot(driver: webdriver.Chrome, name: str, width: int) -> Path:
    """The whole page laid out `width` CSS pixels wide (a phone's below 600: touch, no scroll bars), as
    a PNG under test-output/portal/."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
    path = OUTPUT / f"{name}-{width}.png"
    assert driver.save_screenshot(str(path)), path
    return path
