"""The venue gate in Chromium (issue 19): an admin enrols a library in the console; its kiosk scans a
resident's social-security code through the fake camera → green "居民优惠", never a name; the same
code again → refused as used; a med code → its own refusal; visits accepted offline across a reload
reach the server once, and the admin's Venues tab counts them per venue and hour."""
import re
import time

import pytest
from conftest import CHROMIUM_ARGS, screenshot
from phones import Phone, login, steady_time
from sqlalchemy import func, select
from test_counter_console import write_y4m
from test_patient_pages import axe_problems

from backend.models import Visit
from backend.service.extensions import db


@pytest.fixture
def setup(browser_type, browser_type_launch_args, tmp_path, seeded):
    phones = []
    for who in ("demo-patient", "demo-family"):
        client = seeded.test_client()
        phone = Phone()
        phone.activate(client, login(client, who))
        phones.append(phone)
    start = time.time()
    feed = tmp_path / "visitor.y4m"
    write_y4m(phones[0].code("ss", now=start), feed)
    browser = browser_type.launch(**{**browser_type_launch_args, "args": CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={feed}"]})
    yield browser, phones, start
    browser.close()


def visits_on_server(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Visit))


def type_code(page, code):
    page.focus("#wedge")
    page.keyboard.type(code, delay=0)
    page.keyboard.press("Enter")


def wait_for(predicate, seconds, page):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        page.wait_for_timeout(300)


def test_an_admin_enrols_a_library_whose_gate_admits_residents_once(seeded, live_server, setup):
    browser, phones, start = setup
    # The admin: a library in Wujiang, then a gate for it, in the console's Venues tab.
    office = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    admin = office.new_page()
    admin.goto(live_server + "/#/login")
    admin.fill("#login", "demo-admin")
    admin.fill("#password", "yima-demo-2026")
    admin.click("button[type=submit]")
    admin.wait_for_selector("#logout:not([hidden])")
    admin.goto(live_server + "/#/admin/venues")
    admin.wait_for_selector("#add-venue")
    admin.fill("#venue_name_zh", "吴江区图书馆")
    admin.select_option("#venue_kind", "library")
    admin.select_option("#venue_region", "320509")
    rows = admin.locator("#venue-list tr[data-venue]")
    admin.wait_for_selector("#venue-list tr[data-venue]")  # the demo zone's own venues
    before = rows.count()
    admin.click("#add-venue button[type=submit]")
    # Newest first: once the list has one more row, the first is the new library (before that
    # the first row was a demo venue, a scenic spot, and the gate enrolled there).
    admin.wait_for_function("n => document.querySelectorAll('#venue-list tr[data-venue]').length > n",
                            arg=before)
    rows.first.locator("button:has-text('登记验证机')").click()
    admin.fill("#gate_label", "东门1号")
    admin.click("#enrol-gate button[type=submit]")
    admin.wait_for_selector("#gate-code")
    enrol_code = re.search(r"[0-9A-Z]{10}", admin.inner_text("#gate-code")).group(0)
    assert admin.locator("#enrolment .qr svg").count() == 1
    assert axe_problems(admin) == []

    # The gate: enrolled with that code; the camera's QR is a resident's social-security code.
    gate = browser.new_context(viewport={"width": 800, "height": 480}, locale="zh-CN")
    page = gate.new_page()
    page.goto(live_server + "/#/venue")
    page.fill("#enrol_code", enrol_code)
    page.click("button[type=submit]")
    page.wait_for_selector("#answer.green", timeout=20_000)
    shown = page.inner_text("#answer")
    assert "居民优惠" in shown and "免费入馆" in shown
    assert "沈" not in page.inner_text("body")  # never a name (the demo patient is 沈桂芳)
    assert axe_problems(page) == []
    screenshot(page, "venue-green")
    type_code(page, phones[0].code("ss", now=start))  # the same code again
    page.wait_for_selector("#answer.red")
    assert "已用过" in page.inner_text("#answer")
    page.wait_for_selector("#answer.idle", timeout=10_000)
    type_code(page, phones[1].code("med"))  # a medical e-voucher code at a gate
    page.wait_for_selector("#answer.red")
    assert "医保电子凭证" in page.inner_text("#answer") and "社保码" in page.inner_text("#answer")
    screenshot(page, "venue-red-med")
    page.wait_for_selector("#answer.idle .line-name")
    rest = page.inner_text("body")
    assert "吴江区图书馆" in rest and "东门1号" in rest and "请出示社保码" in rest
    assert page.evaluate("document.scrollingElement.scrollHeight <= innerHeight")  # all on 800×480
    wait_for(lambda: visits_on_server(seeded) >= 1, 20, page)
    assert visits_on_server(seeded) == 1

    # Offline: two visits stored on the gate across a reload, then uploaded exactly once.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    gate.set_offline(True)
    for i, (phone, offset) in enumerate(((phones[0], 30), (phones[1], 0))):
        if i == 1:
            page.reload()
            page.wait_for_selector("#wedge")
        page.wait_for_selector("#answer.idle", timeout=10_000)
        type_code(page, phone.code("ss", now=steady_time() + offset))
        page.wait_for_selector("#answer.green")
    page.wait_for_selector("#pending:has-text('待上传 2 条入馆记录')")
    page.wait_for_selector("#network:has-text('离线验证中')")
    screenshot(page, "venue-offline")
    assert visits_on_server(seeded) == 1
    answers = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/visits/batch") else None)
    gate.set_offline(False)
    wait_for(lambda: visits_on_server(seeded) >= 3, 30, page)
    page.wait_for_function("() => document.querySelector('#pending').textContent === ''")
    assert [[r["status"] for r in a.json()["results"]] for a in answers] == [["admitted", "admitted"]]
    page.wait_for_timeout(6000)  # later syncs send nothing again
    assert visits_on_server(seeded) == 3

    # The admin's count: three visits at the library today.
    admin.goto(live_server + "/#/admin/overview")
    admin.goto(live_server + "/#/admin/venues")
    admin.wait_for_selector("#visits-table")
    row = admin.inner_text("#visits-table tbody tr")
    assert "吴江区图书馆" in row and "\t3\t" in row
    admin.wait_for_selector("#visits-chart details")
    assert axe_problems(admin) == []
    screenshot(admin, "admin-venues")
