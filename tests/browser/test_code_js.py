"""The browser side of the credential core in Chromium: pwa/js/yima-code.js against the shared
vectors, codes made on a "phone" (pwa/js/device-key.js, keys kept in IndexedDB) verified in Python,
codes made in Python verified in the browser, and random input through both verifiers."""
import json
import os
import time

import pytest
from phones import Phone

from backend.patients.credentials import check_proof
from backend.tokens.code import SCANNER_WHITESPACE, decode_code, make_code, step_at
from backend.tokens.credential import (Claims, DeviceKey, issue_credential, new_credential_id,
                                       new_pseudonym)
from backend.tokens.documents import sign_document
from backend.tokens.errors import CODES, TokenError
from backend.tokens.keys import KeyRing
from backend.tokens.verify import CONTEXT_KINDS, verify

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "vectors", "codes.json")) as handle:
    VECTORS = json.load(handle)
# The valid codes as encoded (without a scanner's whitespace around them)
VALID = [v for v in VECTORS["verify"]
         if v["valid"] and v["code"] == v["code"].strip(SCANNER_WHITESPACE)]


@pytest.fixture
def module_page(page, static_origin):
    """A blank page on the static origin with the modules loaded as `code` and `deviceKey`."""
    page.goto(static_origin + "/tests/browser/blank.html")
    page.evaluate("""async () => {
        window.code = await import('/pwa/js/yima-code.js');
        window.deviceKey = await import('/pwa/js/device-key.js');
    }""")
    return page


@pytest.fixture
def ring(tmp_path):
    return KeyRing.open(str(tmp_path / "keys")).ensure(int(time.time()) - 60)


def issue(ring, public_jwk, knd, now, fam=False):
    claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd=knd, reg="310118", cls="res",
                    fam=fam, iat=now - 60, exp=now + 86_400, device_key=DeviceKey.from_jwk(public_jwk))
    return claims, issue_credential(ring, claims, now - 60)


def python_verdict(code, context, now, issuer_keys):
    try:
        verify(code, issuer_keys=issuer_keys, expected_kind=CONTEXT_KINDS[context], now=now,
               window=VECTORS["window"], is_revoked=set(VECTORS["revoked_jti"]).__contains__)
    except TokenError as error:
        return error.code
    return "ok"


# -- the shared vectors ---------------------------------------------------------------------------

RUN_VECTORS = """async (v) => {
    const out = [];
    for (const t of v.verify) {
        const result = await code.verifyCode(t.code, {jwks: v.issuer_jwks, revokedJti: v.revoked_jti,
                                                      context: t.context, now: t.now, window: v.window});
        if (result.ok) result.decoded = code.decodeCode(t.code).jws;  // the synchronous decoder agrees
        out.push(result);
    }
    return out;
}"""


def check_vector_results(results):
    assert len(results) == len(VECTORS["verify"])
    for vector, result in zip(VECTORS["verify"], results):
        if vector["valid"]:
            assert result == {"ok": True, "claims": vector["claims"], "step": vector["step"],
                              "jws": vector["jws"], "decoded": vector["jws"]}, vector["name"]
        else:
            assert result == {"ok": False, "error": vector["error"]}, (vector["name"], vector["reason"])


def test_every_verify_vector_in_chromium(module_page):
    check_vector_results(module_page.evaluate(RUN_VECTORS, VECTORS))


def test_every_verify_vector_where_webcrypto_cannot_import_compressed_points(module_page):
    """verifyCode lets WebCrypto decompress P-256 points; a browser that cannot takes the BigInt
    path (decompressP256), with the same answers."""
    module_page.evaluate("""() => {
        const importKey = crypto.subtle.importKey.bind(crypto.subtle);
        window.refusedImports = 0;
        crypto.subtle.importKey = async (format, data, algorithm, ...rest) => {
            if (format === 'raw' && algorithm.name === 'ECDSA' && data[0] !== 4) {
                window.refusedImports++;
                throw new DOMException('compressed points are not supported', 'NotSupportedError');
            }
            return importKey(format, data, algorithm, ...rest);
        };
    }""")
    check_vector_results(module_page.evaluate(RUN_VECTORS, VECTORS))
    assert module_page.evaluate("refusedImports") > 0


