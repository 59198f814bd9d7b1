// Insurance certificates (参保凭证) in the browser (docs/token-format.md §9): decode the QR text
// YC1…, expand it to the standard JWS and check it with the issuer's JWKS and the revocation list
// through yima-code.js's verifyDocument. Pure module: no DOM, no storage. The Python twin is
// backend/tokens/certificate.py; both pass tests/vectors/certificates.json.

import { CodeError, b64url, base45Decode, stripScannerWhitespace, verifyDocument } from "../yima-code.js";

export const CERTIFICATE_PREFIX = "YC1";
export const NOT_BEFORE_SKEW = 300; // a checker's clock may be five minutes behind the issuer's
const MAX_TEXT = 600;
const FIXED = 43; // flags … name length
const SCHEMES = ["emp", "res"];
const STATUSES = ["active", "suspended"];
const NAME_FORBIDDEN = /[\x00-\x1f\x7f\\]/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();
const DAY_MS = 86400000;

export const CERTIFICATE_ERRORS = Object.freeze(["certificate_malformed", "unknown_kid", "bad_signature",
  "certificate_expired", "certificate_not_yet_valid", "certificate_revoked"]);

const malformed = (detail) => new CodeError("certificate_malformed", detail);
const u16 = (b, o) => (b[o] << 8) | b[o + 1];
const u32 = (b, o) => b[o] * 0x1000000 + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
const dayText = (days) => new Date(days * DAY_MS).toISOString().slice(0, 10);

// The canonical payload (spec §9.2): members in this order, no whitespace; in the name only '"'
// is escaped (a name has no control characters or backslash).
function canonicalPayload(c) {
  return `{"iss":"yima","typ":"cert","jti":"${c.jti}","name":"${c.name.replace(/"/g, '\\"')}",` +
    `"idm":"${c.idm}","reg":"${c.reg}","sch":"${c.sch}","sts":"${c.sts}","since":"${c.since}",` +
    `"from":"${c.pfrom}","to":"${c.pto}","iat":${c.iat},"exp":${c.exp}}`;
}

// What a certificate says before its signature is checked, and the JWS it expands to. Throws
// CodeError("certificate_malformed") for anything that fails check 1.
export function decodeCertificate(text) {
  if (typeof text !== "string" || text.length > MAX_TEXT) throw malformed("not a certificate");
  text = stripScannerWhitespace(text);
  if (!text.startsWith(CERTIFICATE_PREFIX)) throw malformed("a Yima certificate starts with YC1");
  let data;
  try {
    data = base45Decode(text.slice(CERTIFICATE_PREFIX.length));
  } catch (error) {
    throw malformed(String(error));
  }
  if (data.length < FIXED + 1 + 64) throw malformed("too short");
  const flags = data[0], nameLength = data[42];
  if (flags & 0xfc || data.length !== FIXED + nameLength + 64) throw malformed("flags or length");
  let name, visible;
  try {
    name = strictUtf8.decode(data.subarray(FIXED, FIXED + nameLength));
    visible = String.fromCharCode(...data.subarray(32, 42));
  } catch (error) {
    throw malformed("the name is not UTF-8");
  }
  const chars = [...name].length;
  if (chars < 1 || chars > 64 || NAME_FORBIDDEN.test(name)) throw malformed("name");
  if (!/^\d{9}[0-9X]$/.test(visible)) throw malformed("masked ID");
  const since = u16(data, 18), pfrom = u16(data, 20), pto = u16(data, 22);
  const iat = u32(data, 24), exp = u32(data, 28);
  if (!(since <= pfrom && pfrom <= pto)) throw malformed("need since <= from <= to");
  if (!(iat > 0 && iat < exp)) throw malformed("need 0 < iat < exp");
  const claims = {
    jti: b64url(data.subarray(7, 15)), name, idm: visible.slice(0, 6) + "********" + visible.slice(6),
    reg: String((data[15] << 16) + (data[16] << 8) + data[17]).padStart(6, "0"),
    sch: SCHEMES[flags & 1], sts: STATUSES[(flags & 2) >> 1],
    since: dayText(since), pfrom: dayText(pfrom), pto: dayText(pto), iat, exp,
  };
  if (Number(claims.reg) > 999999) throw malformed("region");
  const kid = b64url(data.subarray(1, 7));
  const signingInput = b64url(utf8.encode(`{"alg":"EdDSA","kid":"${kid}"}`)) + "." +
    b64url(utf8.encode(canonicalPayload(claims)));
  return { kid, unverifiedClaims: claims, jws: signingInput + "." + b64url(data.subarray(data.length - 64)) };
}

// The checks of spec §9.4 in order. Answers {ok: true, claims, kid, jws} or {ok: false, error},
// never throws for any text. `revokedJti`: an array or a Set; `now`: unix seconds.
export async function verifyCertificate(text, { jwks, revokedJti = [], now }) {
  if (!jwks || !Array.isArray(jwks.keys)) throw new TypeError("verifyCertificate: jwks must be {keys: [...]}");
  if (!Number.isFinite(now)) throw new TypeError("verifyCertificate: now (unix seconds) is required");
  const refuse = (error) => ({ ok: false, error });
  let decoded;
  try {
    decoded = decodeCertificate(text); // 1
  } catch (error) {
    return refuse("certificate_malformed");
  }
  try {
    await verifyDocument(decoded.jws, jwks); // 2 unknown_kid, 3 bad_signature
  } catch (error) {
    const code = error instanceof CodeError ? error.code : "";
    return refuse(code === "unknown_kid" || code === "bad_signature" ? code : "certificate_malformed");
  }
  const claims = decoded.unverifiedClaims; // verified from here on
  if (now >= claims.exp) return refuse("certificate_expired"); // 4
  if (now < claims.iat - NOT_BEFORE_SKEW) return refuse("certificate_not_yet_valid");
  const revoked = typeof revokedJti.has === "function" ? revokedJti.has(claims.jti) : revokedJti.includes(claims.jti);
  if (revoked) return refuse("certificate_revoked"); // 5
  return { ok: true, claims, kid: decoded.kid, jws: decoded.jws };
}
