"""The JavaScript code module (pwa/js/yima-code.js) in Chromium: the shared vectors, codes made on
a "phone" verified in Python, codes made in Python verified in the browser."""
import json
import os
import time

import pytest

from backend.tokens.code import make_code, step_at
from backend.tokens.credential import Claims, DeviceKey, issue_credential, new_credential_id, \
    new_pseudonym
from backend.tokens.keys import KeyRing
from backend.tokens.verify import verify
from phones import Phone

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "vectors", "codes.json")) as handle:
    VECTORS = json.load(handle)
ERROR_CODES = {"code_malformed", "unknown_kid", "bad_signature", "credential_expired",
               "credential_not_yet_valid", "wrong_kind", "bad_device_signature", "code_expired",
               "code_not_yet_valid", "credential_revoked", "code_replayed"}


@pytest.fixture
def module_page(page, static_origin):
    page.goto(static_origin + "/tests/browser/blank.html")
    page.evaluate("""async () => {
        window.code = await import('/pwa/js/yima-code.js');
        window.deviceKey = await import('/pwa/js/device-key.js');
    }""")
    return page


def test_every_verify_vector_in_chromium(module_page):
    results = module_page.evaluate("""async (v) => {
        const out = [];
        for (const t of v.verify) {
            out.push(await code.verifyCode(t.code, {jwks: v.issuer_jwks, revokedJti: v.revoked_jti,
                                                    context: t.context, now: t.now, window: v.window}));
        }
        return out;
    }""", VECTORS)
    for vector, result in zip(VECTORS["verify"], results):
        if vector["valid"]:
            assert result["ok"], (vector["name"], result)
            assert result["claims"] == vector["claims"] and result["step"] == vector["step"]
            assert result["jws"] == vector["jws"]
        else:
            assert result == {"ok": False, "error": vector["error"]}, vector["name"]


def test_generation_vectors_in_chromium(module_page):
    results = module_page.evaluate("""async (v) => {
        const out = [];
        for (const g of v.generation) {
            const jwk = g.device_private_jwk;
            const algorithm = jwk.kty === 'OKP' ? {name: 'Ed25519'} : {name: 'ECDSA', namedCurve: 'P-256'};
            const key = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
            const made = await code.makeCode(g.credential, key, g.step);
            const now = g.step * 30 + 5;
            const checked = await code.verifyCode(made, {jwks: v.issuer_jwks, context: JSON.parse(
                atob(g.credential.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).knd === 'med' ? 'hospital' : 'bus', now});
            out.push({made, ok: checked.ok});
        }
        return out;
    }""", VECTORS)
    for vector, result in zip(VECTORS["generation"], results):
        assert result["ok"], vector["name"]
        if vector["deterministic"]:
            assert result["made"] == vector["code"]


@pytest.mark.parametrize("alg", ["Ed25519", "P-256"])
def test_a_phone_code_made_in_chromium_verifies_in_python(module_page, tmp_path, alg):
    public_jwk = module_page.evaluate(
        "async (alg) => (window.phone = await deviceKey.createDeviceKey({alg})).publicJwk", alg)
    now = int(time.time())
    ring = KeyRing.open(str(tmp_path)).ensure(now - 60)
    claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd="ss", reg="310118",
                    cls="res", fam=False, iat=now - 60, exp=now + 86_400,
                    device_key=DeviceKey.from_jwk(public_jwk))
    credential = issue_credential(ring, claims, now - 60)
    made = module_page.evaluate(
        "async ([jws, step]) => code.makeCode(jws, window.phone.privateKey, step)",
        [credential, step_at(now)])
    result = verify(made, issuer_keys=ring.public_keys(now), expected_kind="ss", now=now)
    assert result.claims == claims


def test_a_code_made_in_python_verifies_in_chromium(module_page, tmp_path):
    now = int(time.time())
    ring = KeyRing.open(str(tmp_path)).ensure(now - 60)
    phone = Phone("P-256")
    claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd="med", reg="330421",
                    cls="emp", fam=True, iat=now - 60, exp=now + 86_400,
                    device_key=DeviceKey.from_jwk(phone.jwk()))
    made = make_code(issue_credential(ring, claims, now - 60), step_at(now), phone.sign)
    result = module_page.evaluate(
        "async ([c, jwks, now]) => code.verifyCode(c, {jwks, context: 'hospital', now})",
        [made, ring.jwks(now), now])
    assert result["ok"] and result["claims"]["jti"] == claims.jti and result["claims"]["fam"] is True
    seen = module_page.evaluate("""async ([c, jwks, now]) => {
        const s = new Set(); const seen = {has: (k) => s.has(k), add: (k) => s.add(k)};
        const first = await code.verifyCode(c, {jwks, context: 'hospital', now, seen});
        const second = await code.verifyCode(c, {jwks, context: 'hospital', now, seen});
        return [first.ok, second.error];
    }""", [made, ring.jwks(now), now])
    assert seen == [True, "code_replayed"]


def test_the_device_key_is_non_extractable_and_survives_a_reload(module_page, static_origin):
    module_page.evaluate("async () => { await deviceKey.createDeviceKey(); }")
    module_page.reload()
    outcome = module_page.evaluate("""async () => {
        const dk = await import('/pwa/js/device-key.js');
        const loaded = await dk.loadDeviceKey();
        let exported = 'no';
        try { await crypto.subtle.exportKey('pkcs8', loaded.privateKey); exported = 'yes'; }
        catch (e) { exported = e.name; }
        const proof = await dk.signChallenge(loaded.privateKey, new Uint8Array(32));
        return {alg: loaded.alg, extractable: loaded.privateKey.extractable, exported, proofLength: proof.length};
    }""")
    assert outcome == {"alg": "Ed25519", "extractable": False, "exported": "InvalidAccessError",
                       "proofLength": 86}


def test_garbage_and_mutations_never_throw(module_page):
    valid = next(v for v in VECTORS["verify"] if v["valid"])
    errors = module_page.evaluate("""async ([v, t]) => {
        const out = new Set();
        const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:#abcé\\u0000😀';
        let seed = 7;
        const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
        for (let i = 0; i < 300; i++) {
            let text;
            if (i % 2) {
                const at = rand(t.code.length);
                text = t.code.slice(0, at) + alphabet[rand(alphabet.length)] + t.code.slice(at + 1);
            } else {
                text = Array.from({length: rand(320)}, () => alphabet[rand(alphabet.length)]).join('');
                if (i % 4 === 0) text = 'YM1' + text;
            }
            if (text === t.code) continue;
            const r = await code.verifyCode(text, {jwks: v.issuer_jwks, context: t.context, now: t.now});
            out.add(r.ok ? 'ACCEPTED' : r.error);
        }
        for (const odd of [null, 42, {}, [], undefined]) {
            const r = await code.verifyCode(odd, {jwks: v.issuer_jwks, context: 'bus', now: 1});
            out.add(r.ok ? 'ACCEPTED' : r.error);
        }
        return [...out];
    }""", [VECTORS, valid])
    assert "ACCEPTED" not in errors
    assert set(errors) <= ERROR_CODES