def test_a_scanners_surrounding_whitespace_is_stripped_but_nothing_inside(module_page):
    vector = VALID[0]
    texts = [vector["code"] + "\r\n", "  " + vector["code"] + "\t", vector["code"].replace(" ", "", 1)]
    results = module_page.evaluate("""async ([texts, v, t]) => Promise.all(texts.map((text) =>
        code.verifyCode(text, {jwks: v.issuer_jwks, context: t.context, now: t.now})
            .then((r) => r.ok || r.error)))""", [texts, VECTORS, vector])
    assert " " in vector["code"][3:]
    assert results == [True, True, "code_malformed"]


def test_generation_vectors_in_chromium(module_page):
    results = module_page.evaluate("""async (v) => {
        const out = [];
        for (const g of v.generation) {
            const jwk = g.device_private_jwk;
            const algorithm = jwk.kty === 'OKP' ? {name: 'Ed25519'} : {name: 'ECDSA', namedCurve: 'P-256'};
            const key = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
            const made = await code.makeCode(g.credential, key, g.step);
            const knd = code.decodeCode(made).unverifiedClaims.knd;
            const context = Object.keys(code.CONTEXT_KINDS).find((c) => code.CONTEXT_KINDS[c] === knd);
            const checked = await code.verifyCode(made, {jwks: v.issuer_jwks, context, now: g.step * 30 + 5});
            out.push({made, ok: checked.ok, error: checked.error});
        }
        return out;
    }""", VECTORS)
    assert {v["exact"] for v in VECTORS["generation"]} == {True, False}
    for vector, result in zip(VECTORS["generation"], results, strict=True):
        assert result["ok"], (vector["name"], result)
        if vector["exact"]:
            assert result["made"] == vector["code"], vector["name"]
        else:  # randomised ECDSA: different bytes, same credential and step
            assert result["made"][:-103] == vector["code"][:-103]
            assert python_verdict(result["made"], "bus", vector["step"] * 30, _vector_keys()) == "ok"


def _vector_keys():
    return {k["kid"]: DeviceKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": k["x"]}).public_key
            for k in VECTORS["issuer_jwks"]["keys"]}


def test_base45_and_the_packer_in_chromium(module_page):
    credential = VECTORS["generation"][0]["credential"]
    outcome = module_page.evaluate("""async (jws) => {
        const enc = (s) => code.base45Encode(new TextEncoder().encode(s));
        const dec = (s) => new TextDecoder().decode(code.base45Decode(s));
        const refusal = (f) => {
            try { f(); return 'accepted'; } catch (e) { return e instanceof code.CodeError ? e.code : e.name; }
        };
        const typ = code.b64url(new TextEncoder().encode('{"alg":"EdDSA","kid":"AAAAAAAA","typ":"JWT"}'));
        const [h, p, s] = jws.split('.');
        const payload = JSON.parse(new TextDecoder().decode(code.b64urlDecode(p)));
        const withPayload = (text) => h + '.' + code.b64url(new TextEncoder().encode(text)) + '.' + s;
        const flipLastBits = (t) => t.slice(0, -1) + String.fromCharCode(t.charCodeAt(t.length - 1) + 1);
        return {
            rfc9285: [enc('AB'), enc('Hello!!'), enc('base-45'), dec('QED8WEX0')],
            badBase45: ['GGW', 'A', ':::', 'ab0'].map((t) => refusal(() => code.base45Decode(t))),
            packedLength: code.packCredential(jws).length,
            refused: [
                withPayload(JSON.stringify(payload, null, 1)),            // whitespace
                withPayload(JSON.stringify({sub: payload.sub, ...payload})), // member order
                withPayload(JSON.stringify({...payload, fam: false})),   // fam present but false
                withPayload(JSON.stringify({...payload, sub: flipLastBits(payload.sub)})), // non-canonical base64url
                withPayload(JSON.stringify({...payload, reg: '33042'})),
                withPayload(JSON.stringify({...payload, exp: payload.iat})),
                jws + '.extra', 'not a jws', h + '.' + p,
                typ + '.' + p + '.' + s,
            ].map((t) => refusal(() => code.packCredential(t))),
        };
    }""", credential)
    assert outcome == {
        "rfc9285": ["BB8", "%69 VD92EX0", "UJCLQE7W581", "ietf!"],
        "badBase45": ["code_malformed"] * 4,
        "packedLength": 130,
        "refused": ["code_malformed"] * 10,
    }


