"""The cashier's console in Chromium at 1366×768, as a cashier at a queue uses it: three bills settled
by keyboard only (a scanner's code ended by CR, TAB or GS, then amounts), a refund from today's
list with a confirmation, the day's totals equal to the receipts, the reconciliation, a patient with
no phone found by national ID number, receipts on 80 mm and A5 paper, the camera (a fake one, and
none at all), and a refusal. Screenshots of each screen go to tests/browser/screenshots/."""
import io
import re
import time
from datetime import datetime

import pytest
from conftest import CHROMIUM_ARGS, screenshot
from phones import Phone, login
from PIL import Image
from sqlalchemy import select

from backend.demo.seed import demo_national_id
from backend.models import Person, Settlement
from backend.models.base import CHINA
from backend.service.extensions import db
from backend.service.qr import render_png

COUNTER = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN", "timezone_id": "Europe/London"}
PARTS = ("total_fen", "fund_fen", "personal_account_fen", "cash_fen")


def write_y4m(code, path):
    """A 640×480, 15 fps camera feed showing the QR (6 px a module), as Chromium's fake camera reads."""
    png = io.BytesIO()
    render_png(code, png, box_size=6)
    qr = Image.open(png).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    luma, chroma = frame.tobytes(), bytes([128]) * (320 * 240)
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg\n")
        for _ in range(30):
            out.write(b"FRAME\n" + luma + chroma + chroma)


class Codes:
    """Fresh codes of one phone: each a time step of its own, inside the verifier's window."""

    def __init__(self, phone):
        self.phone, self.used = phone, set()

    def fresh(self):
        now = int(time.time() // 30)
        step = next(s for s in (now + 1, now, now - 1) if s not in self.used)
        self.used.add(step)
        return self.phone.code("med", now=step * 30 + 1)


@pytest.fixture
def patient_phone(seeded):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    return phone


def log_in(page, live_server):
    page.set_default_timeout(60_000)  # two cores shared by several test runs
    page.goto(live_server + "/#/login")
    page.fill("#login", "demo-cashier")
    page.fill("#password", "yima-demo-2026")
    page.keyboard.press("Enter")
    page.wait_for_selector("#counter-head")


def in_view(page, selector):
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] \
        and box["x"] + box["width"] <= viewport["width"]


def overlaps(page, first, second):
    a, b = page.locator(first).bounding_box(), page.locator(second).bounding_box()
    return a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def no_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def receipt_figures(page):
    return {part: round(float(page.inner_text(f"#receipt [data-part={part}]")) * 100) for part in PARTS}


def chinese_only(text):
    """No raw codes or English words on a Chinese screen (numbers, F-keys and Ctrl+P aside)."""
    words = set(re.findall(r"[A-Za-z_]{3,}", text)) - {"Enter", "Ctrl", "CSV"}
    return not words, words


