// The Yima code format in the browser (docs/token-format.md): make codes on the phone, offline,
// from a stored credential and the phone's non-extractable key; verify codes on a validator
// against a cached JWKS and revocation list; check issuer-signed documents (the revocation list).
// Pure module: no DOM, no storage. The Python twin is backend/tokens/; both pass
// tests/vectors/codes.json.

export const PREFIX = "YM1";
export const STEP_SECONDS = 30;
export const CONTEXT_KINDS = Object.freeze({ hospital: "med", bus: "ss" });
const KINDS = ["med", "ss"];
const CLASSES = ["emp", "res"];
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const CODE_LABEL = new TextEncoder().encode("YIMA-CODE-1");
const MAX_TEXT = 400; // a code is 300 or 302 characters; anything much longer is not one
const FLAG_SS = 1, FLAG_RES = 2, FLAG_P256 = 4, FLAG_FAM = 8;
const ED25519 = Object.freeze({ name: "Ed25519" });
const ECDSA_SHA256 = Object.freeze({ name: "ECDSA", hash: "SHA-256" });

export class CodeError extends Error {
  constructor(code, detail) {
    super(detail || code);
    this.name = "CodeError";
    this.code = code;
  }
}
const malformed = (detail) => new CodeError("code_malformed", detail);

// -- encodings ------------------------------------------------------------------------------

// Character code -> value, -1 outside the alphabet (a table: decoding runs on every scan).
const lookupTable = (alphabet) => {
  const table = new Int8Array(128).fill(-1);
  [...alphabet].forEach((c, i) => { table[c.charCodeAt(0)] = i; });
  return table;
};
const BASE45_VALUE = lookupTable(ALPHABET);

// RFC 9285.
export function base45Encode(bytes) {
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const n = bytes[i] * 256 + bytes[i + 1];
    out += ALPHABET[n % 45] + ALPHABET[Math.floor(n / 45) % 45] + ALPHABET[Math.floor(n / 2025)];
  }
  if (bytes.length % 2) {
    const n = bytes[bytes.length - 1];
    out += ALPHABET[n % 45] + ALPHABET[Math.floor(n / 45)];
  }
  return out;
}

// RFC 9285. Throws CodeError("code_malformed") for anything that is not canonical base45.
export function base45Decode(text) {
  if (typeof text !== "string" || text.length % 3 === 1) throw malformed("base45 text of an impossible length");
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 ? 1 : 0));
  const digit = (i) => {
    const c = text.charCodeAt(i);
    const v = c < 128 ? BASE45_VALUE[c] : -1;
    if (v < 0) throw malformed("a character outside the base45 alphabet");
    return v;
  };
  let o = 0;
  for (let i = 0; i < text.length; i += 3) {
    if (i + 2 < text.length) {
      const n = digit(i) + digit(i + 1) * 45 + digit(i + 2) * 2025;
      if (n > 0xffff) throw malformed("a base45 triplet is out of range");
      out[o++] = n >> 8;
      out[o++] = n & 0xff;
    } else {
      const n = digit(i) + digit(i + 1) * 45;
      if (n > 0xff) throw malformed("a base45 pair is out of range");
      out[o++] = n;
    }
  }
  return out;
}

// RFC 4648 §5, no padding. By table rather than btoa: this runs several times per verification.
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64URL_VALUE = lookupTable(B64URL);

export function b64url(bytes) {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63] + B64URL[n & 63];
  }
  if (bytes.length - i === 1) {
    out += B64URL[bytes[i] >> 2] + B64URL[(bytes[i] & 3) << 4];
  } else if (bytes.length - i === 2) {
    const n = (bytes[i] << 8) | bytes[i + 1];
    out += B64URL[n >> 10] + B64URL[(n >> 4) & 63] + B64URL[(n & 15) << 2];
  }
  return out;
}

// Lenient like Python's base64.urlsafe_b64decode about the unused low bits of the last character;
// the packer re-encodes what it decodes, so a non-canonical credential is refused there.
export function b64urlDecode(text) {
  if (typeof text !== "string" || text.length % 4 === 1) throw malformed("not base64url");
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0, value = 0, o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64URL_VALUE[c] : -1;
    if (v < 0) throw malformed("not base64url");
    value = ((value << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 255;
    }
  }
  return out;
}