# -- across languages -----------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["Ed25519", "P-256"])
def test_a_code_made_in_chromium_verifies_in_python_and_in_chromium(module_page, ring, alg):
    phone = module_page.evaluate("""async (alg) => {
        window.phone = await deviceKey.createDeviceKey({alg});
        const nonce = crypto.getRandomValues(new Uint8Array(32));
        return {alg: phone.alg, publicJwk: phone.publicJwk, extractable: phone.privateKey.extractable,
                nonce: code.b64url(nonce), proof: await deviceKey.signChallenge(phone.privateKey, nonce)};
    }""", alg)
    assert phone["alg"] == alg and phone["extractable"] is False
    assert list(phone["publicJwk"]) == (["kty", "crv", "x"] if alg == "Ed25519" else ["kty", "crv", "x", "y"])
    device_key = DeviceKey.from_jwk(phone["publicJwk"])
    check_proof(device_key, phone["nonce"], phone["proof"])  # the server's activation check

    now = int(time.time())
    claims, credential = issue(ring, phone["publicJwk"], "ss", now)
    made, in_js = module_page.evaluate("""async ([jws, step, jwks, now]) => {
        const made = await code.makeCode(jws, window.phone.privateKey, step);
        return [made, await code.verifyCode(made, {jwks, context: 'bus', now})];
    }""", [credential, step_at(now), ring.jwks(now), now])
    assert len(made) == (300 if alg == "Ed25519" else 302)
    result = verify(made, issuer_keys=ring.public_keys(now), expected_kind="ss", now=now)
    assert result.claims == claims and result.step == step_at(now)
    assert in_js["ok"] and in_js["jws"] == credential and in_js["claims"]["jti"] == claims.jti


@pytest.mark.parametrize("alg", ["Ed25519", "P-256"])
def test_a_code_made_in_python_verifies_in_chromium(module_page, ring, alg):
    now = int(time.time())
    phone = Phone(alg)
    claims, credential = issue(ring, phone.jwk(), "med", now, fam=True)
    made = make_code(credential, step_at(now), phone.sign)
    results = module_page.evaluate("""async ([c, jwks, now, jti]) => {
        const entries = new Set();
        const seen = {has: async (k) => entries.has(k), add: async (k) => { entries.add(k); }};
        const options = {jwks, context: 'hospital', now, seen};
        return [await code.verifyCode(c, options), await code.verifyCode(c, options),
                await code.verifyCode(c, {jwks, context: 'hospital', now, revokedJti: new Set([jti])}),
                await code.verifyCode(c, {jwks, context: 'bus', now}), [...entries]];
    }""", [made, ring.jwks(now), now, claims.jti])
    first, second, revoked, on_a_bus, seen = results
    assert first == {"ok": True, "step": step_at(now), "jws": credential,
                     "claims": {"sub": claims.sub, "jti": claims.jti, "knd": "med", "reg": "310118",
                                "cls": "res", "fam": True, "iat": claims.iat, "exp": claims.exp}}
    assert second == {"ok": False, "error": "code_replayed"}
    assert revoked == {"ok": False, "error": "credential_revoked"}
    assert on_a_bus == {"ok": False, "error": "wrong_kind"}
    assert seen == [f"hospital:{claims.jti}:{step_at(now)}"]
    assert decode_code(made).jws() == credential


def test_a_revocation_list_signed_in_python_verifies_in_chromium(module_page, ring, tmp_path):
    now = int(time.time())
    payload = {"iat": now, "iss": "yima", "jti": ["AQEBAQEBAQE"], "since": 0, "typ": "revocations",
               "version": 3}
    signed = sign_document(ring, payload, now)
    stranger = KeyRing.open(str(tmp_path / "other")).ensure(now)
    head, body, signature = signed.split(".")
    forged_body = sign_document(ring, {**payload, "jti": []}, now).split(".")[1]
    outcome = module_page.evaluate("""async ([docs, jwks]) => Promise.all(docs.map((d) =>
        code.verifyDocument(d, jwks).catch((e) => e instanceof code.CodeError ? e.code : 'threw ' + e))
    )""", [[signed, f"{head}.{forged_body}.{signature}", sign_document(stranger, payload, now),
            "x.y", f"{head}.{body}.", "", f"{head}.bm90IGpzb24.{signature}"], ring.jwks(now)])
    assert outcome == [payload, "bad_signature", "unknown_kid", "code_malformed", "bad_signature",
                       "code_malformed", "bad_signature"]


