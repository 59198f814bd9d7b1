"""The patient app as its users judge it, in headless Chromium: the history after a real settlement
and a real ride through the bus kiosk (China times), a replaced phone that shows no QR but the
reason, 挂失 that asks first, and every phone size in normal and elder mode with nothing overflowing
and the whole QR above the bottom bar (element boxes), with screenshots for review."""
import os
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from conftest import SCREENSHOTS  # imported now: by test time "conftest" may name tests/failover's
from phones import login
from test_patient_pages import axe_problems

CHINA = timezone(timedelta(hours=8))
VIEWPORTS = [(320, 568), (360, 640), (390, 844), (412, 915)]

# What a person would call broken, measured on the page: an element sticking out of the viewport,
# a text wrapped one character per line, a QR or its countdown not wholly between the top bar and
# the bottom bar, a tap target under 48 px in elder mode.
GEOMETRY = """() => {
  const W = innerWidth, H = innerHeight, problems = [];
  const shown = (el) => { const s = getComputedStyle(el); return s.display !== "none" && s.visibility !== "hidden"
    && el.getClientRects().length && !el.closest(".visually-hidden, [hidden], dialog:not([open])"); };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().replace(/\\s+/g, ".") : "");
  for (const el of document.querySelectorAll("body *")) {
    if (!shown(el) || el.id === "wedge" || el.closest(".skip")) continue;  // the skip link waits off-screen
    const r = el.getBoundingClientRect();
    if (r.width && (r.left < -0.5 || r.right > W + 0.5)) problems.push(`sticks out: ${name(el)} ${Math.round(r.left)}..${Math.round(r.right)} of ${W}`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, chars = [...node.textContent.replace(/\\s+/g, "")].length;
    if (chars < 2 || !shown(node.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const lines = new Set([...range.getClientRects()].filter((r) => r.width).map((r) => Math.round(r.top))).size;
    if (lines >= 2 && chars / lines <= 1.5) problems.push(`one character per line: "${node.textContent.trim()}" in ${name(node.parentElement)}`);
  }
  const nav = document.getElementById("nav");
  const floor = nav && !nav.hidden ? nav.getBoundingClientRect().top : H;
  const bar = document.querySelector("header.bar").getBoundingClientRect().bottom;
  for (const selector of [".qr", ".countdown"]) {
    const el = document.querySelector("#main " + selector);
    if (!el) continue;
    const r = el.getBoundingClientRect();
    if (r.top < bar - 0.5 || r.bottom > floor + 0.5 || r.left < -0.5 || r.right > W + 0.5) {
      problems.push(`${selector} not wholly visible: ${Math.round(r.left)},${Math.round(r.top)}..${Math.round(r.right)},${Math.round(r.bottom)} (bars ${Math.round(bar)}..${Math.round(floor)})`);
    }
  }
  if (document.documentElement.classList.contains("elder")) {
    for (const el of document.querySelectorAll("button, a.button, a.row-link, #nav a, input, select, .back")) {
      if (!shown(el) || el.id === "wedge") continue;
      const r = el.getBoundingClientRect();
      if (r.height < 47.5) problems.push(`tap target under 48 px: ${name(el)} ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
  }
  const qr = document.querySelector("#main .qr");
  return { problems, qr: qr ? Math.round(qr.getBoundingClientRect().width) : 0 };
}"""


def look(page, name, expect_qr=False):
    page.wait_for_timeout(150)  # icons and fonts settle
    found = page.evaluate(GEOMETRY)
    screenshot_viewport(page, name)
    assert found["problems"] == [], name
    if expect_qr:
        assert found["qr"] >= 150, f"{name}: the QR is only {found['qr']} px wide"
    return found


