"""The inpatient desk (住院, a tab of the counter console) in Chromium at 1366×768, as a desk at a
queue uses it: admit with a scanned e-voucher (the scanner types the code and CR), fee lines on
three days by keyboard — one line sent twice (its answer lost on the way back, Enter sends it
again under the same number: stored once), one cancelled after a confirmation — the preview, the
discharge settlement (confirmed), its receipt with the stay's dates in China time, the same-day
reversal (confirmed) that reopens the stay, and the settlement again; then the patient's phone
shows the settled stay. With YIMA_SCREENSHOTS=1 each screen is also saved at 360×640 (normal and
elder mode), 800×480 and 1366×768 to docs/img/inpatient-*.png."""
import os
import re
from datetime import datetime, timedelta

import pytest
from conftest import ROOT, screenshot
from phones import Phone, login
from sqlalchemy import select
from test_counter_console import COUNTER, Codes, chinese_only, in_view, log_in, no_overflow

from backend.models import Settlement
from backend.models.base import CHINA
from backend.models.inpatient import FeeLine, Stay
from backend.service.extensions import db

DOCS_IMG = os.path.join(ROOT, "docs", "img")
SIZES = [("360", {"width": 360, "height": 640}, False), ("360-elder", {"width": 360, "height": 640}, True),
         ("800", {"width": 800, "height": 480}, False), ("1366", {"width": 1366, "height": 768}, False)]
PARTS = ("total_fen", "fund_fen", "personal_account_fen", "cash_fen")


