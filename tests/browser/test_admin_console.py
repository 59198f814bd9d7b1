"""The admin console in Chromium at 1366×768: the zone admin changes a region's deductible, enrols a
validator and rotates the signing key (after a confirmation), and reads each change in the audit
log in words (who by name, what, on what, amounts in yuan), filtered; finds an institution by name
and re-enables a staff account after disabling it (each after a confirmation); every tab is
photographed. A cashier opening any admin page sees a readable refusal, and every admin endpoint
answers the cashier 403."""
import re
from datetime import datetime, timedelta

import pytest
from conftest import screenshot
from phones import Phone, login
from sqlalchemy import select
from test_audit_page import settle_big_bill
from test_transit_api import enrol_validator

from backend.models import Person, Ride
from backend.models.base import CHINA
from backend.service.extensions import db

SECTIONS = ["overview", "regions", "institutions", "lines", "staff", "validators", "ridership",
            "api-keys", "signing-keys", "revocations", "audit-log"]
ENDPOINTS = ["console", "regions", "institutions", "lines", "staff", "validators", "api-keys",
             "signing-keys", "revocations", "audit-log"]
READY = {"overview": "#clearing-chart canvas[aria-label*='嘉善县']", "regions": "form.policy",
         "institutions": "#institution-list tbody tr", "lines": "tr[data-line]", "staff": "tr[data-staff]",
         "validators": "tr[data-validator]", "ridership": "#ridership-chart canvas[aria-label*='示范区']",
         "api-keys": "#key-institution option", "signing-keys": "tr[data-kid]",
         "revocations": "#console-revocations tbody tr", "audit-log": "tr[data-audit]"}
DESK = {"viewport": {"width": 1366, "height": 768}, "is_mobile": False, "has_touch": False,
        "device_scale_factor": 1, "locale": "zh-CN"}


@pytest.fixture(autouse=True)
def own_key_ring(app, tmp_path):
    """Rotation writes to the key ring: this test gets its own, not the session's shared one."""
    app.config["KEYS_DIR"] = str(tmp_path / "keys")


def log_in(page, base, name):
    page.goto(base + "/#/login")
    page.fill("#login", name)
    page.fill("#password", "yima-demo-2026")
    page.click("button[type=submit]")


def confirm(page, says):
    dialog = page.locator("dialog.confirm")
    dialog.wait_for()
    assert says in dialog.inner_text(), dialog.inner_text()
    dialog.locator("button:not(.cancel)").click()
    dialog.wait_for(state="detached")


def test_admin_changes_policy_enrols_rotates_and_reads_the_audit_log(live_server, phone_context):
    page = phone_context(**DESK).new_page()
    log_in(page, live_server, "demo-admin")
    page.wait_for_selector("nav.console-tabs a[href='#/admin/regions']")
    page.wait_for_selector("#clearing-totals")  # the overview is the clearing and joint audit

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
    page.wait_for_selector("#register-validator option[value='ZONE3']", state="attached")
    assert page.locator("#line option[value='ZONE3']").inner_text().startswith("示范区3路")
    page.select_option("#line", "ZONE3")
    page.fill("#label", "浙F-0301")
    page.click("#register-validator button[type=submit]")
    page.wait_for_selector("#enrolment .qr svg")
    row = page.locator("#validator-list tr:has-text('浙F-0301')")
    row.wait_for()
    assert "待登记" in row.inner_text() and "示范区3路" in row.inner_text() and "ZONE" not in row.inner_text()

    page.click("nav.console-tabs a[href='#/admin/signing-keys']")
    page.wait_for_selector("#signing-key-list tbody tr")
    assert page.locator("#signing-key-list tbody tr").count() == 1
    page.click("#rotate")
    page.locator("dialog.confirm button.cancel").click()  # 取消 keeps everything
    assert page.locator("#signing-key-list tbody tr").count() == 1
    page.click("#rotate")
    confirm(page, "不能撤销")
    page.wait_for_selector("#console-signing-keys .message.ok:has-text('已发布')")
    assert page.locator("#signing-key-list tbody tr").count() == 2
    assert page.locator("#signing-key-list tr:has-text('已发布，待启用')").count() == 1
    jwks = page.evaluate("fetch('/.well-known/jwks.json').then((r) => r.json())")
    assert len(jwks["keys"]) == 2

    page.click("nav.console-tabs a[href='#/admin/audit-log']")
    page.wait_for_selector("#audit-log tbody tr[data-audit]")
    log = page.inner_text("#audit-log")
    assert "修改医保政策" in log and "起付线：1,500.00 元 → 1,888.88 元" in log and "青浦区 · 职工医保" in log
    assert "登记验票机" in log and "示范区3路" in log and "ZONE3" not in log
    assert "轮换签名密钥" in log and "account:" not in log and "_fen" not in log
    first = page.locator("#audit-log tbody tr").first.inner_text()
    assert "轮换签名密钥" in first and "孙立新（demo-admin）" in first  # newest first, named
    page.fill("#f-actor", "孙立新")
    page.select_option("#f-action", "policy.update")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#audit-log tbody tr').length === 1")
    assert "修改医保政策" in page.inner_text("#audit-log tbody")
    page.click("#audit-filters button[type=reset]")
    page.wait_for_function("() => document.querySelectorAll('#audit-log tbody tr').length > 3")
    page.click("nav.console-tabs a[href='#/admin/regions']")
    page.wait_for_selector("form[data-policy='310118/employee']")
    assert page.input_value("form[data-policy='310118/employee'] input[name=deductible_fen]") == "1888.88"