def screenshot_viewport(page, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"))


def log_in(page, base, who="demo-patient"):
    page.goto(base + "/#/login")
    page.fill("#login", who)
    page.fill("#password", "yima-demo-2026")
    page.click("button[type=submit]")


def activate(page):
    page.wait_for_selector("button.primary.big:not([disabled])")
    page.click("button.primary.big")
    try:
        page.wait_for_selector(".qr svg")
    except Exception:
        screenshot_viewport(page, "zz-activate-failed")
        print(page.inner_text("body"))
        raise


def shown_code(page, kind):
    page.click(f"[data-kind={kind}]")
    # The tab is selected before the new code is signed: until then the previous kind's QR stays.
    return page.wait_for_selector(f".qr[data-code-kind={kind}]").get_attribute("data-code")


def end_session(page):
    """The session cookie goes (browser restarted, session expired), offline so that no answer on
    its way can set it again; an answer already received may still land just after the clearing,
    so clear until the jar stays empty."""
    page.context.set_offline(True)
    for _ in range(20):
        page.context.clear_cookies()
        page.wait_for_timeout(300)
        if not page.context.cookies():
            break
    assert not page.context.cookies()
    page.context.set_offline(False)


def china_label(iso):
    """What the app shows for a time the API gives: 11月29日 09:18 (China time)."""
    moment = datetime.fromisoformat(iso).astimezone(CHINA)
    year = "" if moment.year == datetime.now(CHINA).year else f"{moment.year}年"
    return f"{year}{moment.month}月{moment.day}日 {moment:%H:%M}"


def test_history_shows_a_real_settlement_and_a_kiosk_ride_in_china_time(seeded, live_server, phone_context, browser):
    page = phone_context().new_page()
    log_in(page, live_server)
    activate(page)
    med = shown_code(page, "med")
    cashier = seeded.test_client()
    csrf = login(cashier, "demo-cashier")
    scan = cashier.post("/api/v1/verify", json={"code": med, "context": "hospital"}, headers={"X-CSRF-Token": csrf})
    assert scan.status_code == 200, scan.json
    bill = [{"category": "examination", "coverage_class": "A", "amount_fen": 18_000, "description": "血常规"},
            {"category": "drug", "coverage_class": "B", "amount_fen": 6_450}]
    settled = cashier.post("/api/v1/settlements", json={"scan_id": scan.json["scan_id"], "lines": bill},
                           headers={"X-CSRF-Token": csrf, "Idempotency-Key": "screen-0001"})
    assert settled.status_code == 201, settled.json

    # The ride: the phone's ride code, typed into a real kiosk by its (keyboard-wedge) scanner.
    admin = seeded.test_client()
    enrol_code = admin.post("/api/v1/admin/validators", json={"line": "ZONE2", "label": "沪C-2207"},
                            headers={"X-CSRF-Token": login(admin, "demo-admin")}).json["enrol_code"]
    kiosk = browser.new_context(viewport={"width": 800, "height": 480}, locale="zh-CN").new_page()
    kiosk.goto(live_server + "/#/validator")
    kiosk.fill("#enrol_code", enrol_code)
    kiosk.click("button[type=submit]")
    kiosk.wait_for_selector("#answer.idle .line-name")
    kiosk.fill("#wedge", shown_code(page, "ss"))
    kiosk.press("#wedge", "Enter")
    # The green shows for 2.5 s; on a loaded machine the wait may begin after it (CI, twice):
    # the kiosk's first decision, kept on the answer.
    kiosk.wait_for_selector("#answer[data-decisions='1'][data-last=green]", state="attached")
    kiosk.wait_for_selector("#uploaded:has-text('记录已全部上传')", timeout=30_000)
    kiosk.context.close()

    me = seeded.test_client()
    login(me, "demo-patient")
    answer = me.get("/api/v1/me").json
    settlement, ride = answer["settlements"][0], answer["rides"][0]
    page.click("#nav a[href='#/history']")
    item = page.locator("#history-list li").first
    item.wait_for()
    assert "青浦区中心医院" in item.inner_text() and china_label(settlement["at"]) in item.inner_text()
    assert "244.50 元" in item.inner_text()
    item.locator("summary").click()
    bill_text = item.inner_text()
    assert "血常规" in bill_text and "180.00 元" in bill_text and "统筹基金支付" in bill_text
    look(page, "zh-history-settlements")
    page.click("[role=tab][data-key=rides]")
    page.wait_for_selector("#history-list li:has-text('示范区2路')")
    rides = page.inner_text("#history-list")
    assert china_label(ride["at"]) in rides and "3.00 元" in rides and "已扣费" in rides
    look(page, "zh-history-rides")
    page.click("[role=tab][data-key=wallet]")
    page.wait_for_selector("#history-list li:has-text('乘车')")
    assert "-3.00 元" in page.inner_text("#history-list")

    # Offline, the last copy with its date.
    page.context.set_offline(True)
    page.click("[role=tab][data-key=rides]")
    page.wait_for_selector(".stale:has-text('离线')")
    assert "示范区2路" in page.inner_text("#history-list")
    page.context.set_offline(False)


def test_a_replaced_phone_shows_no_qr_but_the_reason_and_lost_asks_first(live_server, phone_context):
    old = phone_context().new_page()
    log_in(old, live_server)
    activate(old)
    new = phone_context().new_page()
    log_in(new, live_server)
    new.wait_for_selector(".warning")  # "another phone is active": said before acting
    new.click("button.primary.big")
    new.wait_for_selector(".qr svg")

    old.reload()
    old.wait_for_selector(".code-stopped")
    assert old.locator(".qr").count() == 0
    text = old.inner_text(".code-stopped")
    today = datetime.now(CHINA)
    assert f"此手机的凭证已于 {today.month}月{today.day}日 停用：已在另一台手机启用" in text
    assert "在本机重新启用" in text and "12393" in text
    look(old, "zh-code-replaced")
    assert axe_problems(old) == []
    old.click("#lang-toggle")  # the stopped card in English and in elder mode, under axe too
    old.wait_for_selector(".code-stopped:has-text('Yima was activated on another phone')")
    assert axe_problems(old) == []
    old.click("#elder-toggle")
    assert axe_problems(old) == []
    look(old, "en-elder-code-replaced")
    old.click("#lang-toggle")
    old.click("#elder-toggle")
    old.click("[data-kind=ss]")  # the ride code is stopped too
    old.wait_for_timeout(1200)
    assert old.locator(".qr").count() == 0

    # 挂失 asks first; cancelling changes nothing, confirming reports the phone lost.
    new.goto(live_server + "/#/settings")
    new.wait_for_selector("#phones li")
    new.click("#phones li:has-text('本机') button:has-text('挂失')")
    dialog = new.locator("dialog.confirm[open]")
    dialog.wait_for()
    assert "立即失效" in dialog.inner_text() and "无法撤销" in dialog.inner_text()
    look(new, "zh-lost-confirm")
    dialog.locator("button.cancel").click()
    assert new.locator("#phones li:has-text('本机') button:has-text('挂失')").count() == 1
    new.click("#phones li:has-text('本机') button:has-text('挂失')")
    new.locator("dialog.confirm[open] button.danger").click()
    new.wait_for_selector(".message.ok:has-text('已挂失')")
    new.goto(live_server + "/#/code")
    new.wait_for_selector("button.primary.big")  # this phone's codes are gone: activate again


def test_a_suspended_person_sees_why_and_a_reinstated_one_what_to_do(seeded, live_server, phone_context):
    from sqlalchemy import select

    from backend.models import Person
    from backend.service.extensions import db

    page = phone_context().new_page()
    log_in(page, live_server)
    activate(page)
    with seeded.app_context():
        holder = db.session.scalars(select(Person.holder_id).filter_by(name="沈桂芳")).one()
    admin = seeded.test_client()
    csrf = login(admin, "demo-admin")
    assert admin.post(f"/api/v1/admin/persons/{holder}/suspend", json={"reason": "参保关系转出核查"},
                      headers={"X-CSRF-Token": csrf}).status_code == 200
    page.reload()
    page.wait_for_selector(".code-stopped:has-text('暂停使用')")
    assert page.locator(".qr").count() == 0 and "参保状态已暂停" in page.inner_text(".code-stopped")
    look(page, "zh-code-suspended")
    assert admin.post(f"/api/v1/admin/persons/{holder}/reinstate", json={"reason": "核查完毕"},
                      headers={"X-CSRF-Token": csrf}).status_code == 200
    page.reload()  # reinstated, but the phones the suspension revoked stay revoked: activate again
    page.wait_for_selector(".code-stopped:has-text('此码已停用')")
    page.click("button:has-text('在本机重新启用')")
    page.locator("dialog.confirm[open] button.primary").click()
    page.wait_for_selector(".qr svg")


def test_settings_answer_readably_and_log_out_everywhere_asks_first(seeded, live_server, phone_context):
    page = phone_context().new_page()
    log_in(page, live_server)
    page.wait_for_selector("button.primary.big")
    page.goto(live_server + "/#/settings")
    page.wait_for_selector("#pf_limit")
    page.fill("#pf_limit", "999")
    page.click("#password-free button[type=submit]")
    assert page.inner_text("#pf_limit-error") == "限额应为 1.00 到 300.00 元。"  # beside the field
    page.fill("#pf_limit", "５０")  # full-width digits, as a phone keyboard may type them
    page.click("#password-free button[type=submit]")
    page.wait_for_selector("#password-free ~ .message.ok:has-text('每笔 50.00 元 以内')")
    me = seeded.test_client()
    login(me, "demo-patient")
    assert me.get("/api/v1/me/settings").json["password_free"]["limit_fen"] == 5_000
    page.fill("#current_password", "not-my-password")
    page.fill("#new_password", "a-new-password-2026")
    page.click("#change-password button[type=submit]")
    page.wait_for_selector("#current_password-error:has-text('当前密码不对')")
    page.click("#logout-all")
    dialog = page.locator("dialog.confirm[open]")
    assert "包括这一部" in dialog.inner_text()
    dialog.locator("button.danger").click()
    page.wait_for_selector("#login")
    assert me.get("/api/v1/me").status_code == 401  # the other session ended too


# Sets this phone's own credentials to expire `seconds` from now (IndexedDB); returns the old expiry.
SET_EXPIRY = """(seconds) => new Promise((done) => {
  const open = indexedDB.open("yima");
  open.onsuccess = () => {
    const store = open.result.transaction("credentials", "readwrite").objectStore("credentials");
    store.get("self").onsuccess = (event) => {
      const old = event.target.result.expiresAt;
      store.put({ ...event.target.result, expiresAt: Math.floor(Date.now() / 1000) + seconds }).onsuccess = () => done(old);
    };
  };
})"""


@pytest.fixture
def family_phone(live_server, phone_context):
    """陆建华 (demo-family): his own codes and his mother's, on one phone."""
    context = phone_context()
    page = context.new_page()
    log_in(page, live_server, "demo-family")
    activate(page)
    page.click("#nav a[href='#/family']")
    page.click("#main li:has-text('沈**') button:has-text('在本机出示')")
    page.wait_for_selector(".holders")
    return page


def test_every_phone_size_in_normal_and_elder_mode(family_phone, live_server):
    page = family_phone
    sizes = {}
    for elder in (False, True):
        mode = "elder" if elder else "normal"
        if elder != page.evaluate("document.documentElement.classList.contains('elder')"):
            page.click("#elder-toggle")
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            page.goto(live_server + "/#/code")
            page.wait_for_selector(".qr svg")
            if elder:  # the family code, in its own colour
                page.click(".holders button:has-text('沈**')")
                page.wait_for_selector(".code-card.family .qr svg")
                assert "亲情 · 沈**" in page.inner_text(".code-card")
            else:
                assert "本人 · 陆**" in page.inner_text(".code-card")
            assert "医保电子凭证" in page.inner_text(".code-card")
            sizes[(mode, width)] = look(page, f"viewport-{width}x{height}-{mode}-code", expect_qr=True)["qr"]
    # The QR grows with the screen, never past it.
    assert sizes[("normal", 412)] >= sizes[("normal", 320)]

    # The other screens at 360×640, both modes.
    for elder in (False, True):
        mode = "elder" if elder else "normal"
        if elder != page.evaluate("document.documentElement.classList.contains('elder')"):
            page.click("#elder-toggle")
        page.set_viewport_size({"width": 360, "height": 640})
        for route, ready in (("history", "#history-list li"), ("family", "#main .list li"), ("account", ".balances"),
                             ("settings", "#phones li"), ("where", "#where-list li")):
            page.goto(live_server + f"/#/{route}")
            page.wait_for_selector(ready)
            look(page, f"360x640-{mode}-{route}")
    assert re.search(r"共 \d+ 家医疗机构", page.inner_text("#where-count"))


def test_no_dead_ends_offline_or_after_the_session_ends(family_phone, live_server):
    page = family_phone
    # Offline and logged in: 账户 shows its last copy with its date; the bottom bar stays.
    page.click("#nav a[href='#/account']")
    page.wait_for_selector(".balances")
    page.context.set_offline(True)
    page.click("#nav a[href='#/code']")
    page.wait_for_selector(".qr svg")
    page.click("#nav a[href='#/account']")
    page.wait_for_selector(".stale:has-text('离线')")
    assert page.is_visible("#nav") and page.is_visible("#offline") and page.is_visible(".balances")
    page.click("#nav a[href='#/settings'], a[href='#/settings']")
    page.wait_for_selector(".message:has-text('离线')")
    assert page.is_visible(".back")
    # Offline past its expiry, a credential shows expired, not a QR.
    expires = page.evaluate(SET_EXPIRY, -3600)
    page.click("#nav a[href='#/code']")
    page.wait_for_selector(".code-stopped:has-text('凭证已过期')")
    assert page.locator(".qr").count() == 0 and "请联网后续期" in page.inner_text(".code-stopped")
    page.evaluate(SET_EXPIRY, expires - int(time.time()))
    page.context.set_offline(False)
    page.wait_for_selector("#offline", state="hidden")  # back online: the app asked who is logged in
    page.wait_for_load_state("networkidle")  # (its answer may set the cookie again: let it land first)

    # The session ends (browser restarted, expired). Offline while the cookie goes, so that no
    # answer still on its way (a refresh the app asked for) can set it again.
    end_session(page)
    page.reload()
    page.wait_for_selector(".login-hint a[href='#/login']")
    page.wait_for_selector(".qr svg")  # the codes still show, checked against the public revocation list
    look(page, "zh-code-logged-out")
    page.click(".login-hint a[href='#/login']")
    page.wait_for_selector("a[href='#/code']:has-text('返回我的码')")
    page.click("#main a[href='#/where']")
    page.wait_for_selector("#where-list li")
    page.click(".back")
    page.wait_for_selector("#login")
