"""An auditor reviews the month's clearing (table, chart, CSV) and decides a flag with a note."""
from conftest import screenshot
from phones import Phone, login

BIG_BILL = [{"category": "treatment", "coverage_class": "A", "amount_fen": 1_200_000}]


def test_auditor_sees_clearing_and_dismisses_a_flag(seeded, live_server, phone_context):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    cashier = seeded.test_client()
    csrf = login(cashier, "demo-cashier")
    scan = cashier.post("/api/v1/verify", json={"code": phone.code("med"), "context": "hospital"},
                        headers={"X-CSRF-Token": csrf}).json["scan_id"]
    settled = cashier.post("/api/v1/settlements", json={"scan_id": scan, "lines": BIG_BILL},
                           headers={"X-CSRF-Token": csrf, "Idempotency-Key": "audit-page-0001"})
    assert settled.status_code == 201

    page = phone_context(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False).new_page()
    page.goto(live_server + "/#/login")
    page.fill("#login", "demo-auditor")
    page.fill("#password", "yima-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_selector("#clearing table")
    assert "嘉善 Jiashan" in page.inner_text("#clearing") and "H31011800001" in page.inner_text("#clearing")
    assert page.locator(".chart svg rect").count() == 1
    flag = page.locator("#flags li[data-flag]").filter(has_text="单笔费用超过参保地阈值")
    flag.locator("button:text-is('排除')").click()
    page.wait_for_selector(".message.error:has-text('请填写审核意见')")
    flag.locator("input.note").fill("手术费用，病历齐全")
    flag.locator("button:text-is('排除')").click()
    page.wait_for_selector("#flags li:has-text('已排除')")
    assert page.locator(".message.error").count() == 0 or not page.locator(".message.error").is_visible()
    screenshot(page, "audit-page")
    assert page.locator("#logout").is_visible()
