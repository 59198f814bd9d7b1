"""Every patient page in zh-CN, English and elder mode: readable errors on bad input, phone-size
screenshots for review (tests/browser/screenshots/), and no serious or critical axe-core issue."""
import os

import pytest
from conftest import ROOT, screenshot

AXE = os.path.join(ROOT, "tests", "browser", "vendor", "axe-core-4.14.1", "axe.min.js")


def axe_problems(page):
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def log_in(page, base, login="demo-patient", password="yima-demo-2026"):
    page.goto(base + "/#/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_forms_answer_bad_input_readably(live_server, phone_context):
    page = phone_context().new_page()
    page.goto(live_server + "/#/login")
    page.click("button[type=submit]")
    assert "请填写" in page.locator(".message").inner_text()
    log_in(page, live_server, password="wrong-password")
    page.wait_for_selector(".message.error:text-is('手机号或密码不对。')")
    page.goto(live_server + "/#/signup")
    page.fill("#national_id", "12345")
    page.fill("#phone", "13900000000")
    page.click("#send-code")
    page.wait_for_selector(".message.error:has-text('身份证号不正确')")


@pytest.mark.parametrize("mode", ["zh", "en", "elder"])
def test_pages_are_accessible_and_photographed(live_server, phone_context, mode):
    page = phone_context(locale="en-US" if mode == "en" else "zh-CN").new_page()
    page.goto(live_server + "/#/login")
    if mode == "en":
        page.click("#lang-toggle")
    if mode == "elder":
        page.click("#elder-toggle")
    problems = {}
    page.wait_for_selector("#login")
    screenshot(page, f"{mode}-login")
    problems["login"] = axe_problems(page)
    page.goto(live_server + "/#/signup")
    page.wait_for_selector("#national_id")
    screenshot(page, f"{mode}-signup")
    problems["signup"] = axe_problems(page)
    log_in(page, live_server)
    page.wait_for_selector("button.primary.big")
    screenshot(page, f"{mode}-activate")
    problems["activate"] = axe_problems(page)
    page.click("button.primary.big")
    page.wait_for_selector(".qr svg")
    screenshot(page, f"{mode}-code-med")
    problems["code"] = axe_problems(page)
    page.click("[data-kind=ss]")
    page.wait_for_timeout(300)
    screenshot(page, f"{mode}-code-ss")
    page.click("#nav a[href='#/family']")
    page.wait_for_selector("#invite_code")
    screenshot(page, f"{mode}-family")
    problems["family"] = axe_problems(page)
    page.click("#nav a[href='#/account']")
    page.wait_for_selector(".balances")
    screenshot(page, f"{mode}-account")
    problems["account"] = axe_problems(page)
    assert {name: found for name, found in problems.items() if found} == {}