const encoder = new TextEncoder();
const utf8 = (s) => encoder.encode(s);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const readU32 = (b, o) => b[o] * 0x1000000 + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
const isU32 = (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32;

// What a decoder strips around a code (spec §3.3), and nothing else: what scanners send before
// or after it — TAB, LF, CR, GS (U+001D) and space. Not String.prototype.trim's set (NBSP, U+2028,
// U+3000, BOM, …). The last character of a code is never the base45 space, so stripping cannot
// eat part of it.
const SURROUNDING_SPACE = /^[\t\n\r\x1d ]+|[\t\n\r\x1d ]+$/g;

// A scanned text without the scanner's whitespace around it (spec §3.3), for callers that keep
// or forward the code (a validator's outbox).
export const stripScannerWhitespace = (text) => text.replace(SURROUNDING_SPACE, "");

export const stepAt = (unixSeconds) => Math.floor(unixSeconds / STEP_SECONDS);

// What the phone signs for one step (spec §3.2): "YIMA-CODE-1" || jti (8) || kind (1) || step (4).
export function deviceMessage(jtiRaw, kind, step) {
  const kindByte = KINDS.indexOf(kind);
  if (jtiRaw.length !== 8 || kindByte < 0 || !isU32(step)) throw new TypeError("deviceMessage: bad arguments");
  return concat(CODE_LABEL, jtiRaw, new Uint8Array([kindByte]), u32(step));
}

// -- P-256 points ---------------------------------------------------------------------------

const P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const toBig = (bytes) => bytes.reduce((n, b) => (n << 8n) + BigInt(b), 0n);
const toBytes32 = (n) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(248 - 8 * i)) & 255n));

