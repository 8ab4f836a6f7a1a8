"""The portal's files: what its page loads is what PortalFunction serves, from this origin only, and the
chart library is the one infra/package.json pins, byte for byte."""

from __future__ import annotations

import json
import re

import pytest

from partnerpoints_infra.template import PROJECT_ROOT

STATIC = PROJECT_ROOT / "functions" / "portal" / "static"
NODE_MODULES = PROJECT_ROOT / "infra" / "node_modules"


@pytest.mark.parametrize("page", ["index.html", "console.html"])
def test_a_page_loads_only_files_the_function_serves(page: str) -> None:
    text = (STATIC / page).read_text()
    loaded = re.findall(r'(?:src|href|action)="([^"#]+)"', text)
    assert loaded, "the page loads its stylesheet and scripts"
    for reference in loaded:
        if reference.startswith("data:"):
            continue
        assert reference.startswith("/portal/"), f"{reference} is not on this origin's /portal/"
        assert (STATIC / reference.removeprefix("/portal/")).is_file(), reference
    # The Content-Security-Policy allows neither inline script nor inline style.
    assert "<script>" not in text
    assert " style=" not in text


def test_the_chart_library_is_the_pinned_one() -> None:
    pinned = json.loads((PROJECT_ROOT / "infra" / "package.json").read_text())["dependencies"]["chart.js"]
    shipped = (STATIC / "chart.umd.min.js").read_bytes()
    assert f"Chart.js v{pinned}".encode() in shipped[:200]
    installed = NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js"
    if not installed.exists():
        pytest.skip("infra/node_modules is not installed (make bootstrap)")
    assert shipped == installed.read_bytes(), "run make portal-assets"