def test_an_admin_finds_an_institution_by_name_and_re_enables_a_staff_account(seeded, live_server,
                                                                               phone_context):
    page = phone_context(**DESK).new_page()
    log_in(page, live_server, "demo-admin")
    page.wait_for_selector("nav.console-tabs")
    page.goto(live_server + "/#/admin/institutions")
    page.wait_for_selector("#institution-list tbody tr")
    assert page.inner_text("#institution-count") == "共 85 家机构"
    assert "第 1 / 5 页" in page.inner_text("#institution-pager")
    page.click("#institution-pager button:text-is('下一页')")
    page.wait_for_selector("#institution-pager:has-text('第 2 / 5 页')")
    page.fill("#inst-q", "嘉善县第一")
    page.click("#institution-filters button[type=submit]")
    page.wait_for_selector("#institution-count:text-is('共 1 家机构')")
    found = page.locator("#institution-list tbody tr")
    assert found.count() == 1 and "嘉善县第一人民医院" in found.inner_text() and "三级" in found.inner_text()
    found.locator("button:text-is('暂停受理')").click()
    confirm(page, "嘉善县第一人民医院的收费窗口不能再扫医保电子凭证")
    page.wait_for_selector(".message.ok:has-text('已暂停受理')")
    page.fill("#inst-q", "中医")
    page.select_option("#inst-region", "320509")
    page.click("#institution-filters button[type=submit]")
    page.wait_for_selector("#institution-list tbody:has-text('吴江区中医医院')")
    assert page.inner_text("#institution-count") == "共 1 家机构"

    page.click("nav.console-tabs a[href='#/admin/staff']")
    row = page.locator("#staff-list tr[data-staff='demo-cashier-wj']")
    row.wait_for()
    assert "张静" in row.inner_text() and "吴江区第一人民医院" in row.inner_text()
    row.locator("button:text-is('停用')").click()
    confirm(page, "立即退出登录")
    page.wait_for_selector("#staff-list tr[data-staff='demo-cashier-wj']:has-text('已停用')")
    refused = seeded.test_client().post("/api/v1/auth/login", json={"login": "demo-cashier-wj",
                                                                    "password": "yima-demo-2026"})
    assert refused.status_code == 401
    page.locator("#staff-list tr[data-staff='demo-cashier-wj'] button:text-is('启用')").click()
    confirm(page, "可以用原密码再次登录")
    page.wait_for_selector(".message.ok:has-text('已重新启用')")
    page.wait_for_selector("#staff-list tr[data-staff='demo-cashier-wj'] button:text-is('停用')")
    login(seeded.test_client(), "demo-cashier-wj")  # logs in again
    page.click("nav.console-tabs a[href='#/admin/audit-log']")
    page.wait_for_selector("#audit-log tbody tr[data-audit]")
    newest = page.locator("#audit-log tbody tr").first.inner_text()
    assert "重新启用工作人员" in newest and "张静 · demo-cashier-wj" in newest