function modPow(base, exp, mod) {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

// SEC1 compressed point -> affine x, y. P-256 has p ≡ 3 (mod 4), so a square root of a is
// a^((p+1)/4) when a is a square; when it is not, x is not on the curve.
function decompressP256(point) {
  if (point.length !== 33 || (point[0] !== 2 && point[0] !== 3)) throw malformed("bad P-256 point");
  const x = toBig(point.subarray(1));
  if (x >= P) throw malformed("P-256 x out of range");
  const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
  let y = modPow(rhs, (P + 1n) / 4n, P);
  if ((y * y) % P !== rhs) throw malformed("not a point on P-256");
  if ((y & 1n) !== BigInt(point[0] & 1)) y = P - y;
  return { x: point.slice(1), y: toBytes32(y) };
}

const compressP256 = (x, y) => concat(new Uint8Array([2 + (y[31] & 1)]), x);

// -- Ed25519 points -------------------------------------------------------------------------

// Spec §4 check 1 for an Ed25519 key: the 32 bytes decode to a point as RFC 8032 §5.1.3 decodes
// (y < p, x recoverable, x = 0 not with the sign bit set) and the point is not of small order.
// WebCrypto imports any 32 bytes, and a small-order key would verify forged signatures.
const P25519 = 2n ** 255n - 19n;
const D25519 = 0x52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3n; // −121665/121666
const Y8 = 0x5fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n;
const SMALL_ORDER_Y = new Set([0n, 1n, P25519 - 1n, Y8, P25519 - Y8]);

function checkEd25519Point(raw) {
  if (raw.length !== 32) throw malformed("an Ed25519 key is 32 bytes");
  const xSign = raw[31] >> 7;
  const y = toBig(Uint8Array.from(raw).reverse()) & ((1n << 255n) - 1n); // little-endian
  if (y >= P25519) throw malformed("an Ed25519 key's y is not below p");
  // x² = (y² − 1) / (d·y² + 1) has a root iff (y² − 1)·(d·y² + 1) is a square (d·y² + 1 ≠ 0).
  const uv = (((y * y - 1n) * (D25519 * y * y + 1n)) % P25519 + P25519) % P25519;
  if (uv === 0n && xSign) throw malformed("an Ed25519 key with x = 0 and the sign bit set");
  if (uv !== 0n && modPow(uv, (P25519 - 1n) / 2n, P25519) !== 1n) {
    throw malformed("an Ed25519 key that is not a point on the curve");
  }
  if (SMALL_ORDER_Y.has(y)) throw malformed("an Ed25519 key of small order");
}

// -- canonical credential (spec §2) ---------------------------------------------------------

function deviceJwk(alg, packedKey) {
  if (alg === "Ed25519") {
    checkEd25519Point(packedKey);
    return { kty: "OKP", crv: "Ed25519", x: b64url(packedKey) };
  }
  const { x, y } = decompressP256(packedKey);
  return { kty: "EC", crv: "P-256", x: b64url(x), y: b64url(y) };
}

// Values are base64url, digits or fixed words: nothing to escape.
const jwkJson = (jwk) => "{" + Object.entries(jwk).map(([k, v]) => `"${k}":"${v}"`).join(",") + "}";

function canonicalPayload(c) {
  const parts = ['"iss":"yima"', `"sub":"${c.sub}"`, `"jti":"${c.jti}"`, `"knd":"${c.knd}"`,
    `"reg":"${c.reg}"`, `"cls":"${c.cls}"`];
  if (c.fam) parts.push('"fam":true');
  parts.push(`"iat":${c.iat}`, `"exp":${c.exp}`, `"cnf":{"jwk":${jwkJson(c.jwk)}}`);
  return "{" + parts.join(",") + "}";
}

const canonicalHeader = (kid) => `{"alg":"EdDSA","kid":"${kid}"}`;

function checkClaims(c) {
  const ok = KINDS.includes(c.knd) && CLASSES.includes(c.cls) && typeof c.reg === "string" &&
    /^\d{6}$/.test(c.reg) && isU32(c.iat) && isU32(c.exp) && c.iat > 0 && c.iat < c.exp;
  if (!ok) throw malformed("claims out of range");
}

function packedDeviceKey(jwk) {
  if (jwk && jwk.kty === "OKP" && jwk.crv === "Ed25519") {
    const raw = b64urlDecode(jwk.x);
    checkEd25519Point(raw);
    return { alg: "Ed25519", packed: raw };
  }
  if (jwk && jwk.kty === "EC" && jwk.crv === "P-256") {
    const x = b64urlDecode(jwk.x), y = b64urlDecode(jwk.y);
    if (x.length !== 32 || y.length !== 32) throw malformed("P-256 coordinates are 32 bytes");
    return { alg: "P-256", packed: compressP256(x, y) };
  }
  throw malformed("the device key is neither Ed25519 nor P-256");
}

function parseCredential(jws) {
  const parts = typeof jws === "string" ? jws.split(".") : [];
  if (parts.length !== 3) throw malformed("a credential is a compact JWS");
  const headerText = strictUtf8.decode(b64urlDecode(parts[0]));
  const payloadText = strictUtf8.decode(b64urlDecode(parts[1]));
  const header = JSON.parse(headerText);
  const body = JSON.parse(payloadText);
  const kidRaw = b64urlDecode(header.kid);
  const subRaw = b64urlDecode(body.sub), jtiRaw = b64urlDecode(body.jti);
  const signature = b64urlDecode(parts[2]);
  const device = packedDeviceKey(body.cnf && body.cnf.jwk);
  if (kidRaw.length !== 6 || subRaw.length !== 8 || jtiRaw.length !== 8 || signature.length !== 64) {
    throw malformed("kid, sub, jti or signature has the wrong length");
  }
  // Re-serialise from the fields as they will be packed (raw bytes re-encoded, the P-256 point
  // recomputed from its compressed form) and demand the very bytes that were signed: a
  // credential that would not expand back to itself is refused here rather than at a verifier.
  const claims = { sub: b64url(subRaw), jti: b64url(jtiRaw), knd: body.knd, reg: body.reg,
    cls: body.cls, fam: body.fam === true, iat: body.iat, exp: body.exp,
    jwk: deviceJwk(device.alg, device.packed) };
  checkClaims(claims);
  if (headerText !== canonicalHeader(b64url(kidRaw)) || payloadText !== canonicalPayload(claims)) {
    throw malformed("the credential is not in the canonical form of the spec");
  }
  return { claims, kidRaw, subRaw, jtiRaw, signature, device };
}

// The binary form of a credential, flags through issuer signature (spec §3.1). Throws
// CodeError("code_malformed") unless the credential is in the canonical form of spec §2.
export function packCredential(jws) {
  let c;
  try {
    c = parseCredential(jws);
  } catch (error) {
    throw error instanceof CodeError ? error : malformed(String(error));
  }
  const { claims } = c;
  const flags = (claims.knd === "ss" ? FLAG_SS : 0) | (claims.cls === "res" ? FLAG_RES : 0) |
    (c.device.alg === "P-256" ? FLAG_P256 : 0) | (claims.fam ? FLAG_FAM : 0);
  const reg = Number(claims.reg);
  return concat(new Uint8Array([flags]), c.kidRaw, c.subRaw, c.jtiRaw,
    new Uint8Array([reg >> 16, (reg >> 8) & 255, reg & 255]), u32(claims.iat), u32(claims.exp),
    c.device.packed, c.signature);
}

function signingAlgorithm(key) {
  if (key.algorithm.name === "Ed25519") return { alg: "Ed25519", params: ED25519 };
  if (key.algorithm.name === "ECDSA" && key.algorithm.namedCurve === "P-256") {
    return { alg: "P-256", params: ECDSA_SHA256 };
  }
  throw new TypeError(`a device key is Ed25519 or ECDSA P-256, not ${key.algorithm.name}`);
}

let lastPacked = { jws: null, packed: null }; // the phone packs the same credential every 30 s

// The code for `step`, signed by the phone's key (an Ed25519 or ECDSA P-256 CryptoKey whose
// public half is the credential's cnf.jwk). WebCrypto's ECDSA signature is already raw r || s.
export async function makeCode(credentialJws, privateKey, step) {
  if (!isU32(step)) throw new TypeError("step must be an integer in 0 … 2^32-1");
  const packed = lastPacked.jws === credentialJws ? lastPacked.packed : packCredential(credentialJws);
  lastPacked = { jws: credentialJws, packed };
  const { alg, params } = signingAlgorithm(privateKey);
  if ((alg === "P-256") !== Boolean(packed[0] & FLAG_P256)) {
    throw new TypeError(`the credential binds a different kind of device key than ${alg}`);
  }
  const message = deviceMessage(packed.subarray(15, 23), KINDS[packed[0] & FLAG_SS], step);
  const signature = new Uint8Array(await crypto.subtle.sign(params, privateKey, message));
  return PREFIX + base45Encode(concat(packed, u32(step), signature));
}

// -- decoding -------------------------------------------------------------------------------

// The binary form of a code text, with everything of check 1 but the device key's point and the
// claims' ranges checked (deviceKey and expand do those).
function parseCode(text) {
  if (typeof text !== "string" || text.length > MAX_TEXT) throw malformed("not a code");
  text = text.replace(SURROUNDING_SPACE, "");
  if (!text.startsWith(PREFIX)) throw malformed("a Yima code starts with YM1");
  const data = base45Decode(text.slice(PREFIX.length));
  if ((data.length !== 198 && data.length !== 199) || data[0] & 0xf0) throw malformed("bad length or flags");
  const alg = data[0] & FLAG_P256 ? "P-256" : "Ed25519";
  const keyEnd = 34 + (alg === "P-256" ? 33 : 32);
  if (data.length !== keyEnd + 132) throw malformed("length does not match the device key type");
  return { data, alg, keyEnd, packedKey: data.slice(34, keyEnd) };
}

// The fields of a parsed code and the standard JWS it expands to (spec §3.4), given the device
// key's JWK (the P-256 point decompressed).
function expand({ data, alg, keyEnd, packedKey }, jwk) {
  const flags = data[0];
  const unverifiedClaims = {
    sub: b64url(data.subarray(7, 15)), jti: b64url(data.subarray(15, 23)), knd: KINDS[flags & FLAG_SS],
    reg: String((data[23] << 16) + (data[24] << 8) + data[25]).padStart(6, "0"),
    cls: CLASSES[(flags & FLAG_RES) >> 1], fam: Boolean(flags & FLAG_FAM),
    iat: readU32(data, 26), exp: readU32(data, 30), jwk,
  };
  checkClaims(unverifiedClaims);
  const kid = b64url(data.subarray(1, 7));
  const payload = canonicalPayload(unverifiedClaims);
  const signingInput = b64url(utf8(canonicalHeader(kid))) + "." + b64url(utf8(payload));
  const issuerSignature = data.slice(keyEnd, keyEnd + 64);
  return {
    kid, alg, unverifiedClaims, signingInput, issuerSignature, packedKey,
    jtiRaw: data.slice(15, 23), step: readU32(data, keyEnd + 64),
    deviceSignature: data.slice(keyEnd + 68), jws: signingInput + "." + b64url(issuerSignature),
  };
}

// What a code says, before any signature is checked. Throws CodeError("code_malformed").
export function decodeCode(text) {
  const parsed = parseCode(text);
  return expand(parsed, deviceJwk(parsed.alg, parsed.packedKey));
}

// -- verification ---------------------------------------------------------------------------

// Promises of imported keys, bounded so that a stream of fresh phones cannot grow it without
// end: issuer keys by their bytes (imported once per JWKS entry), device keys by their packed
// bytes (once per phone), each device key with its JWK.
const keyCache = new Map();
const KEY_CACHE_MAX = 1024;

function cached(cacheKey, load) {
  let entry = keyCache.get(cacheKey);
  if (!entry) {
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value);
    entry = load();
    keyCache.set(cacheKey, entry);
    entry.catch(() => keyCache.delete(cacheKey));
  }
  return entry;
}