# -- the device key and its storage ---------------------------------------------------------------

@pytest.mark.parametrize("alg", ["Ed25519", "P-256"])
def test_the_device_key_is_non_extractable_and_survives_a_reload(module_page, alg):
    made = module_page.evaluate("async (alg) => (await deviceKey.createDeviceKey({alg})).publicJwk", alg)
    module_page.reload()
    outcome = module_page.evaluate("""async () => {
        const dk = await import('/pwa/js/device-key.js');
        const loaded = await dk.loadDeviceKey();
        const refusals = [];
        for (const format of ['pkcs8', 'jwk']) {
            try { await crypto.subtle.exportKey(format, loaded.privateKey); refusals.push('exported'); }
            catch (e) { refusals.push(e.name); }
        }
        const proof = await dk.signChallenge(loaded.privateKey, new Uint8Array(32).buffer);
        await dk.forgetDeviceKey();
        return {alg: loaded.alg, publicJwk: loaded.publicJwk, extractable: loaded.privateKey.extractable,
                usages: loaded.privateKey.usages, refusals, proofLength: proof.length,
                afterForget: await dk.loadDeviceKey()};
    }""")
    assert outcome == {"alg": alg, "publicJwk": made, "extractable": False, "usages": ["sign"],
                       "refusals": ["InvalidAccessError"] * 2, "proofLength": 86, "afterForget": None}


def test_a_browser_without_ed25519_falls_back_to_p256(module_page):
    outcome = module_page.evaluate("""async () => {
        const generateKey = crypto.subtle.generateKey.bind(crypto.subtle);
        crypto.subtle.generateKey = async (algorithm, ...rest) => {
            if (algorithm.name === 'Ed25519') throw new DOMException('Unrecognized name', 'NotSupportedError');
            return generateKey(algorithm, ...rest);
        };
        try {
            const key = await deviceKey.createDeviceKey();
            return {alg: key.alg, kty: key.publicJwk.kty, algorithm: key.privateKey.algorithm,
                    extractable: key.privateKey.extractable, stored: (await deviceKey.loadDeviceKey()).alg};
        } finally {
            crypto.subtle.generateKey = generateKey;
        }
    }""")
    assert outcome == {"alg": "P-256", "kty": "EC", "algorithm": {"name": "ECDSA", "namedCurve": "P-256"},
                       "extractable": False, "stored": "P-256"}


def test_the_database_schema(module_page):
    outcome = module_page.evaluate("""async () => {
        const idb = await import('/pwa/js/idb.js');
        const db = await idb.open();
        const tx = db.transaction([...db.objectStoreNames]);
        const stores = Object.fromEntries([...db.objectStoreNames].map((n) => {
            const s = tx.objectStore(n);
            return [n, {keyPath: s.keyPath, indexes: [...s.indexNames].map((i) => [i, s.index(i).keyPath])}];
        }));
        for (const [key, expires] of [['a', 10], ['b', 20], ['c', 30]]) await idb.put('seen', {key, expires});
        await idb.delBelow('seen', 'expires', 20);
        await idb.del('seen', 'c');
        return {name: db.name, version: db.version, stores, left: (await idb.all('seen')).map((r) => r.key)};
    }""")
    assert outcome == {"name": "yima", "version": 2, "left": ["b"], "stores": {
        "credentials": {"keyPath": "id", "indexes": []}, "keys": {"keyPath": "id", "indexes": []},
        "outbox": {"keyPath": "id", "indexes": []},
        "seen": {"keyPath": "key", "indexes": [["expires", "expires"]]},
        "snapshots": {"keyPath": "name", "indexes": []},  # version 2: screens' last data, offline
        "trust": {"keyPath": "name", "indexes": []}}}


# -- bad input ------------------------------------------------------------------------------------

