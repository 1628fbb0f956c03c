"""The web page in a real browser: Playwright drives Debian's chromium through the main flow
against a service started on loopback (upload -> schema/PII review -> target and fit with
progress -> reload -> report with the target's utility -> personas -> scenario slider and
shares chart -> interview -> a DP fit, then one refused over budget), with screenshots in a
temporary folder (or ``$SYNTHCUST_SCREENSHOTS``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

pytest.importorskip("fastapi", reason="the service extra (fastapi) is not installed")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)

from synthcust.service import create_app  # noqa: E402
from synthcust.workflows.defaults import default_synthesizer  # noqa: E402
from test_service import TOKEN, Server, customers  # noqa: E402

T = 120_000  # ms: the longest a step may take on a loaded CI machine


@pytest.fixture
def site(tmp_path):
    from synthcust.llm import FakeBackend

    (tmp_path / "ws").mkdir()
    app = create_app(tmp_path / "ws", tmp_path / "data", TOKEN,
                     llm_backend=FakeBackend(["Price matters most to me [R1]."]))  # fmt: skip
    s = Server(app)
    yield s
    s.stop()


@pytest.fixture
def shots(tmp_path) -> Path:
    out = Path(os.environ.get("SYNTHCUST_SCREENSHOTS") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_main_flow_in_chromium(site, shots, tmp_path):
    good = tmp_path / "customers.csv"
    customers(300).to_csv(good, index=False)
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b\n1,2\n3,4,5,6\n")
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(site.url + "/")
        expect(page.get_by_role("heading", name="synthcust")).to_be_visible()

        page.get_by_label("Token printed by").fill(TOKEN)
        page.get_by_role("button", name="Use token").click()
        expect(page.locator("#token-status")).to_have_text("Connected.")

        # a CSV that fails parsing: the error appears next to the file input
        page.get_by_label("CSV, TSV or Parquet file").set_input_files(str(bad))
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#upload-error")).to_contain_text("broken.csv")
        expect(page.locator("#upload-error")).to_contain_text("line 3 has 4 fields")
        page.screenshot(path=shots / "01-bad-csv.png")

        page.get_by_label("CSV, TSV or Parquet file").set_input_files(str(good))
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#upload-status")).to_contain_text("300 rows")
        row = page.locator("#schema-table tbody tr", has_text="email")
        expect(row).to_contain_text("email")
        page.get_by_label("Policy for email").select_option("drop")
        page.get_by_role("button", name="Save schema").click()
        expect(page.locator("#schema-status")).to_contain_text("Schema saved")
        page.screenshot(path=shots / "02-schema.png", full_page=True)

        # the default model is the one every face fits; a target makes the report show utility
        expect(page.locator("#synth-default")).to_contain_text(default_synthesizer())
        expect(page.get_by_label("Synthesizer", exact=True)).to_have_value("")
        page.get_by_label("Target column").select_option("choice")
        expect(page.locator("#eval-target")).to_contain_text("Target: choice")
        page.get_by_role("button", name="Start fit").click()
        expect(page.locator("#fit-status")).to_contain_text("fitted on 240 rows", timeout=T)
        assert page.locator("#fit-progress").evaluate("e => e.value") == 1
        page.screenshot(path=shots / "03-fit.png")

        page.reload()  # the job lives in the workspace store: the page picks it up again
        expect(page.locator("#fit-status")).to_contain_text("fitted on 240 rows", timeout=T)
        expect(page.locator("#fit-status")).to_contain_text("email: drop")
        expect(page.locator("#fit-status")).to_contain_text(f"({default_synthesizer()})")
        expect(page.get_by_label("Target column")).to_have_value("choice")

        page.get_by_role("button", name="Evaluate").click()
        expect(page.locator("#report-frame")).to_be_visible(timeout=T)
        expect(page.locator("#scorecard table")).to_contain_text("How it was measured")
        expect(page.locator("#scorecard table")).to_contain_text("target choice")
        expect(page.locator("#scorecard table")).to_contain_text("TSTR")
        report = page.frame_locator("#report-frame")
        expect(report.get_by_text("synthcust evaluation report").first).to_be_visible(timeout=T)
        page.screenshot(path=shots / "04-report.png")

        page.get_by_role("button", name="Find personas").click()
        expect(page.locator(".card").first).to_be_visible(timeout=T)
        n_cards = page.locator(".card").count()
        assert 2 <= n_cards <= 5
        page.screenshot(path=shots / "05-personas.png", full_page=True)

        page.get_by_role("button", name="Load alternatives").click()
        slider = page.get_by_label("Price change of a")
        expect(slider).to_be_visible(timeout=T)
        expect(page.locator("#shares-svg .bar-scenario")).to_have_count(3)
        slider.focus()
        for _ in range(4):  # keyboard only: 4 steps of 5% = +20%
            page.keyboard.press("ArrowRight")
        expect(page.get_by_text("Price change of a: +20%")).to_be_visible()
        expect(page.locator("#shares-caption")).to_contain_text("price of a +20%", timeout=T)
        base_w = float(page.locator("#shares-svg .bar-base").first.get_attribute("width"))
        scen_w = float(page.locator("#shares-svg .bar-scenario").first.get_attribute("width"))
        assert scen_w < base_w  # a dearer 'a' loses share
        page.screenshot(path=shots / "06-scenario.png", full_page=True)

        page.get_by_label("Variant B changes").fill("price.a=-20%")
        page.get_by_role("button", name="Run A/B test").click()
        expect(page.locator("#ab-table")).to_contain_text("P(better)", timeout=T)

        page.get_by_role("button", name="Ask").click()
        expect(page.locator(".answer").first).to_contain_text("Price matters most", timeout=T)
        page.screenshot(path=shots / "07-interview.png", full_page=True)

        # a DP fit from the page is charged to the ledger; a second one over budget is refused
        page.locator("#dp-details summary").click()
        page.get_by_label("Privacy budget epsilon").fill("6")
        page.get_by_label("Public bounds of numeric columns").fill(
            "age=18..80, income=0..100, price.a=1..3, price.b=1..3, price.c=1..3")
        page.get_by_role("button", name="Start fit").click()
        expect(page.locator("#fit-status")).to_contain_text("budget left 4 of 10", timeout=T)
        expect(page.locator("#fit-status")).to_contain_text("(dp_marginal)")
        page.get_by_role("button", name="Start fit").click()
        expect(page.locator("#fit-status")).to_contain_text("privacy budget exceeded", timeout=T)
        page.wait_for_timeout(1500)  # no stale job loop writes over the refusal
        expect(page.locator("#fit-status")).to_contain_text("only 4 of 10 is left")
        page.screenshot(path=shots / "08-dp.png", full_page=True)
        assert errors == [], errors
        browser.close()
    assert len(list(shots.glob("*.png"))) == 8
    if os.environ.get("SYNTHCUST_SCREENSHOTS") is None:
        shutil.rmtree(shots, ignore_errors=True)