// The issuer's public key for `kid` from a JWKS, or null when the kid is not there.
function issuerKey(jwks, kid) {
  const entry = jwks.keys.find((k) => k && k.kid === kid && k.kty === "OKP" && k.crv === "Ed25519");
  if (!entry) return null;
  return cached(`iss:${entry.x}`, () => crypto.subtle.importKey(
    "jwk", { kty: "OKP", crv: "Ed25519", x: entry.x }, ED25519, false, ["verify"]))
    .catch(() => null); // an entry that cannot be imported is no key at all
}

const P256 = Object.freeze({ name: "ECDSA", namedCurve: "P-256" });

// {jwk, key} for a code's device key. A P-256 point is decompressed by WebCrypto (importing the
// compressed point and exporting it whole: the import is needed anyway, and it is several times
// faster than BigInt); where the browser cannot import compressed points, by decompressP256.
// Rejects with code_malformed when the key is not a valid point (spec §4 check 1).
function deviceKey(alg, packed) {
  return cached(`dev:${alg}:${b64url(packed)}`, async () => {
    if (alg === "Ed25519") {
      const jwk = deviceJwk(alg, packed); // throws code_malformed unless a valid point
      const key = crypto.subtle.importKey("raw", packed, ED25519, false, ["verify"]);
      key.catch(() => {}); // awaited at check 6 only; a key that does not load verifies nothing
      return { jwk, key };
    }
    try {
      const key = await crypto.subtle.importKey("raw", packed, P256, true, ["verify"]);
      const point = new Uint8Array(await crypto.subtle.exportKey("raw", key));
      const jwk = { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) };
      return { jwk, key };
    } catch (error) {
      const jwk = deviceJwk(alg, packed); // throws code_malformed for a point off the curve
      return { jwk, key: await crypto.subtle.importKey("jwk", jwk, P256, false, ["verify"]) };
    }
  });
}