def test_a_cashiers_day_by_keyboard(browser, live_server, seeded, patient_phone):
    codes = Codes(patient_phone)
    context = browser.new_context(**COUNTER)
    page = context.new_page()
    log_in(page, live_server)
    # The header: who, where, and today's date in China (the PC's own zone is London here).
    head = page.inner_text("#counter-head")
    today = datetime.now(CHINA)
    assert "王晓燕" in head and "青浦区中心医院" in head and f"{today.year}年{today.month}月{today.day}日" in head
    assert page.evaluate("document.activeElement.id") == "wedge"
    screenshot(page, "counter-ready")
    assert chinese_only(page.inner_text("main")) == (True, set())

    # Bill 1: the scanner types the code and CR; a bad amount is outlined and named; two lines.
    page.keyboard.insert_text(codes.fresh())
    page.keyboard.press("Enter")
    page.wait_for_selector("#holder.ok-card")
    assert "沈**" in page.inner_text("#holder") and "嘉善县" in page.inner_text("#holder")
    assert page.evaluate("document.activeElement.name") == "amount"
    page.keyboard.type("2O")
    page.keyboard.press("Enter")
    assert page.get_attribute("#bill-lines tr:first-child [name=amount]", "aria-invalid") == "true"
    assert "金额格式不对" in page.inner_text("#bill-lines tr:first-child")
    screenshot(page, "counter-bill-error")
    page.keyboard.press("Control+A")
    page.keyboard.type("20")
    page.keyboard.press("Enter")  # a new line; its category has the focus
    page.keyboard.press("2")  # 药品
    page.keyboard.press("Tab")
    page.keyboard.press("2")  # 乙
    page.keyboard.press("Tab")
    page.keyboard.type("100.50")
    page.keyboard.press("Tab")
    page.keyboard.type("阿莫西林胶囊")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # an empty last line: to 确认结算
    assert page.evaluate("document.activeElement.id") == "settle"
    page.wait_for_function("() => document.querySelector('#split-cash').textContent !== '—' "
                           "&& !document.querySelector('#bill-foot').classList.contains('pending')")
    assert page.inner_text("#total-bill") == "120.50" and "乙 100.50" in page.inner_text("#total-classes")
    assert in_view(page, "#settle") and no_overflow(page)
    screenshot(page, "counter-bill")
    page.keyboard.press("Enter")
    page.wait_for_selector("#receipt:not([hidden]) .receipt")
    receipts = [receipt_figures(page)]
    receipt = page.inner_text("#receipt .receipt")
    for words in ("青浦区中心医院", "沈**", "嘉善县 · 职工医保", "阿莫西林胶囊", "甲", "乙", "120.50", "本年起付线剩余", "本年封顶线剩余"):
        assert words in receipt, words
    number = page.inner_text("#receipt-number")
    first_id = int(number.split("-")[1])
    with seeded.app_context():
        settlement = db.session.get(Settlement, first_id)
        shown = settlement.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        balance = db.session.scalars(select(Person.personal_account_fen).filter_by(name="沈桂芳")).one()
    assert page.inner_text("#receipt-time") == shown  # China time, whatever the PC's zone
    assert page.inner_text("#holder-balance") == f"{balance // 100}.{balance % 100:02d} 元"  # after
    assert "结算后" in page.inner_text("#holder")
    assert page.evaluate("document.activeElement.id") == "wedge"  # the next scan goes straight in
    screenshot(page, "counter-receipt")
    assert chinese_only(page.inner_text("main")) == (True, set())

    # Bill 2: the scanner ends with TAB; one amount, F9 settles.
    page.keyboard.insert_text(codes.fresh())
    page.keyboard.press("Tab")
    page.wait_for_selector("#holder.ok-card >> text=个人账户余额")
    page.wait_for_function("() => document.activeElement.name === 'amount'")
    page.keyboard.type("35")
    page.keyboard.press("F9")
    page.wait_for_selector("#receipt:not([hidden]) .receipt")
    receipts.append(receipt_figures(page))
    second_number = page.inner_text("#receipt-number")
    assert second_number != number

    # Bill 3: the code ends with GS; nine lines, the last class 丙; 确认结算 stays in view.
    page.keyboard.insert_text(codes.fresh() + "\x1d")
    page.wait_for_function("() => document.activeElement.name === 'amount' && !document.querySelector('#bill').hidden")
    page.keyboard.type("8")
    for index in range(8):
        page.keyboard.press("Enter")
        page.keyboard.press("3")  # 检查
        page.keyboard.press("Tab")
        page.keyboard.press("3" if index == 7 else "1")
        page.keyboard.press("Tab")
        page.keyboard.type(f"{10 + index}.5")
    page.wait_for_function("() => document.querySelector('#total-bill').textContent === '" + f"{8 + sum(10 + i for i in range(8)) + 4:.2f}" + "'")
    assert page.locator("#bill-lines tr").count() == 9 and in_view(page, "#settle") and no_overflow(page)
    assert in_view(page, "#use-account") and in_view(page, "#split-cash")
    assert not overlaps(page, "#bill-lines tr:last-child [name=amount]", "#bill-foot")  # the line typed in shows
    page.wait_for_function("() => document.querySelector('#split-cash').textContent !== '—' "
                           "&& !document.querySelector('#bill-foot').classList.contains('pending')")
    screenshot(page, "counter-bill-long")
    page.keyboard.press("Enter")  # a new line
    page.keyboard.press("Enter")  # empty: to 确认结算
    page.keyboard.press("Enter")  # settle
    page.wait_for_selector(f"#receipt:not([hidden]) .receipt:not([data-receipt='{int(second_number.split('-')[1])}'])")
    receipts.append(receipt_figures(page))
    assert "丙" in page.inner_text("#receipt .receipt")

    # Today (F4): three bills; refund the second from the list, after a confirmation.
    page.keyboard.press("F4")
    page.wait_for_selector("#today-rows tr[data-id]")
    assert page.locator("#today-rows tr[data-id]").count() == 3
    screenshot(page, "counter-today")
    second_id = int(second_number.split("-")[1])
    page.click(f"[data-refund='{second_id}']")
    page.keyboard.press("Enter")  # no reason yet: the field says so
    assert "请填写退费原因" in page.inner_text(".refund-row")
    page.keyboard.type("患者取消检查")
    page.keyboard.press("Enter")
    page.wait_for_selector("dialog.confirm[open]")
    assert "35.00" in page.inner_text("dialog.confirm") and "不能撤销" in page.inner_text("dialog.confirm")
    screenshot(page, "counter-refund-confirm")
    page.click("dialog.confirm button.danger")
    page.wait_for_selector("#panel-today .message.ok")
    assert "已退费" in page.inner_text("#panel-today .message.ok")
    page.wait_for_selector("#today-rows tr.row-refund")
    assert page.locator("#today-rows tr[data-id]").count() == 4
    screenshot(page, "counter-today-refunded")
    day = {part: round(float(page.inner_text(f"#today-totals [data-total={part}]")) * 100) for part in PARTS}
    kept = [receipts[0], receipts[2]]  # the refunded bill nets out
    assert day == {part: sum(r[part] for r in kept) for part in PARTS}
    assert day == {part: sum(r[part] for r in receipts) - receipts[1][part] for part in PARTS}
    assert "结算 3 笔 · 退费 1 笔" in page.inner_text("#today-totals")
    csv_text = page.request.get(live_server + page.get_attribute("#day-csv", "href")).text()
    assert csv_text.lstrip("\ufeff").startswith("单号,时间（北京时间）,类型,患者") and "退费" in csv_text

    # End of day (F8): agrees with the clearing report, by region and by cashier.
    page.keyboard.press("F8")
    page.wait_for_selector("#reconcile-verdict")
    assert "与清算数据一致" in page.inner_text("#reconcile-verdict")
    assert "嘉善县" in page.inner_text("#reconcile-regions") and "王晓燕" in page.inner_text("#reconcile-cashiers")
    screenshot(page, "counter-reconcile")

    # The same code again (a copy of it), scanned while the reconciliation is open: the scanner's
    # keys go to the scanner field, and the answer is a red card in plain words.
    page.keyboard.type(patient_phone.code("med", now=max(codes.used) * 30 + 1))
    page.keyboard.press("Enter")
    page.wait_for_selector("#holder.refused-card")
    assert "已经用过" in page.inner_text("#holder") and not page.is_hidden("#panel-settle")
    screenshot(page, "counter-refused")

    # No phone: 陆根生 has no smartphone; he is found by his ID number and settled the same way.
    page.keyboard.press("F2")
    page.click("#no-phone")
    page.keyboard.type(demo_national_id("330421", "19460903", "014"))  # one digit wrong
    page.select_option("#manual-reason", "no_smartphone")
    page.check("#person-present")
    page.click("#identify-go")
    page.wait_for_selector("#identify .field.invalid")
    assert "没有这个身份证号" in page.inner_text("#identify") or "不正确" in page.inner_text("#identify")
    screenshot(page, "counter-no-phone-error")
    page.fill("#national-id", demo_national_id("330421", "19460903", "013"))
    page.click("#identify-go")
    page.wait_for_selector("#manual-tag")
    assert "陆**" in page.inner_text("#holder") and "人工识别" in page.inner_text("#holder")
    page.wait_for_function("() => document.activeElement.name === 'amount'")
    page.keyboard.type("15")
    page.wait_for_function("() => document.querySelector('#split-cash').textContent === '15.00'")
    screenshot(page, "counter-no-phone")
    page.keyboard.press("F9")
    page.wait_for_selector("#receipt:not([hidden]) .receipt")
    assert "身份证号（人工识别）" in page.inner_text("#receipt .receipt")

    # Paper: the receipt on screen is ready for Ctrl+P on 80 mm paper, then on A5 (sizes in points).
    manual_id = page.get_attribute("#receipt .receipt", "data-receipt")
    page.wait_for_selector(f"#print-area.paper-r80 [data-receipt='{manual_id}']", state="attached")
    page.emulate_media(media="print")
    width, height = pdf_page_size(page)
    assert abs(width - 80 / 25.4 * 72) < 1 and 80 / 25.4 * 72 < height < 297 / 25.4 * 72
    paper_screenshot(page, "counter-print-80mm", 80)
    page.emulate_media(media="screen")
    page.select_option("#paper", "a5")
    page.wait_for_selector(f"#print-area.paper-a5 [data-receipt='{manual_id}']", state="attached")
    page.emulate_media(media="print")
    assert [round(v) for v in pdf_page_size(page)] == [420, 595]
    paper_screenshot(page, "counter-print-a5", 148)
    page.emulate_media(media="screen")

    # A reprint from today's list prints that receipt; the refunded one is stamped as such.
    page.keyboard.press("F4")
    page.wait_for_selector(f"[data-reprint='{second_id}']")
    page.evaluate("window.addEventListener('beforeprint', () => { window.printed = true; })")
    page.click(f"[data-reprint='{second_id}']")
    page.wait_for_selector(f"#print-area.paper-a5 [data-receipt='{second_id}']", state="attached")
    page.wait_for_function("() => window.printed === true")
    text = page.inner_text("#print-area")
    assert "已退费" in text and "患者取消检查" in text
    context.close()


