"""The login and sign-up screens say why a login is locked (and until when) and which password
rule was broken, in zh-CN and English."""
import re

from backend.demo.data import PERSONS
from backend.demo.seed import demo_national_id

GU = next(p for p in PERSONS if p[0] == "js-1")  # 顾晨阳, insured in Jiashan, no account yet
GU_ID, GU_PHONE = demo_national_id(GU[1], GU[2], GU[3]), GU[5]


def try_login(page, password):
    page.fill("#login", "demo-cashier")
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_a_locked_login_says_when_to_try_again(live_server, phone_context):
    page = phone_context().new_page()
    page.goto(live_server + "/#/login")
    for attempt in range(4):
        try_login(page, f"wrong-password-{attempt}")
        page.wait_for_selector(".message.error:text-is('手机号或密码不对。')")
        page.evaluate("document.querySelector('.message').textContent = ''")
    try_login(page, "wrong-password-4")
    locked = page.locator(".message.error:has-text('暂时锁定')")
    locked.wait_for()
    assert re.search(r"请在 15 分钟后（\d{1,2}:\d{2}）再试", locked.inner_text())
    page.click("#lang-toggle")
    page.goto(live_server + "/#/login")
    try_login(page, "yima-demo-2026")  # the right password waits too
    locked = page.locator(".message.error:has-text('locked for a while')")
    locked.wait_for()
    assert re.search(r"Try again in 15 minutes \(at \d{1,2}:\d{2}", locked.inner_text())


def test_sign_up_names_the_password_rule(live_server, phone_context):
    page = phone_context().new_page()
    page.goto(live_server + "/#/signup")
    page.fill("#national_id", GU_ID)
    page.fill("#phone", GU_PHONE)
    page.click("#send-code")
    demo = page.locator("p.demo")
    demo.wait_for()
    page.fill("#code", re.search(r"\d{6}", demo.inner_text()).group())
    for password, words in [("short-1", "至少要10位"), (GU_PHONE + "ab", "不能是手机号"),
                            ("password123", "太常见")]:
        page.fill("#new_password", password)
        page.click("button[type=submit]")
        page.wait_for_selector(f".message.error:has-text('{words}')")