async function deviceSignatureOk(keyPromise, decoded, message) {
  let key;
  try {
    key = await keyPromise;
  } catch (error) {
    return false; // as the Python verifier: a key that does not load verifies nothing
  }
  const params = decoded.alg === "P-256" ? ECDSA_SHA256 : ED25519;
  return crypto.subtle.verify(params, key, decoded.deviceSignature, message);
}

const NO_REVOCATIONS = Object.freeze([]);
const revokedSets = new WeakMap(); // array -> Set, so a long revocation list is not rebuilt per code

function revocationCheck(revokedJti) {
  if (typeof revokedJti.has === "function") return (jti) => revokedJti.has(jti);
  let set = revokedSets.get(revokedJti);
  if (!set) revokedSets.set(revokedJti, (set = new Set(revokedJti)));
  return (jti) => set.has(jti);
}

function checkOptions({ jwks, revokedJti, context, now, window }) {
  if (!jwks || !Array.isArray(jwks.keys)) throw new TypeError("verifyCode: jwks must be {keys: [...]}");
  if (!revokedJti || (typeof revokedJti.has !== "function" && !Array.isArray(revokedJti))) {
    throw new TypeError("verifyCode: revokedJti must be a Set or an array");
  }
  if (!Object.prototype.hasOwnProperty.call(CONTEXT_KINDS, context)) {
    throw new TypeError(`verifyCode: unknown context ${context}`);
  }
  if (!Number.isFinite(now)) throw new TypeError("verifyCode: now (unix seconds) is required");
  if (!Number.isInteger(window) || window < 0) throw new TypeError("verifyCode: window is an integer ≥ 0");
}