def shots(page, name):
    """The screen as the test sees it; with YIMA_SCREENSHOTS=1 also at the four sizes for docs/."""
    screenshot(page, f"inpatient-{name}")
    if os.environ.get("YIMA_SCREENSHOTS") != "1":
        return
    before = page.viewport_size
    for suffix, size, elder in SIZES:
        page.set_viewport_size(size)
        page.evaluate("(on) => document.documentElement.classList.toggle('elder', on)", elder)
        page.wait_for_timeout(150)
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right
            > document.documentElement.clientWidth + 1 && !e.closest('.ip-lines-scroll, .day-scroll')).map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)""")
        page.screenshot(path=os.path.join(DOCS_IMG, f"inpatient-{name}-{suffix}.png"), full_page=True)
        assert no_overflow(page) and not wide, f"{name} overflows at {suffix}: {wide}"
    page.evaluate("() => document.documentElement.classList.remove('elder')")
    page.set_viewport_size(before)


def fen(text):
    return round(float(text.replace(",", "")) * 100)


def figures(page, scope):
    return {part: fen(page.inner_text(f"{scope} [data-part={part}]")) for part in PARTS}


@pytest.fixture
def patient_phone(seeded):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    return phone


def add_line(page, day, category_key, class_key, item, quantity, price):
    page.fill("#ip-line-date", day)
    page.focus("#ip-line-category")
    page.keyboard.press(category_key)
    page.keyboard.press("Tab")
    page.keyboard.press(class_key)
    page.keyboard.press("Tab")
    page.keyboard.type(item)
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type(str(quantity))
    page.keyboard.press("Tab")
    page.keyboard.type(price)
    page.keyboard.press("Enter")


def test_a_stay_from_admission_to_settlement_reversal_and_again(browser, live_server, seeded, patient_phone):
    codes = Codes(patient_phone)
    context = browser.new_context(**COUNTER)
    page = context.new_page()
    log_in(page, live_server)
    today = datetime.now(CHINA).date()
    days = [(today - timedelta(days=back)).isoformat() for back in (2, 1, 0)]

    # 住院 (F6) › 入院登记 (Alt+2): the scanner types the code and CR.
    page.keyboard.press("F6")
    page.wait_for_selector("#ip-stays-view:not([hidden])")
    page.keyboard.press("Alt+2")
    page.wait_for_function("() => document.activeElement.id === 'ip-wedge'")
    shots(page, "admit")
    page.keyboard.insert_text(codes.fresh())
    page.keyboard.press("Enter")
    page.wait_for_selector("#ip-holder.ok-card")
    holder = page.inner_text("#ip-holder")
    assert "沈**" in holder and "嘉善县" in holder and "无需" in holder  # no filing for a zone resident
    assert page.evaluate("document.activeElement.id") == "ip-admission_no"
    page.keyboard.type("ZY20261129A1")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the ward: left empty, refused beside the field
    page.keyboard.type("i21.9")
    page.keyboard.press("Tab")
    page.keyboard.type("急性心肌梗死")
    page.fill("#ip-admitted_on", days[0])
    page.keyboard.press("Enter")
    assert "请填写病区" in page.inner_text("#ip-admit-form")
    assert page.evaluate("document.activeElement.id") == "ip-ward"
    shots(page, "admit-form")
    page.keyboard.type("心内科一病区")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ip-stay-view:not([hidden])")
    assert "ZY20261129A1" in page.inner_text("#ip-stay-head") and "I21.9" in page.inner_text("#ip-stay-head")
    assert page.inner_text("#ip-stay-days") == "2 天"  # 算入不算出: day 0 to day 2
    assert page.evaluate("document.activeElement.id") == "ip-line-item"

    # Fees on three days; line 2's answer is lost on the way back: Enter sends it again, stored once.
    add_line(page, days[0], "1", "1", "床位费 三人间", 1, "60")
    page.wait_for_selector("#ip-lines tr[data-line='1']")
    lost = {"done": False}

    def lose_the_answer(route):
        if lost["done"]:
            return route.continue_()
        lost["done"] = True
        route.fetch()  # the server stores the line ...
        route.abort()  # ... and the answer never reaches the desk
    page.route("**/api/v1/inpatient/stays/*/lines", lose_the_answer)
    add_line(page, days[0], "8", "2", "头孢曲松钠注射液 1g", 2, "18.50")
    page.wait_for_selector("#ip-stay-message.error")
    assert "重发" in page.inner_text("#ip-stay-message")
    page.focus("#ip-line-price")
    page.keyboard.press("Enter")  # the same line again, the same number
    page.wait_for_selector("#ip-lines tr[data-line='2']")
    assert "没有重复" in page.inner_text("#ip-stay-message")
    page.unroute("**/api/v1/inpatient/stays/*/lines")
    add_line(page, days[1], "3", "1", "心脏彩超", 1, "280")
    page.wait_for_selector("#ip-lines tr[data-line='3']")
    add_line(page, days[1], "9", "3", "进口药物涂层支架", 1, "6800")
    add_line(page, days[1], "6", "1", "经皮冠状动脉介入治疗", 1, "12000")
    page.wait_for_selector("#ip-lines tr[data-line='5']")
    add_line(page, days[2], "7", "1", "一级护理", 3, "25.5")
    page.wait_for_selector("#ip-lines tr[data-line='6']")
    assert page.locator("#ip-lines tr[data-line]").count() == 6
    assert page.locator("#ip-lines tr.ip-day").count() == 3
    page.wait_for_function("() => document.querySelector('#ip-cash').textContent !== '—' "
                           "&& !document.querySelector('#ip-totals').classList.contains('pending')")
    assert page.inner_text("#ip-total") == f"{(6000 + 3700 + 28000 + 680000 + 1200000 + 7650) / 100:.2f}"
    shots(page, "stay")
    assert in_view(page, "#ip-discharge") and no_overflow(page)

    # Esc: the open stays, the focus on this stay's button; Enter opens it again.
    page.keyboard.press("Escape")
    page.wait_for_selector("#ip-stays tr[data-stay]")
    listed = page.inner_text("#ip-stays")
    assert "ZY20261129A1" in listed and "心内科一病区" in listed and "19253.50" in listed
    assert page.evaluate("document.activeElement.dataset.open") is not None
    shots(page, "stays")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ip-stay-view:not([hidden])")

    # Cancel line 4 (the class C stent): a reason, then a confirmation that names it.
    page.click("#ip-lines [data-cancel='4']")
    page.keyboard.type("录错，改用国产支架")
    page.keyboard.press("Enter")
    page.wait_for_selector("dialog[open]")
    assert "第 4 行" in page.inner_text("dialog[open]") and "6800.00" in page.inner_text("dialog[open]")
    shots(page, "cancel-confirm")
    page.click("dialog[open] button.danger")
    page.wait_for_selector("#ip-lines tr[data-line='4'].cancelled")
    total = 6000 + 3700 + 28000 + 1200000 + 7650
    page.wait_for_function(f"() => document.querySelector('#ip-total').textContent === '{total / 100:.2f}'")
    with seeded.app_context():
        stored = db.session.scalars(select(FeeLine).join(Stay).filter(Stay.admission_no == "ZY20261129A1")).all()
        assert len(stored) == 6 and [line.line_no for line in stored if line.cancelled_at] == [4]

    # The preview (F7): the split adds up to the total.
    page.keyboard.press("F7")
    page.wait_for_function("() => document.querySelector('#ip-cash').textContent !== '—' "
                           "&& !document.querySelector('#ip-totals').classList.contains('pending')")
    split = [fen(page.inner_text(selector)) for selector in ("#ip-fund", "#ip-account", "#ip-cash")]
    assert sum(split) == total and split[0] > 0
    assert "本年第 1 次住院" in page.inner_text("#ip-split-note")

    # Discharge (F9): asks first with the figures, then the receipt with the stay's dates.
    page.keyboard.press("F9")
    page.wait_for_selector("dialog[open]")
    assert f"{total / 100:.2f}" in page.inner_text("dialog[open]")
    shots(page, "discharge-confirm")
    page.click("dialog[open] button.primary")
    page.wait_for_selector("#ip-receipt-view:not([hidden]) .stay-receipt")
    receipt = page.inner_text("#ip-receipt-view .stay-receipt")
    for words in ("青浦区中心医院", "住院费用结算单", "沈**", "ZY20261129A1", "心内科一病区", "I21.9 急性心肌梗死", "2 天"):
        assert words in receipt, words
    assert page.inner_text("#ip-receipt-admitted") == f"{days[0][:4]}年{int(days[0][5:7])}月{int(days[0][8:])}日"
    assert page.inner_text("#ip-receipt-discharged") == f"{today.year}年{today.month}月{today.day}日"
    first = figures(page, "#ip-receipt-view .stay-receipt")
    assert first["total_fen"] == total and sum(first[part] for part in PARTS[1:]) == total
    number = page.inner_text("#ip-receipt-number")
    with seeded.app_context():
        settlement = db.session.get(Settlement, int(number.split("-")[1]))
        shown = settlement.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    assert page.inner_text("#ip-receipt-time") == shown  # China time; the PC's zone is London
    assert chinese_only(page.inner_text("main"))[1] <= {"Alt"}  # Alt+1…3: key names, like Ctrl+P
    shots(page, "receipt")

    # The same-day reversal: a reason, a confirmation; the stay is open again.
    page.click("#ip-reverse")
    page.keyboard.type("漏录检验费，补录后重新结算")
    page.keyboard.press("Enter")
    page.wait_for_selector("dialog[open]")
    assert number in page.inner_text("dialog[open]")
    page.click("dialog[open] button.danger")
    page.wait_for_selector("#ip-stay-view:not([hidden])")
    assert "恢复为在院" in page.inner_text("#ip-stay-message")
    with seeded.app_context():
        assert db.session.scalars(select(Stay.status).filter_by(admission_no="ZY20261129A1")).one() == "open"

    # A missed lab test, then the settlement again.
    add_line(page, days[1], "4", "1", "心肌酶谱", 1, "85")
    page.wait_for_selector("#ip-lines tr[data-line='7']")
    page.keyboard.press("F9")
    page.wait_for_selector("dialog[open]")
    page.click("dialog[open] button.primary")
    page.wait_for_selector(f"#ip-receipt-view:not([hidden]) .stay-receipt:not([data-receipt='{number.split('-')[1]}'])")
    again = figures(page, "#ip-receipt-view .stay-receipt")
    assert again["total_fen"] == total + 8500
    with seeded.app_context():
        stay = db.session.scalars(select(Stay).filter_by(admission_no="ZY20261129A1")).one()
        assert (stay.status, stay.settled_count) == ("settled", 2)
        assert stay.settlement_id == int(page.inner_text("#ip-receipt-number").split("-")[1])

    # Today (Alt+3): one admission, two discharge settlements (the first reversed).
    page.keyboard.press("Alt+3")
    page.wait_for_selector("#ip-day-discharges tbody tr")
    assert page.locator("#ip-day-discharges tbody tr").count() == 2
    assert page.locator("#ip-day-discharges tr.is-refunded").count() == 1
    shots(page, "today")
    context.close()

    # The patient's phone: 记录 › 住院 shows the settled stay and what the fund paid.
    phone = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    mine = phone.new_page()
    mine.set_default_timeout(60_000)
    mine.goto(live_server + "/#/login")
    mine.fill("#login", "demo-patient")
    mine.fill("#password", "yima-demo-2026")
    mine.keyboard.press("Enter")
    mine.wait_for_selector("#nav:not([hidden])")
    mine.goto(live_server + "/#/history/stays")
    mine.wait_for_selector("#history-list li[data-stay]")
    row = mine.inner_text("#history-list li[data-stay]")
    assert "青浦区中心医院" in row and "已出院" in row and re.search(r"\d+\.\d\d", row)
    assert f"{(total + 8500) / 100:.2f}" in row
    shots(mine, "patient")
    phone.close()
