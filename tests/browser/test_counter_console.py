"""The cashier console in Chromium: a QR through a fake camera, another typed by a keyboard-wedge
scanner, preview, settle, receipt, refund, and a red refusal."""
import io
import time

import pytest
from conftest import CHROMIUM_ARGS, screenshot
from phones import Phone, login
from PIL import Image

from backend.service.qr import render_png


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


@pytest.fixture
def camera_browser(browser_type, browser_type_launch_args, tmp_path, seeded):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    feed = tmp_path / "qr.y4m"
    phone.camera_time = time.time()
    write_y4m(phone.code("med", now=phone.camera_time), feed)
    browser = browser_type.launch(**{**browser_type_launch_args, "args": CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={feed}"]})
    yield browser, phone
    browser.close()


def test_cashier_scans_settles_prints_and_refunds(camera_browser, live_server):
    browser, phone = camera_browser
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    page.goto(live_server + "/#/login")
    page.fill("#login", "demo-cashier")
    page.fill("#password", "yima-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_selector("#wedge")
    screenshot(page, "counter-ready")

    page.click("#camera-toggle")
    page.wait_for_selector("#holder.ok-card", timeout=20_000)
    assert "沈**" in page.inner_text("#holder") and "嘉善县" in page.inner_text("#holder")
    rows = page.locator("#bill tbody tr")
    rows.nth(0).locator("[name=amount]").fill("20")
    page.click("#add-line")
    rows.nth(1).locator("[name=category]").select_option("drug")
    rows.nth(1).locator("[name=coverage_class]").select_option("B")
    rows.nth(1).locator("[name=amount]").fill("100.50")
    rows.nth(1).locator("[name=description]").fill("阿莫西林胶囊")
    page.click("#preview")
    page.wait_for_selector("#split table")
    screenshot(page, "counter-preview")
    page.click("#settle")
    page.wait_for_selector("#receipt:not([hidden])")
    receipt = page.inner_text("#receipt")
    assert "阿莫西林胶囊" in receipt and "120.50 元" in receipt
    screenshot(page, "counter-receipt")
    page.fill("#refund-reason", "开错药")
    page.click("#refund")
    page.wait_for_selector("text=已退费")
    page.click("#camera-toggle")  # stop the camera before the next patient
    page.click("text=下一位")

    wedge_code = phone.code("med", now=phone.camera_time + 30)  # the next step: a fresh code
    page.focus("#wedge")
    page.keyboard.type(wedge_code, delay=0)  # a keyboard-wedge scanner types fast, then Enter
    page.keyboard.press("Enter")
    page.wait_for_selector("#holder.ok-card")
    screenshot(page, "counter-wedge")

    page.keyboard.type(wedge_code, delay=0)  # the same code again: already used
    page.keyboard.press("Enter")
    page.wait_for_selector("#holder.refused-card")
    assert "已经用过" in page.inner_text("#holder")
    screenshot(page, "counter-refused")
