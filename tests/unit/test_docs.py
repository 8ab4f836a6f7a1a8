"""The documentation stands alone: every link resolves inside the repository, the README stays short
enough to read in one go, and the benchmarks page is exactly what the stored figures render, for every
function of the template."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from partnerpoints_infra.template import PROJECT_ROOT, load_sam_template, resources_of_type

PAGES = sorted(
    [PROJECT_ROOT / "README.md", PROJECT_ROOT / "CONVENTIONS.md", *(PROJECT_ROOT / "docs").glob("*.md")]
)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", PROJECT_ROOT / "bench" / "report.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def local_links(page: Path) -> list[str]:
    return [
        target for target in LINK.findall(page.read_text()) if not target.startswith(("https://", "http://"))
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_of_a_page_resolves_inside_the_repository(page: Path) -> None:
    for target in local_links(page):
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(PROJECT_ROOT), f"{page.name} links outside the repository: {target}"
        assert resolved.exists(), f"{page.name} links to a missing file: {target}"


def test_the_link_check_sees_a_link_that_leaves_the_repository(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("see [the design](../shared/DESIGN.md) and [the site](https://example.org)")
    assert local_links(page) == ["../shared/DESIGN.md"]


def test_the_readme_and_the_conventions_stay_short() -> None:
    assert len((PROJECT_ROOT / "README.md").read_text().splitlines()) <= 200
    assert len((PROJECT_ROOT / "CONVENTIONS.md").read_text().splitlines()) <= 40


def test_the_benchmarks_page_is_what_the_stored_figures_render() -> None:
    report = _report()
    results = json.loads(report.RESULTS.read_text())
    assert report.PAGE.read_text() == report.render(results), "run `python bench/report.py` (or make bench)"


def test_the_stored_figures_cover_every_function_of_the_template_and_no_other() -> None:
    results = json.loads(_report().RESULTS.read_text())
    measured = {name.split(" ")[0] for name in results["imports"]} - {"import"}
    assert measured == set(resources_of_type(load_sam_template(), "AWS::Serverless::Function"))


def test_no_file_of_the_project_sends_readers_to_a_design_outside_it() -> None:
    sources = [*PAGES, *PROJECT_ROOT.glob("layers/core/**/*.py"), *PROJECT_ROOT.glob("functions/*/app.py")]
    assert [
        path.name for path in sources if "DESIGN" in path.read_text() or "../shared" in path.read_text()
    ] == []