def rides_today(app, offsets_by_line):
    """Rides earlier today on real validators, as ride ingest stores them (a phone's credential
    is younger than the rides a screenshot wants, so the rows are written directly)."""
    now = datetime.now(CHINA)
    with app.app_context():
        person = db.session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        for line, offsets in offsets_by_line.items():
            _, _, validator_id, _ = enrol_validator(app, line)
            for n, offset in enumerate(offsets):
                ridden = max(now - timedelta(seconds=offset), now.replace(hour=0, minute=1))
                db.session.add(Ride(natural_id=f"{line}-{n}".ljust(40, "x"), validator_id=validator_id,
                                    line_code=line, person_id=person.id, credential_jti="AAAAAAAAAAA",
                                    code_step=int(ridden.timestamp()) // 30 + n, ridden_at=ridden,
                                    day=now.date().isoformat(), fare_fen=300, outcome="charged"))
        db.session.commit()


def test_every_console_tab_reads_in_chinese_at_1366(seeded, live_server, phone_context):
    """Every tab photographed with something in it (rides on two lines, a key, a revocation, a flag):
    names, not codes; no English words but logins and key ids; nothing wider than the window."""
    settle_big_bill(seeded)  # a cross-region bill, flagged, for the overview
    patient = seeded.test_client()
    Phone().activate(patient, login(patient, "demo-patient"))  # the first phone's codes: revoked
    rides_today(seeded, {"ZONE6": (0, 700, 1500, 4000, 4100), "ZONE2": (300, 2000)})
    admin = seeded.test_client()
    csrf = login(admin, "demo-admin")
    admin.post("/api/v1/admin/institutions/H31011800001/api-keys", json={"label": "HIS 主机"},
               headers={"X-CSRF-Token": csrf})
    page = phone_context(**DESK).new_page()
    log_in(page, live_server, "demo-admin")
    page.wait_for_selector("nav.console-tabs")
    english = re.compile(r"\b[A-Za-z]{4,}\b")
    allowed = {"demo", "admin", "cashier", "auditor", "Yima", "English", "HIS", "jwks", "json", "well", "known"}
    for section in SECTIONS:
        page.goto(f"{live_server}/#/admin/{section}")
        page.wait_for_selector(f"nav.console-tabs a[aria-current='page'][href='#/admin/{section}']")
        page.wait_for_selector(READY[section], state="attached")
        text = page.inner_text("main")
        prose = page.evaluate("""() => { const copy = document.querySelector('main').cloneNode(true);
            copy.querySelectorAll('code').forEach((c) => c.remove());  // key ids and prefixes
            return copy.textContent; }""")
        words = {w for w in english.findall(prose) if w not in allowed}
        assert not words, (section, words)
        assert "ZONE" not in text, section
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1366, (section, width)
        screenshot(page, f"admin-console-{section}")
    page.goto(f"{live_server}/#/admin/ridership")
    page.wait_for_selector("#ridership-table tbody tr")
    lines = page.inner_text("#ridership-table")
    assert "示范区6路" in lines and "示范区2路" in lines
    page.click("#lang-toggle")  # the same screens in English: every string has its translation
    for section in ("overview", "audit-log", "staff"):
        page.goto(f"{live_server}/#/admin/{section}")
        page.wait_for_selector(READY[section].replace("嘉善县", "Jiashan"), state="attached")
        text = page.inner_text("main")
        assert not re.search(r"\b(adm|audit|bo|admin)\.[a-zA-Z]", text), (section, text)
        assert not re.search(r"[\u4e00-\u9fff]", page.inner_text("nav.console-tabs")), section
    assert "Qingpu Central Hospital" in page.inner_text("#staff-list")
    screenshot(page, "admin-console-staff-en")


def test_a_cashier_is_refused_on_every_admin_page_and_endpoint(live_server, phone_context):
    page = phone_context(**DESK).new_page()
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
        answers.push(await write('POST', '/api/v1/admin/staff/1/enable', {}));
        return answers;
    }""", ENDPOINTS)
    assert statuses == [403] * (len(ENDPOINTS) + 4)
