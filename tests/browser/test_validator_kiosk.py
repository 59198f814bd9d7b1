"""The bus validator in Chromium: enrol, a ride code through the fake camera → green, the same code
again → red, rides accepted offline across a reload, then uploaded exactly once."""
import time

import pytest
from conftest import CHROMIUM_ARGS, screenshot
from test_patient_pages import axe_problems
from phones import Phone, login, steady_time
from sqlalchemy import func, select
from test_counter_console import write_y4m

from backend.models import Ride
from backend.service.extensions import db


@pytest.fixture
def setup(browser_type, browser_type_launch_args, tmp_path, seeded):
    phones = []
    for who in ("demo-patient", "demo-family"):
        client = seeded.test_client()
        phone = Phone()
        phone.activate(client, login(client, who))
        phones.append(phone)
    admin = seeded.test_client()
    csrf = login(admin, "demo-admin")
    enrol_code = admin.post("/api/v1/admin/validators", json={"line": "ZONE2", "label": "bus 2-07"},
                            headers={"X-CSRF-Token": csrf}).json["enrol_code"]
    start = time.time()
    feed = tmp_path / "ride.y4m"
    write_y4m(phones[0].code("ss", now=start), feed)
    browser = browser_type.launch(**{**browser_type_launch_args, "args": CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={feed}"]})
    yield browser, phones, enrol_code, start
    browser.close()


def rides_on_server(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ride))


def type_code(page, code):
    page.focus("#wedge")
    page.keyboard.type(code, delay=0)
    page.keyboard.press("Enter")


def test_validator_decides_offline_and_uploads_once(seeded, live_server, setup):
    browser, phones, enrol_code, start = setup
    context = browser.new_context(viewport={"width": 800, "height": 480}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/#/validator")
    page.wait_for_selector("#enrol_code")
    assert not page.is_visible("#lang-toggle") and not page.is_visible("#elder-toggle")  # a kiosk
    assert axe_problems(page) == []
    screenshot(page, "validator-enrol")
    page.fill("#enrol_code", enrol_code)
    page.click("button[type=submit]")
    page.wait_for_selector("#answer.green", timeout=20_000)  # the camera's QR
    assert axe_problems(page) == []
    assert "4.00" not in page.inner_text("#answer") and "3.00 元" in page.inner_text("#answer")
    screenshot(page, "validator-green")
    type_code(page, phones[0].code("ss", now=start))  # the same code again
    page.wait_for_selector("#answer.red")
    assert "已经用过" in page.inner_text("#answer")
    assert axe_problems(page) == []
    screenshot(page, "validator-red")
    # At rest: its line, its bus, uploads and freshness in large type; the wedge focused, unseen.
    page.wait_for_selector("#answer.idle .line-name")
    rest = page.inner_text("body")
    assert "示范区2路（朱家角—西塘）" in rest and "票价 3.00 元" in rest and "bus 2-07" in rest
    assert "数据更新于" in rest and "请扫乘车码" in rest
    assert page.evaluate("document.activeElement.id") == "wedge"
    box = page.locator("#wedge").bounding_box()
    assert box["width"] <= 1 and box["height"] <= 1
    assert page.evaluate("getComputedStyle(document.getElementById('wedge')).opacity") == "0"
    assert page.evaluate("document.scrollingElement.scrollHeight <= innerHeight")  # all of it on 800×480
    assert axe_problems(page) == []
    deadline = time.monotonic() + 20
    while rides_on_server(seeded) < 1 and time.monotonic() < deadline:
        page.wait_for_timeout(300)
    assert rides_on_server(seeded) == 1

    page.wait_for_function("() => navigator.serviceWorker.controller !== null")  # the shell is cached
    context.set_offline(True)
    # Distinct codes (phone, step), each made when it is shown, inside the ±1 step window.
    for i, (phone, offset) in enumerate(((phones[0], 30), (phones[1], -30), (phones[1], 0))):
        if i == 2:
            page.reload()  # a reload in the middle: nothing is lost
            page.wait_for_selector("#wedge")
        page.wait_for_selector("#answer.idle", timeout=10_000)
        type_code(page, phone.code("ss", now=steady_time() + offset))
        page.wait_for_selector("#answer.green")
    page.wait_for_selector("#pending:has-text('待上传 3 笔')")
    page.wait_for_selector("#network:has-text('离线验票中')")  # its own offline wording
    page.wait_for_selector("#answer.idle")
    screenshot(page, "validator-offline")
    assert rides_on_server(seeded) == 1

    answers = []  # what the server answered to the kiosk's uploads from here on
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/rides/batch") else None)
    context.set_offline(False)
    deadline = time.monotonic() + 30
    while rides_on_server(seeded) < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(300)
    assert rides_on_server(seeded) == 4
    page.wait_for_function("document.querySelector('#pending').textContent === ''")
    assert [a.json()["results"][0]["status"] for a in answers] == ["charged"]  # one batch of 3
    page.wait_for_timeout(6000)  # later syncs send nothing again
    assert rides_on_server(seeded) == 4


def test_admin_enrols_a_validator_and_sees_ridership(seeded, live_server, phone_context):
    page = phone_context(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False).new_page()
    page.goto(live_server + "/#/login")
    page.fill("#login", "demo-admin")
    page.fill("#password", "yima-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_selector("#logout:not([hidden])")
    page.goto(live_server + "/#/admin/validators")  # the admin console's validators tab
    page.wait_for_selector("#register-validator")
    page.select_option("#line", "ZONE4")
    page.fill("#label", "苏E-12345")
    page.click("#register-validator button[type=submit]")
    page.wait_for_selector("#enrolment .qr svg")
    assert "登记码" in page.inner_text("#enrolment")
    page.goto(live_server + "/#/admin/ridership")
    page.wait_for_selector("#ridership table, #ridership .empty")
    screenshot(page, "admin-validators")


def many_phones(app, runner, count, tmp_path):
    """``count`` insured persons with accounts and activated phones (as their apps would)."""
    from backend.accounts.hashing import hash_password
    from backend.demo.seed import demo_national_id
    from backend.models import Account, Person
    from backend.patients import credentials
    from backend.service.extensions import redis_client
    from backend.service.issuer import current_ring

    ids = [demo_national_id("310118", f"19{50 + i % 40}0{1 + i % 9}1{i % 9}", f"{i:03d}") for i in range(count)]
    csv = tmp_path / "riders.csv"
    csv.write_text("national_id,name,phone,home_region,insurance_class,transit_wallet_fen,password_free_limit_fen\n"
                   + "".join(f"{n},乘客{i},1370000{i:04d},310118,resident,5000,2000\n" for i, n in enumerate(ids)),
                   encoding="utf-8")
    assert runner.invoke(args=["registry", "import", str(csv)]).exit_code == 0
    phones = []
    with app.app_context():
        store, ring, now = redis_client.client(app), current_ring(app), int(time.time())
        password = hash_password("rider-pass-1")
        for person in db.session.scalars(select(Person).filter(Person.name.like("乘客%"))):
            account = Account(login=person.phone, password_hash=password, role="patient", person_id=person.id)
            db.session.add(account)
            db.session.flush()
            phone = Phone()
            nonce, _ = credentials.new_challenge(store, account.id)
            proof = credentials.b64url(phone.sign(credentials.ACTIVATION_LABEL + credentials.b64url_decode(nonce)))
            phone.credentials = credentials.activate_device(
                db.session, store, account=account, person=person, public_jwk=phone.jwk(), nonce=nonce,
                proof=proof, ring=ring, now=now, lifetime=86_400).credentials
            phone.login = person.phone
            phones.append(phone)
        db.session.commit()
    return phones


def test_two_hundred_offline_rides_reach_the_server_once(seeded, live_server, browser, tmp_path):
    from backend.models import Person

    seeded.config["DAILY_FARE_CAP_FEN"] = 800  # a day's third ¥3 ride costs only ¥2
    runner = seeded.test_cli_runner()
    phones = many_phones(seeded, runner, 70, tmp_path)
    admin = seeded.test_client()
    enrol_code = admin.post("/api/v1/admin/validators", json={"line": "ZONE2", "label": "bus 2-09"},
                            headers={"X-CSRF-Token": login(admin, "demo-admin")}).json["enrol_code"]
    context = browser.new_context(viewport={"width": 800, "height": 600}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/#/validator")
    page.fill("#enrol_code", enrol_code)
    page.click("button[type=submit]")
    page.wait_for_selector("#freshness:has-text('数据更新于')")
    # A reload offline needs the shell cached: the service worker controls the page once it has.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    context.set_offline(True)
    shown = 0
    for offset in (-30, 0, 30):  # each phone's next code, always inside the ±1 step window
        for phone in phones:
            if shown == 200:
                break
            if shown == 100:
                page.reload()  # a reload in the middle
                page.wait_for_selector("#wedge")
            page.fill("#wedge", phone.code("ss", now=steady_time() + offset))
            page.press("#wedge", "Enter")
            page.wait_for_function("n => document.querySelector('#pending').textContent.includes(String(n))",
                                   arg=shown + 1)
            shown += 1
    assert rides_on_server(seeded) == 0

    context.set_offline(False)
    deadline = time.monotonic() + 60
    while rides_on_server(seeded) < 200 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    page.wait_for_timeout(6000)  # another sync round sends nothing twice
    assert rides_on_server(seeded) == 200
    with seeded.app_context():
        balances = db.session.scalars(select(Person.transit_wallet_fen).filter(Person.name.like("乘客%"))).all()
    # ¥3 a ride; 60 riders × 3 rides reach the ¥8 daily cap (3 + 3 + 2), 10 riders × 2 rides do not
    assert sorted(balances) == [5000 - 800] * 60 + [5000 - 600] * 10

    # A phone revoked online is refused after the validator's next sync.
    lost = phones[0]
    owner = seeded.test_client()
    csrf = login(owner, lost.login, "rider-pass-1")
    device = owner.get("/api/v1/devices").json["devices"][0]["id"]
    assert owner.post(f"/api/v1/devices/{device}/revoke", headers={"X-CSRF-Token": csrf}).status_code == 200
    for _ in range(2):  # the second trust download after the revocation was asked for after it
        with page.expect_response(lambda r: "/api/v1/validators/trust" in r.url, timeout=30_000):
            pass
    page.fill("#wedge", lost.code("ss", now=time.time() + 30))
    page.press("#wedge", "Enter")
    page.wait_for_selector("#answer.red")
    assert "注销" in page.inner_text("#answer")


def test_a_rider_in_arrears_is_refused_by_credential_id(seeded, live_server, browser):
    """The deny list names credentials (jti), not holders: the kiosk refuses the code of a person
    past the arrears threshold and accepts another person's, offline, from its trust data."""
    from backend.models import Person
    from backend.transit.trust import review_arrears

    phones = {}
    for who in ("demo-patient", "demo-family"):
        client = seeded.test_client()
        phones[who] = Phone()
        phones[who].activate(client, login(client, who))
    with seeded.app_context():
        debtor = db.session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        debtor.transit_wallet_fen = -2000
        review_arrears(db.session, debtor, seeded.config["ARREARS_DENY_FEN"], int(time.time()))
        db.session.commit()
    admin = seeded.test_client()
    enrol_code = admin.post("/api/v1/admin/validators", json={"line": "ZONE2", "label": "bus 2-11"},
                            headers={"X-CSRF-Token": login(admin, "demo-admin")}).json["enrol_code"]
    context = browser.new_context(viewport={"width": 800, "height": 600}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/#/validator")
    page.fill("#enrol_code", enrol_code)
    with page.expect_response(lambda r: "/api/v1/validators/trust" in r.url):
        page.click("button[type=submit]")
    page.wait_for_selector("#wedge", state="attached")  # the kiosk, with its trust data kept
    context.set_offline(True)
    type_code(page, phones["demo-patient"].code("ss"))
    page.wait_for_selector("#answer.red")
    assert "欠费较多" in page.inner_text("#answer")
    page.wait_for_selector("#answer.idle", timeout=10_000)
    type_code(page, phones["demo-family"].code("ss"))
    page.wait_for_selector("#answer.green")
    context.close()


@pytest.mark.parametrize("mode", ["en", "elder"])
def test_the_kiosk_reads_well_in_english_and_elder_mode(seeded, live_server, browser, mode):
    admin = seeded.test_client()
    enrol_code = admin.post("/api/v1/admin/validators", json={"line": "ZONE4", "label": "苏E-12345"},
                            headers={"X-CSRF-Token": login(admin, "demo-admin")}).json["enrol_code"]
    context = browser.new_context(viewport={"width": 800, "height": 480}, locale="zh-CN")
    context.add_init_script("localStorage.setItem('yima.lang', 'en')" if mode == "en"
                            else "localStorage.setItem('yima.elder', '1')")
    page = context.new_page()
    page.goto(live_server + "/#/validator")
    page.wait_for_selector("#enrol_code")
    assert axe_problems(page) == []
    page.fill("#enrol_code", enrol_code)
    page.click("button[type=submit]")
    page.wait_for_selector("#answer.idle .line-name")
    page.wait_for_selector("#freshness:not(:empty)")
    text = page.inner_text("body")
    assert ("Zone Line 4" in text and "Fare 3.00 yuan" in text) if mode == "en" else "示范区4路" in text
    assert axe_problems(page) == []
    screenshot(page, f"validator-idle-{mode}")
    type_code(page, "not-a-code")
    page.wait_for_selector("#answer.red")
    assert axe_problems(page) == []
    context.close()
