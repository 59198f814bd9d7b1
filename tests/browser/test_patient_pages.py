"""Every patient page in zh-CN, English and elder mode: readable errors on bad input, phone-size
screenshots for review (tests/browser/screenshots/), and no serious or critical axe-core issue."""
import os

import pytest
from conftest import ROOT, screenshot

AXE = os.path.join(ROOT, "tests", "browser", "vendor", "axe-core-4.14.1", "axe.min.js")


def axe_problems(page):
    # Evaluated through DevTools: the app's CSP (rightly) refuses an injected inline <script>.
    with open(AXE, encoding="utf-8") as source:
        page.evaluate(source.read())
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

    def look(name, ready, check=True):
        page.wait_for_selector(ready)
        screenshot(page, f"{mode}-{name}")
        if check:
            problems[name] = axe_problems(page)

    look("login", "#login")
    page.goto(live_server + "/#/signup")
    look("signup", "#national_id")
    log_in(page, live_server)
    look("activate", "button.primary.big")
    page.click("button.primary.big")
    look("code-med", ".qr svg")
    page.click("[data-kind=ss]")
    look("code-ss", "[data-kind=ss][aria-selected=true]")
    page.click("#nav a[href='#/history']")
    look("history", "#history-list li")
    page.click("#nav a[href='#/family']")
    look("family", "#invite_code")
    page.click("#main .list li button.danger-outline >> nth=0")  # a dialog that asks first
    look("family-confirm", "dialog.confirm[open]")
    page.keyboard.press("Escape")
    page.click("#nav a[href='#/account']")
    look("account", ".balances")
    page.click("a[href='#/settings']")
    look("settings", "#phones li")
    page.goto(live_server + "/#/where")
    look("where", "#where-list li")
    page.context.clear_cookies()  # the session ends: the codes stay, with a way to log in
    page.goto(live_server + "/#/code")
    look("code-logged-out", ".login-hint")
    assert {name: found for name, found in problems.items() if found} == {}
