"""A patient's history, settings, phones and the public "where it works" lists, through the API:
real settlements and rides show up in China time, pages continue, limits stay in the region's
range, and the directory needs no login."""
import re
import time

import pytest
from phones import Phone, login, steady_time
from test_counter_api import BILL
from test_transit_api import enrol_validator

CHINA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


@pytest.fixture
def patient(seeded):
    client = seeded.test_client()
    csrf = login(client, "demo-patient")
    phone = Phone()
    assert phone.activate(client, csrf).status_code == 201
    return client, csrf, phone


def settle(app, phone, key, refund=False, offset=0):
    cashier = app.test_client()
    csrf = login(cashier, "demo-cashier")
    headers = {"X-CSRF-Token": csrf}
    scan = cashier.post("/api/v1/verify", json={"code": phone.code("med", now=steady_time() + offset),
                                                      "context": "hospital"}, headers=headers)
    assert scan.status_code == 200, scan.json
    settled = cashier.post("/api/v1/settlements", json={"scan_id": scan.json["scan_id"], "lines": BILL},
                           headers={**headers, "Idempotency-Key": key})
    assert settled.status_code == 201, settled.json
    sid = settled.json["settlement"]["id"]
    if refund:
        assert cashier.post(f"/api/v1/settlements/{sid}/refund", json={"reason": "开错了"},
                            headers=headers).status_code == 201
    return sid


def test_history_shows_real_settlements_and_rides_in_china_time(seeded, patient):
    client, _, phone = patient
    me = client.get("/api/v1/me").json
    assert me["settlements"] == [] and me["rides"] == [] and me["person"]["masked_name"] == "沈**"
    first = settle(seeded, phone, "hist-0001", refund=True)
    second = settle(seeded, phone, "hist-0002", offset=30)  # the next code: a code pays once
    bus, auth, _, _ = enrol_validator(seeded, line="ZONE2")
    now = int(time.time())
    assert bus.post("/api/v1/rides/batch", json={"rides": [{"code": phone.code("ss", now=now), "ridden_at": now}]},
                    headers=auth).json["results"][0]["status"] == "charged"

    me = client.get("/api/v1/me").json
    assert [s["id"] for s in me["settlements"]] == [second, first]
    newest, refunded = me["settlements"]
    assert newest["institution"]["name"]["zh"] == "青浦区中心医院" and newest["institution"]["level"] == 3
    assert newest["treating_region"]["name"]["zh"] == "青浦区" and newest["cross_region"] is True
    assert newest["total_fen"] == 35_000 == newest["fund_fen"] + newest["personal_account_fen"] + newest["cash_fen"]
    assert [line["amount_fen"] for line in newest["lines"]] == [line["amount_fen"] for line in BILL]
    assert newest["refunded"] is False and refunded["refunded"] is True
    assert CHINA_TIME.match(newest["at"]) and CHINA_TIME.match(refunded["refunded_at"])
    ride, = me["rides"]
    assert ride["line"]["name"]["zh"].startswith("示范区2路") and ride["fare_fen"] == 300
    assert ride["outcome"] == "charged" and CHINA_TIME.match(ride["at"])
    assert me["wallet"][0]["kind"] == "ride" and me["wallet"][0]["amount_fen"] == -300
    assert all(CHINA_TIME.match(e["at"]) for e in me["wallet"]) and CHINA_TIME.match(me["as_of"])
    assert me["more"] == {"settlements": None, "rides": None, "wallet": None}

    page = client.get("/api/v1/me/settlements?limit=1").json
    assert [s["id"] for s in page["items"]] == [second] and page["next_before"] == second
    rest = client.get(f"/api/v1/me/settlements?limit=1&before={page['next_before']}").json
    assert [s["id"] for s in rest["items"]] == [first] and rest["next_before"] is None
    assert client.get("/api/v1/me/rides").json["items"] == me["rides"]
    assert client.get("/api/v1/me/wallet?limit=100").json["items"] == me["wallet"]

    # Another patient sees none of it.
    son = seeded.test_client()
    login(son, "demo-family")
    assert son.get("/api/v1/me/settlements").json["items"] == []
    assert son.get("/api/v1/me/rides").json["items"] == []


@pytest.mark.parametrize("query", ["before=abc", "before=-1", "limit=0", "limit=101", "limit=x",
                                   "before=99999999999999999999", "before=²", "limit=٣", "limit=" + "9" * 40])
