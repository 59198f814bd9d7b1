"""The auditor's day at 1366×768: the month's clearing (names, not codes; figures, chart, tables),
the flags, one flag opened with its bill and split, confirmed after a dialog that says the money,
and the clearing report's refusal and net changed by exactly that bill's fund share — on the page
and in the CSV."""
import csv
import io
import json

from conftest import screenshot
from phones import Phone, login
from sqlalchemy import select

from backend.models import AuditEntry
from backend.service.extensions import db

BIG_BILL = [{"category": "treatment", "coverage_class": "A", "amount_fen": 1_200_000, "description": "手术"},
            {"category": "drug", "coverage_class": "B", "amount_fen": 35_000, "description": "头孢"}]
DESK = {"viewport": {"width": 1366, "height": 768}, "is_mobile": False, "has_touch": False,
        "device_scale_factor": 1, "locale": "zh-CN"}


def yuan(fen):
    return f"{fen // 100:,}.{fen % 100:02d}"


def csv_yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def settle_big_bill(app):
    patient = app.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    cashier = app.test_client()
    csrf = login(cashier, "demo-cashier")
    scan = cashier.post("/api/v1/verify", json={"code": phone.code("med"), "context": "hospital"},
                        headers={"X-CSRF-Token": csrf}).json["scan_id"]
    settled = cashier.post("/api/v1/settlements", json={"scan_id": scan, "lines": BIG_BILL},
                           headers={"X-CSRF-Token": csrf, "Idempotency-Key": "audit-page-0001"})
    assert settled.status_code == 201, settled.json
    return settled.json["settlement"]


def institution_row(page):
    cells = page.locator("#clearing-institutions tr[data-institution='H31011800001'] td").all_inner_texts()
    return {"name": cells[2], "count": cells[3], "gross": cells[4], "deducted": cells[5],
            "deductions": cells[6], "net": cells[7]}


def fen(text):
    return int(text.replace(",", "").replace(".", ""))


def test_an_auditor_opens_a_flag_confirms_it_and_clearing_refuses_the_bills_fund_share(
        seeded, live_server, phone_context):
    bill = settle_big_bill(seeded)
    page = phone_context(**DESK).new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/#/login")
    page.fill("#login", "demo-auditor")
    page.fill("#password", "yima-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_selector("#clearing-institutions tbody tr")
    page.wait_for_function("() => document.querySelector('#clearing-chart canvas')?.getAttribute('aria-label')?.includes('嘉善县')")
    before = institution_row(page)
    assert before["name"] == "青浦区中心医院" and before["deductions"] == "0.00"
    assert fen(before["gross"]) == bill["fund_fen"] and before["net"] == before["gross"]
    clearing = page.inner_text("#clearing")
    assert "H31011800001" not in clearing and "嘉善县" in clearing and "青浦区" in clearing
    assert page.evaluate("() => !!globalThis.Chart?.getChart(document.querySelector('#clearing-chart canvas'))")
    screenshot(page, "audit-clearing")

    page.click("nav.subtabs a:text-is('疑点')")
    row = page.locator("#flag-table tr[data-flag]").filter(has_text="单笔费用超过参保地阈值")
    row.wait_for()
    text = row.inner_text()
    assert "沈**" in text and "嘉善县 → 青浦区" in text and "青浦区中心医院" in text
    assert yuan(bill["total_fen"]) in text and yuan(bill["fund_fen"]) in text and "待审" in text
    page.wait_for_selector("#flags-chart canvas[aria-label*='单笔费用超过参保地阈值']")
    screenshot(page, "audit-flags")

    row.locator("a:text-is('打开')").click()
    page.wait_for_selector("#case-lines tbody tr")
    assert page.locator("#case-lines tbody tr").count() == 2
    lines = page.inner_text("#case-lines")
    assert "治疗" in lines and "手术" in lines and "甲类" in lines and "12,000.00" in lines and "乙类" in lines
    split = page.inner_text("#case-split")
    assert f"{yuan(bill['fund_fen'])} 元" in split and f"{yuan(bill['total_fen'])} 元" in split
    effect = page.inner_text("#case-effect")
    assert f"拒付 {yuan(bill['fund_fen'])} 元" in effect and "嘉善县基金" in effect
    page.click("#case-confirm")
    page.wait_for_selector(".message.error:has-text('请填写审核意见')")
    page.fill("#case-note", "无手术指征，病历不全，拒付")
    page.click("#case-add-note")
    page.wait_for_selector("#case-history li:has-text('病历不全')")
    page.fill("#case-note", "经两地联审确认，拒付统筹基金部分")
    page.click("#case-confirm")
    dialog = page.locator("dialog.confirm")
    dialog.wait_for()
    assert f"{yuan(bill['fund_fen'])} 元" in dialog.inner_text() and "不能撤销" in dialog.inner_text()
    screenshot(page, "audit-confirm-dialog")
    dialog.locator("button.danger").click()
    page.wait_for_selector(".message.ok:has-text('已确认违规')")
    page.wait_for_selector("#case-history li.kind-confirm:has-text('经两地联审确认')")
    assert "陈建国" in page.inner_text("#case-history")
    assert page.locator("#case-confirm").count() == 0  # a decision is final
    screenshot(page, "audit-case")

    page.click("a.back")
    page.wait_for_selector("#flag-table, #flag-list .empty")
    page.click("nav.subtabs a:text-is('清算')")
    page.wait_for_selector("#clearing-institutions tbody tr")
    after = institution_row(page)
    assert after["gross"] == before["gross"] and after["deducted"] == "1"
    assert fen(after["deductions"]) == bill["fund_fen"]
    assert fen(after["net"]) == fen(before["net"]) - bill["fund_fen"] == 0
    totals = page.inner_text("#clearing-totals")
    assert yuan(bill["fund_fen"]) in totals

    href = page.get_attribute("#clearing-csv", "href")
    body = page.evaluate("(href) => fetch(href).then((r) => r.text())", href)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][0] == "参保地（付款方）" and rows[0][7] == "拒付金额（元）"
    [qingpu] = [r for r in rows if r[2] == "青浦区中心医院"]
    assert qingpu[5:] == [csv_yuan(bill["fund_fen"]), "1", csv_yuan(bill["fund_fen"]), "0.00"]

    page.click("nav.subtabs a:text-is('月度趋势')")
    page.wait_for_selector("#trend-chart canvas[aria-label*='嘉善县']")
    screenshot(page, "audit-trend")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    with seeded.app_context():
        reads = db.session.scalars(select(AuditEntry).filter_by(action="settlement.read")).all()
        assert reads and {(r.actor, r.target_id, json.loads(r.detail)["via"]) for r in reads} == \
            {("demo-auditor", str(bill["id"]), "audit_flag")}  # each time the case was opened
