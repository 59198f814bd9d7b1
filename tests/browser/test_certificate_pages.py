"""参保凭证 in the browser: a patient issues a certificate; anyone's public check page (no login)
says valid — from the shared link and from the uploaded PDF — and, once the holder has revoked it
(after a confirmation), says revoked. Screenshots at phone, elder, kiosk and desktop sizes."""
import io
from urllib.parse import quote

from conftest import CHROMIUM_ARGS, screenshot

from backend.service.qr import render_png

SIZES = {"360": {"width": 360, "height": 640}, "800": {"width": 800, "height": 480},
         "1366": {"width": 1366, "height": 768}}


def shots(page, name, elder_too=False, sizes=("360",)):
    for size in sizes:
        page.set_viewport_size(SIZES[size])
        screenshot(page, f"cert-{name}-{size}")
    if elder_too:
        page.set_viewport_size(SIZES["360"])
        page.click("#elder-toggle")
        screenshot(page, f"cert-{name}-360-elder")
        page.click("#elder-toggle")
    page.set_viewport_size(SIZES["360"])


def test_check_page_valid_then_revoked(live_server, phone_context):
    holder = phone_context(viewport=SIZES["360"]).new_page()
    holder.goto(live_server + "/#/login")
    holder.fill("#login", "demo-patient")
    holder.fill("#password", "yima-demo-2026")
    holder.click("button[type=submit]")
    holder.wait_for_selector("#nav")
    holder.goto(live_server + "/#/certificates")
    holder.wait_for_selector("#certificates li.empty")
    holder.select_option("#cert_period", "12")
    holder.click("#cert-issue button[type=submit]")
    row = holder.wait_for_selector("#certificates li.cert-row:has(.tag.ok)")
    row.query_selector("button[aria-expanded]").click()
    text = holder.wait_for_selector(".cert-row .qr").get_attribute("data-text")
    assert text.startswith("YC1")
    shots(holder, "mine", elder_too=True, sizes=("360", "1366"))
    pdf = holder.request.get(live_server + "/api/v1/me/certificates/" +
                             row.get_attribute("id").removeprefix("cert-") + "/pdf").body()

    checker = phone_context(viewport=SIZES["360"]).new_page()  # no login
    checker.goto(live_server + "/#/check")
    checker.wait_for_selector("#cert_file")
    checker.set_input_files("#cert_file", files=[{"name": "参保凭证.pdf", "mimeType": "application/pdf",
                                                  "buffer": pdf}])
    valid = checker.wait_for_selector(".cert-verdict.valid")
    assert "凭证有效" in valid.inner_text() and "沈桂芳" in valid.inner_text()
    assert "嘉善县" in valid.inner_text() and "职工基本医疗保险" in valid.inner_text()
    shots(checker, "check-valid", elder_too=True, sizes=SIZES)

    photo = io.BytesIO()  # a picture of the QR is read in the browser (zxing-wasm), not uploaded
    render_png(text, photo, version=None, box_size=5)
    checker.evaluate("document.getElementById('cert-verdict').replaceChildren()")
    checker.set_input_files("#cert_file", files=[{"name": "photo.png", "mimeType": "image/png",
                                                  "buffer": photo.getvalue()}])
    assert "沈桂芳" in checker.wait_for_selector(".cert-verdict.valid").inner_text()

    holder.click(".cert-row button.danger-outline")
    holder.wait_for_selector("dialog.confirm")
    screenshot(holder, "cert-revoke-confirm-360")
    holder.click("dialog.confirm button.danger")
    holder.wait_for_selector("#certificates li.cert-row:has(.tag.bad)")

    checker.fill("#cert_text", text)
    checker.click("#cert-paste button[type=submit]")
    refused = checker.wait_for_selector(".cert-verdict[data-error=certificate_revoked]")
    assert "凭证已作废" in refused.inner_text()
    shots(checker, "check-revoked", sizes=("360", "800"))

    checker.fill("#cert_text", text[:-4] + ("A" if text[-4] != "A" else "B") + text[-3:])
    checker.click("#cert-paste button[type=submit]")
    tampered = checker.wait_for_selector(".cert-verdict[data-error=bad_signature]")
    assert "被改动过" in tampered.inner_text()
    screenshot(checker, "cert-check-tampered-360")

    checker.click("#lang-toggle")  # the shared link, in English
    checker.goto(live_server + "/#/check?c=" + quote(text, safe=""))
    shared = checker.wait_for_selector(".cert-verdict[data-error=certificate_revoked]")
    assert "Revoked" in shared.inner_text() and "沈桂芳" in shared.inner_text()
    screenshot(checker, "cert-check-revoked-360-en")


def test_counter_issues_for_the_person_in_front_of_it(live_server, phone_context):
    from backend.demo.seed import demo_national_id

    page = phone_context(viewport=SIZES["1366"], is_mobile=False, has_touch=False,
                         device_scale_factor=1).new_page()
    page.goto(live_server + "/#/login")
    page.fill("#login", "demo-admin")
    page.fill("#password", "yima-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_selector(".console-tabs")
    page.goto(live_server + "/#/admin/certificates")
    page.fill("#cert_national_id", "12345")
    page.click("#counter-cert button[type=submit]")
    page.wait_for_selector("#cert_national_id-field.invalid")
    page.fill("#cert_national_id", demo_national_id("330421", "19480512", "002"))
    page.click("#counter-cert button[type=submit]")
    issued = page.wait_for_selector("#counter-certificate .ok-card")
    assert "沈桂芳" in issued.inner_text() and "1999-01-01" in issued.inner_text()
    screenshot(page, "cert-counter-1366")


def test_the_camera_reads_a_certificate(browser_type, browser_type_launch_args, seeded, live_server,
                                        tmp_path):
    from phones import login
    from test_counter_console import write_y4m

    client = seeded.test_client()
    csrf = login(client, "demo-patient")
    text = client.post("/api/v1/me/certificates", json={},
                       headers={"X-CSRF-Token": csrf}).json["certificate"]["text"]
    feed = tmp_path / "certificate.y4m"
    write_y4m(text, feed)
    camera = browser_type.launch(**{**browser_type_launch_args, "args": CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={feed}"]})
    try:
        page = camera.new_context(viewport=SIZES["360"], locale="zh-CN").new_page()
        page.goto(live_server + "/#/check")
        page.click("#cert-scan")
        valid = page.wait_for_selector(".cert-verdict.valid", timeout=20_000)
        assert "沈桂芳" in valid.inner_text()
        assert page.eval_on_selector("#camera", "video => video.hidden")  # the camera stopped
    finally:
        camera.close()