def test_programming_errors_throw_instead_of_refusing_every_code(module_page):
    vector = VALID[0]
    outcome = module_page.evaluate("""async ([v, t]) => {
        const attempt = (options) => code.verifyCode(t.code, options).then(() => 'answered', (e) => e.name);
        return [
            await attempt({jwks: v.issuer_jwks, context: t.context}),               // no clock
            await attempt({jwks: v.issuer_jwks, context: 'cinema', now: t.now}),
            await attempt({jwks: undefined, context: t.context, now: t.now}),
            await attempt({jwks: v.issuer_jwks, context: t.context, now: t.now, window: -1}),
            await attempt({jwks: v.issuer_jwks, context: t.context, now: t.now, revokedJti: 'AQEBAQEBAQE'}),
            await attempt({jwks: v.issuer_jwks, context: t.context, now: t.now}),
        ];
    }""", [VECTORS, vector])
    assert outcome == ["TypeError"] * 5 + ["answered"]


def test_garbage_and_mutations_are_refused_alike_in_both_languages(module_page):
    """Random text and random changes to valid codes, through the JS verifier in the page (which
    must never throw), then through the Python verifier: both must give the same answer."""
    # Every character Python or JavaScript calls whitespace, and ones one might mistake for it,
    # around a valid code: only the scanner's (spec §3.3) are stripped
    around = [chr(c) for c in range(0x3001) if chr(c).isspace()] + ["\ufeff", "\u200b", "\x00", "\x1b"]
    cases = module_page.evaluate("""async ([v, valid, around]) => {
        const junk = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:#abcé\\u0000\\r\\n\\u3000\\u00a0\\ufeff😀';
        let seed = 7;
        const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
        const cases = [];
        for (let i = 0; i < 600; i++) {
            const t = valid[i % valid.length];
            let text;
            switch (i % 6) {
                case 0: text = Array.from({length: rand(320)}, () => junk[rand(junk.length)]).join(''); break;
                case 1: text = 'YM1' + Array.from({length: 297 + rand(6)}, () => junk[rand(36)]).join(''); break;
                case 2: { const at = rand(t.code.length);  // one character changed
                          text = t.code.slice(0, at) + junk[rand(junk.length)] + t.code.slice(at + 1); break; }
                case 3: case 4: { const bytes = code.base45Decode(t.code.slice(3));  // one bit flipped
                          const bit = i % 6 === 3 ? rand(bytes.length * 8) : rand(34 * 8);
                          bytes[bit >> 3] ^= 1 << (bit & 7);
                          text = 'YM1' + code.base45Encode(bytes); break; }
                default: { const cut = rand(t.code.length);  // cut, spliced or padded
                           text = [t.code.slice(0, cut), t.code.slice(cut) + t.code.slice(0, cut),
                                   junk[rand(junk.length)] + t.code + junk[rand(junk.length)]][rand(3)]; }
            }
            let answer;
            try {
                const r = await code.verifyCode(text, {jwks: v.issuer_jwks, revokedJti: v.revoked_jti,
                                                        context: t.context, now: t.now, window: v.window});
                answer = r.ok ? 'ok' : r.error;
            } catch (e) {
                answer = 'threw ' + e;
            }
            cases.push({text, context: t.context, now: t.now, answer});
        }
        for (const [i, c] of around.entries()) {
            const t = valid[i % valid.length];
            for (const text of [c + t.code, t.code + c]) {
                const r = await code.verifyCode(text, {jwks: v.issuer_jwks, context: t.context, now: t.now});
                cases.push({text, context: t.context, now: t.now, answer: r.ok ? 'ok' : r.error});
            }
        }
        for (const odd of [null, 42, {}, [], undefined, 'YM1']) {
            const r = await code.verifyCode(odd, {jwks: v.issuer_jwks, context: 'bus', now: 1})
                .catch((e) => ({error: 'threw ' + e}));
            cases.push({answer: r.error});
        }
        return cases;
    }""", [VECTORS, VALID, around])
    answers = {case["answer"] for case in cases}
    assert answers <= set(CODES) | {"ok"}, answers
    assert {"code_malformed", "unknown_kid", "bad_signature", "bad_device_signature"} <= answers
    keys = _vector_keys()
    for case in cases[:-6]:
        python = python_verdict(case["text"], case["context"], case["now"], keys)
        assert case["answer"] == python, case
        if case["answer"] == "ok":  # a change that kept the code valid: only whitespace around it
            assert any(case["text"].strip(SCANNER_WHITESPACE) == v["code"] for v in VALID), case