def paper_screenshot(page, name, width_mm):
    """What the paper shows: the print layout in a window as wide as the paper (96 px an inch)."""
    viewport = page.viewport_size
    page.set_viewport_size({"width": round(width_mm / 25.4 * 96), "height": viewport["height"]})
    screenshot(page, name)
    page.set_viewport_size(viewport)


def pdf_page_size(page):
    pdf = page.pdf(prefer_css_page_size=True)
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return float(box.group(1)), float(box.group(2))


@pytest.fixture
def camera_browser(browser_type, browser_type_launch_args, tmp_path, patient_phone):
    feed = tmp_path / "qr.y4m"
    write_y4m(patient_phone.code("med"), feed)
    browser = browser_type.launch(**{**browser_type_launch_args, "args": CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={feed}"]})
    yield browser
    browser.close()


def test_the_camera_reads_a_code_and_a_missing_camera_is_said_in_words(camera_browser, browser, live_server):
    page = camera_browser.new_context(**COUNTER).new_page()
    log_in(page, live_server)
    page.click("#camera-toggle")
    page.wait_for_selector("#holder.ok-card", timeout=20_000)
    assert "沈**" in page.inner_text("#holder")
    screenshot(page, "counter-camera")
    page.click("#camera-toggle")  # off
    # Settle, then refund from the receipt on screen: the receipt is stamped, the balance restored.
    page.focus("#bill-lines [name=amount]")
    page.keyboard.type("5")
    page.keyboard.press("F9")
    page.wait_for_selector("#receipt:not([hidden]) .receipt")
    before = page.inner_text("#holder-balance")
    page.click("#refund")
    page.keyboard.type("重复收费")
    page.keyboard.press("Enter")
    page.click("dialog.confirm button.danger")
    page.wait_for_selector("#receipt .receipt .stamp")
    assert "已退费" in page.inner_text("#receipt") and "重复收费" in page.inner_text("#receipt-refund")
    assert page.locator("#refund").count() == 0  # nothing left to refund
    after = float(page.inner_text("#holder-balance").split()[0])
    assert after == float(before.split()[0]) + 5
    screenshot(page, "counter-receipt-refunded")

    # No camera at all (a plain headless browser): words, never "Requested device not found".
    plain = browser.new_context(**COUNTER).new_page()
    log_in(plain, live_server)
    plain.click("#camera-toggle")
    plain.wait_for_selector("#camera-message:not(:empty)")
    said = plain.inner_text("#camera-message")
    assert "摄像头" in said and "扫码枪" in said and "not found" not in said.lower()
    screenshot(plain, "counter-no-camera")
    plain.context.close()


def test_wedge_input_ending_in_lf_works_and_english_reads_as_english(browser, live_server, patient_phone):
    page = browser.new_context(**{**COUNTER, "locale": "en-GB"}).new_page()
    log_in(page, live_server)
    page.click("#lang-toggle")  # English
    page.wait_for_selector("#counter-head >> text=Cashier")
    page.focus("#wedge")
    codes = Codes(patient_phone)
    page.keyboard.insert_text(codes.fresh() + "\n")  # LF, as some scanners send
    page.wait_for_selector("#holder.ok-card")
    page.wait_for_function("() => document.activeElement.name === 'amount'")
    # The next code, scanned while the amount has the focus: taken as a scan, not as an amount.
    scans = page.evaluate("() => performance.getEntriesByName(location.origin + '/api/v1/verify').length")
    page.keyboard.insert_text(codes.fresh())
    page.keyboard.press("Enter")
    page.wait_for_function("n => performance.getEntriesByName(location.origin + '/api/v1/verify').length > n", arg=scans)
    page.wait_for_selector("#holder.ok-card")
    page.wait_for_function("() => document.activeElement.name === 'amount' && document.activeElement.value === ''")
    page.keyboard.type("12.5")
    page.wait_for_function("() => document.querySelector('#split-cash').textContent === '0.00'")
    assert "Settle" in page.inner_text("#settle") and "Cashier" in page.inner_text("#counter-head")
    assert in_view(page, "#settle") and no_overflow(page)
    screenshot(page, "counter-en")
    page.context.close()