def test_bad_pages_are_refused_readably(seeded, patient, query):
    client, _, _ = patient
    for name in ("settlements", "rides", "wallet"):
        answer = client.get(f"/api/v1/me/{name}?{query}")
        assert answer.status_code == 422 and answer.json["code"] == "bad_page", answer.json


def test_password_free_payment_within_the_regions_maximum(seeded, patient):
    client, csrf, _ = patient
    headers = {"X-CSRF-Token": csrf}
    setting = client.get("/api/v1/me/settings").json["password_free"]
    assert setting == {"enabled": True, "limit_fen": 20_000, "min_fen": 100, "max_fen": 30_000}  # Jiashan
    put = lambda body: client.put("/api/v1/me/settings/password-free", json=body, headers=headers)  # noqa: E731
    assert put({"enabled": True, "limit_fen": 5_000}).json["password_free"]["limit_fen"] == 5_000
    for bad in (30_001, 99, 0, -5, 10 ** 30):
        refused = put({"enabled": True, "limit_fen": bad})
        assert refused.status_code == 422 and refused.json["code"] in ("limit_out_of_range", "validation_failed")
    assert put({"enabled": True}).json["code"] == "limit_out_of_range"
    assert put({"enabled": "yes"}).status_code == 422
    off = put({"enabled": False}).json["password_free"]
    assert off["enabled"] is False and off["limit_fen"] == 0
    assert client.get("/api/v1/me").json["balances"]["password_free_limit_fen"] == 0
    assert client.put("/api/v1/me/settings/password-free", json={"enabled": False}).status_code == 403  # no CSRF


def test_phones_show_their_state_and_last_use(seeded, patient):
    client, csrf, phone = patient
    settle(seeded, phone, "hist-0101")
    devices = client.get("/api/v1/devices").json["devices"]
    mine, = [d for d in devices if d["id"] == phone.device_id]
    assert mine["last_used_for"] == "settlement" and CHINA_TIME.match(mine["last_used_at"])
    assert mine["revoked_at"] is None and mine["holder_status"] == "active"
    assert mine["holder_masked_name"] == "沈**" and CHINA_TIME.match(mine["expires_at"])
    newer = Phone()
    assert newer.activate(client, csrf).status_code == 201
    old = next(d for d in client.get("/api/v1/devices").json["devices"] if d["id"] == phone.device_id)
    assert old["revoked"] is True and old["revoke_reason"] == "replaced" and CHINA_TIME.match(old["revoked_at"])


def test_where_it_works_is_public_searchable_and_cacheable(seeded):
    anyone = seeded.test_client()
    listing = anyone.get("/api/v1/directory/institutions")
    assert listing.status_code == 200 and listing.json["total"] == 75 == len(listing.json["institutions"])
    assert "public" in listing.headers["Cache-Control"] and "max-age" in listing.headers["Cache-Control"]
    first = listing.json["institutions"][0]
    assert set(first) == {"code", "name", "level", "region"} and first["name"]["zh"]
    central = anyone.get("/api/v1/directory/institutions?q=中心医院").json["institutions"]
    assert [i["name"]["zh"] for i in central] == ["青浦区中心医院"]
    assert anyone.get("/api/v1/directory/institutions?q=central hospital").json["total"] == 1
    jiashan = anyone.get("/api/v1/directory/institutions?region=330421").json["institutions"]
    assert jiashan and {i["region"]["code"] for i in jiashan} == {"330421"}
    assert anyone.get("/api/v1/directory/institutions?q=%25").json["total"] == 0  # % is a letter here
    lines = anyone.get("/api/v1/directory/lines").json["lines"]
    assert len(lines) == 6 and lines[1]["code"] == "ZONE2" and lines[1]["fare_fen"] == 300
    assert {r["name"]["zh"] for r in lines[1]["regions"]} == {"青浦区", "嘉善县"}
    assert [line["code"] for line in anyone.get("/api/v1/directory/lines?region=320509").json["lines"]] \
        == ["ZONE1", "ZONE4", "ZONE5", "ZONE6"]
    for bad in ("region=12", "region=abcdef", "region=٣٣٠٤٢١", "q=" + "长" * 41):
        for what in ("institutions", "lines"):
            answer = anyone.get(f"/api/v1/directory/{what}?{bad}")
            assert answer.status_code == 422 and answer.json["code"] == "bad_search"