// Checks a code in the order of spec §4; the first failing check gives the error. For any `text`
// it answers {ok: true, claims, step, jws} or {ok: false, error: "<stable code>"}, never throws.
// Throws TypeError for bad options (a programming error, not a bad code), and passes on errors
// of `seen` (a failing seen-set is not the code's fault; refuse the ride and say so).
// `seen`: an offline seen-set with has(key) and add(key), sync or async; key is context:jti:step.
export async function verifyCode(text, options = {}) {
  const { jwks, revokedJti = NO_REVOCATIONS, context, now, window = 1, seen } = options;
  checkOptions({ jwks, revokedJti, context, now, window });
  const isRevoked = revocationCheck(revokedJti);
  const result = await checkCode(text, { jwks, isRevoked, context, now, window });
  if (!result.ok || !seen) return result;
  const seenKey = `${context}:${result.claims.jti}:${result.step}`; // 9, offline
  if (await seen.has(seenKey)) return { ok: false, error: "code_replayed" };
  await seen.add(seenKey);
  return result;
}

async function checkCode(text, { jwks, isRevoked, context, now, window }) {
  const refuse = (error) => ({ ok: false, error });
  try {
    const parsed = parseCode(text); // 1
    const device = await deviceKey(parsed.alg, parsed.packedKey); // 1: the point
    const decoded = expand(parsed, device.jwk);
    const key = await issuerKey(jwks, decoded.kid);
    if (!key) return refuse("unknown_kid"); // 2
    const signingInput = utf8(decoded.signingInput);
    if (!(await crypto.subtle.verify(ED25519, key, decoded.issuerSignature, signingInput))) {
      return refuse("bad_signature"); // 3
    }
    const { jwk, ...claims } = decoded.unverifiedClaims; // verified from here on
    if (now >= claims.exp) return refuse("credential_expired"); // 4
    if (now < claims.iat - window * STEP_SECONDS) return refuse("credential_not_yet_valid");
    if (claims.knd !== CONTEXT_KINDS[context]) return refuse("wrong_kind"); // 5
    const message = deviceMessage(decoded.jtiRaw, claims.knd, decoded.step);
    if (!(await deviceSignatureOk(device.key, decoded, message))) {
      return refuse("bad_device_signature"); // 6
    }
    const offset = decoded.step - stepAt(now); // 7
    if (offset < -window) return refuse("code_expired");
    if (offset > window) return refuse("code_not_yet_valid");
    if (isRevoked(claims.jti)) return refuse("credential_revoked"); // 8
    return { ok: true, claims, step: decoded.step, jws: decoded.jws };
  } catch (error) {
    return refuse(error instanceof CodeError ? error.code : "code_malformed");
  }
}

// An issuer-signed JSON document (spec §7, the revocation list): a compact JWS with header
// {"alg":"EdDSA","kid":…}. Returns the payload, or throws CodeError with code unknown_kid,
// bad_signature or code_malformed.
export async function verifyDocument(jws, jwks) {
  if (!jwks || !Array.isArray(jwks.keys)) throw new TypeError("verifyDocument: jwks must be {keys: [...]}");
  let parts, header, payloadText, signature;
  try {
    parts = typeof jws === "string" ? jws.split(".") : [];
    if (parts.length !== 3) throw malformed("not a compact JWS");
    header = JSON.parse(strictUtf8.decode(b64urlDecode(parts[0])));
    payloadText = strictUtf8.decode(b64urlDecode(parts[1]));
    signature = b64urlDecode(parts[2]);
    if (!header || header.alg !== "EdDSA" || typeof header.kid !== "string") {
      throw malformed("not an EdDSA JWS with a kid");
    }
    if (header.crit !== undefined) throw malformed("no critical header extensions are understood");
  } catch (error) {
    throw error instanceof CodeError ? error : malformed(String(error));
  }
  const key = await issuerKey(jwks, header.kid);
  if (!key) throw new CodeError("unknown_kid");
  const signingInput = utf8(parts[0] + "." + parts[1]);
  if (signature.length !== 64 || !(await crypto.subtle.verify(ED25519, key, signature, signingInput))) {
    throw new CodeError("bad_signature");
  }
  try {
    return JSON.parse(payloadText);
  } catch (error) {
    throw malformed("the signed payload is not JSON");
  }
}
