"""The patient app walked as a new user would, in headless Chromium on a phone-sized screen."""
import io
import re
import time

import zxingcpp
from PIL import Image
from conftest import screenshot
from phones import login

from backend.demo.data import PERSONS
from backend.demo.seed import demo_national_id

GU = next(p for p in PERSONS if p[0] == "js-1")  # 顾晨阳, insured in Jiashan, no account yet
GU_ID, GU_PHONE = demo_national_id(GU[1], GU[2], GU[3]), GU[5]
PASSWORD = "chenyang-2026"


def read_qr(page):
    """Decode the QR the page shows, from a screenshot: what a scanner would see."""
    page.wait_for_selector(".qr svg")
    image = Image.open(io.BytesIO(page.locator(".qr").screenshot()))
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found in the screenshot"
    return found[0].text


def verify_as_cashier(app, code):
    client = app.test_client()
    csrf = login(client, "demo-cashier")
    return client.post("/api/v1/verify", json={"code": code, "context": "hospital"},
                       headers={"X-CSRF-Token": csrf})


def next_code(page, previous, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = read_qr(page)
        if code != previous:
            return code
        page.wait_for_timeout(1000)
    raise AssertionError("the QR did not change within a step")


def sign_up(page, base):
    page.goto(base + "/#/signup")
    page.fill("#national_id", GU_ID)
    page.fill("#phone", GU_PHONE)
    page.click("#send-code")
    demo = page.locator("p.demo")
    demo.wait_for()
    code = re.search(r"\d{6}", demo.inner_text()).group()
    page.fill("#code", code)
    page.fill("#new_password", PASSWORD)
    screenshot(page, "zh-signup")
    page.click("button[type=submit]")


def test_sign_up_activate_show_offline_and_family(seeded, live_server, phone_context):
    context = phone_context()
    page = context.new_page()
    sign_up(page, live_server)
    page.wait_for_selector("text=启用本机")
    screenshot(page, "zh-activate")
    page.click("button:text-is('启用本机')")
    first = read_qr(page)
    screenshot(page, "zh-code-med")
    answer = verify_as_cashier(seeded, first)
    assert answer.status_code == 200, answer.json
    assert answer.json["masked_name"] == "顾**"

    page.wait_for_function("navigator.serviceWorker.controller !== null")  # the shell is cached
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#offline:not([hidden])")
    second = next_code(page, first)
    context.set_offline(False)
    assert verify_as_cashier(seeded, second).status_code == 200

    # The parent (the new user) invites demo-family, who shows the parent's code on their phone.
    page.click("#nav >> text=亲情")
    page.click("button:text-is('邀请家人')")
    invitation = page.locator(".big-code").inner_text()
    code = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}", invitation).group()
    screenshot(page, "zh-family-invite")
    member = phone_context().new_page()
    member.goto(live_server + "/#/login")
    member.fill("#login", "demo-family")
    member.fill("#password", "yima-demo-2026")
    member.click("button[type=submit]")
    member.wait_for_selector("text=启用本机")
    member.click("button:text-is('启用本机')")
    member.wait_for_selector(".qr svg")
    member.click("#nav >> text=亲情")
    member.fill("#invite_code", code)
    member.click("button:text-is('接受')")
    member.click("#main li:has-text('顾**') button:text-is('在本机出示')")
    member.wait_for_selector(".holders")
    member.click(".holders button:has-text('顾**')")
    member.wait_for_timeout(300)
    family_code = read_qr(member)
    screenshot(member, "zh-family-code")
    shown = verify_as_cashier(seeded, family_code)
    assert shown.status_code == 200 and shown.json["family_holder"] is True
    assert shown.json["masked_name"] == "顾**"

    page.click("#nav >> text=我的码")
    page.click("#nav >> text=亲情")
    page.click("button:text-is('取消授权')")
    dialog = page.locator("dialog.confirm[open]")  # what cannot be undone asks first
    assert "无法撤销" in dialog.inner_text()
    dialog.locator("button.danger").click()
    page.wait_for_selector(".message.ok:has-text('已取消')")
    # The member's phone learns it at its next code (within 30 s): no QR, but what happened.
    member.wait_for_selector(".code-stopped", timeout=40_000)
    assert member.locator(".qr").count() == 0
    assert "亲情授权已取消" in member.inner_text(".code-stopped")
    screenshot(member, "zh-family-code-revoked")
