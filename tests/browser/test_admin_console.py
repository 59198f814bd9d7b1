"""The admin console in Chromium: the zone admin changes a region's deductible, enrols a validator
and rotates the signing key, and sees each change in the audit log on the page; a cashier opening
any admin page sees a readable refusal, and every admin endpoint answers the cashier 403."""
import pytest
from conftest import screenshot

SECTIONS = ["overview", "regions", "institutions", "lines", "staff", "validators", "api-keys",
            "signing-keys", "revocations", "audit-log"]
ENDPOINTS = ["console", "regions", "institutions", "lines", "staff", "validators", "api-keys",
             "signing-keys", "revocations", "audit-log"]
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False}


@pytest.fixture(autouse=True)
def own_key_ring(app, tmp_path):
    """Rotation writes to the key ring: this test gets its own, not the session's shared one."""
    app.config["KEYS_DIR"] = str(tmp_path / "keys")


def log_in(page, base, name):
    page.goto(base + "/#/login")
    page.fill("#login", name)
    page.fill("#password", "yima-demo-2026")
    page.click("button[type=submit]")


def test_admin_changes_policy_enrols_rotates_and_reads_the_audit_log(live_server, phone_context):
    page = phone_context(**DESKTOP).new_page()
    log_in(page, live_server, "demo-admin")
    page.wait_for_selector("nav.console-tabs a[href='#/admin/regions']")
    page.wait_for_selector("#register-validator")  # the overview keeps enrolment and ridership

    page.click("nav.console-tabs a[href='#/admin/regions']")
    form = page.locator("form[data-policy='310118/employee']")
    cap = form.locator("input[name=annual_cap_fen]")
    cap.wait_for()
    original_cap = cap.input_value()
    form.locator("input[name=deductible_fen]").fill("abc")
    form.locator("button[type=submit]").click()
    form.locator(".message.error:has-text('起付线')").wait_for()
    form.locator("input[name=deductible_fen]").fill("999999")
    cap.fill("1000")
    form.locator("button[type=submit]").click()
    form.locator(".message.error:has-text('封顶线不能低于起付线')").wait_for()  # the server's problem, in words
    cap.fill(original_cap)
    form.locator("input[name=deductible_fen]").fill("1888.88")
    form.locator("button[type=submit]").click()
    form.locator(".message.ok:has-text('已保存')").wait_for()

    page.click("nav.console-tabs a[href='#/admin/validators']")
    page.wait_for_selector("#validator-list table")
    page.select_option("#line", "ZONE3")
    page.fill("#label", "浙F-0301")
    page.click("#register-validator button[type=submit]")
    page.wait_for_selector("#enrolment .qr svg")
    page.wait_for_selector("#validator-list tr:has-text('浙F-0301'):has-text('待登记')")

    page.click("nav.console-tabs a[href='#/admin/signing-keys']")
    page.wait_for_selector("#signing-key-list tbody tr")
    assert page.locator("#signing-key-list tbody tr").count() == 1
    page.click("#rotate")
    page.click("#rotate-confirm")
    page.wait_for_selector("#console-signing-keys .message.ok:has-text('已发布')")
    assert page.locator("#signing-key-list tbody tr").count() == 2
    assert page.locator("#signing-key-list tr:has-text('已发布，待启用')").count() == 1
    jwks = page.evaluate("fetch('/.well-known/jwks.json').then((r) => r.json())")
    assert len(jwks["keys"]) == 2

    page.click("nav.console-tabs a[href='#/admin/audit-log']")
    page.wait_for_selector("#audit-log tbody tr")
    log = page.inner_text("#audit-log")
    assert "修改医保政策" in log and "1888.88 元" in log
    assert "登记验票机" in log and "ZONE3" in log
    assert "轮换签名密钥" in log
    first = page.locator("#audit-log tbody tr").first.inner_text()
    assert "轮换签名密钥" in first and "demo-admin" in first  # newest first
    screenshot(page, "admin-console-audit-log")
    page.click("nav.console-tabs a[href='#/admin/regions']")
    page.wait_for_selector("form[data-policy='310118/employee']")
    assert page.input_value("form[data-policy='310118/employee'] input[name=deductible_fen]") == "1888.88"
    screenshot(page, "admin-console-policies")


def test_a_cashier_is_refused_on_every_admin_page_and_endpoint(live_server, phone_context):
    page = phone_context(**DESKTOP).new_page()
    log_in(page, live_server, "demo-cashier")
    page.wait_for_selector("#wedge")
    for section in SECTIONS:
        page.goto(f"{live_server}/#/admin/{section}")
        refusal = page.locator("#refusal")
        refusal.wait_for()
        assert "无权打开管理页面" in refusal.inner_text() and "admin" in refusal.inner_text()
        assert page.locator("nav.console-tabs").count() == 0
    screenshot(page, "admin-console-cashier-refused")
    statuses = page.evaluate("""async (names) => {
        const answers = [];
        for (const name of names) answers.push((await fetch('/api/v1/admin/' + name)).status);
        const csrf = sessionStorage.getItem('yima.csrf');
        const write = (method, path, body) => fetch(path, {method, body: JSON.stringify(body),
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}})
            .then((r) => r.status);
        answers.push(await write('PATCH', '/api/v1/admin/regions/310118/policies/employee',
                                 {deductible_fen: 1}));
        answers.push(await write('POST', '/api/v1/admin/signing-keys/rotate', {confirm: 'rotate'}));
        answers.push(await write('POST', '/api/v1/admin/staff',
                                 {login: 'x-y-z', password: 'kiwi-harbour-lantern', role: 'admin'}));
        return answers;
    }""", ENDPOINTS)
    assert statuses == [403] * (len(ENDPOINTS) + 3)
