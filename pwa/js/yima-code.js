// The Yima code format in the browser (docs/token-format.md): make codes on the phone, offline,
// from a stored credential and the phone's non-extractable key; verify codes on a validator
// against a cached JWKS and revocation list. Pure module: no DOM, no storage.

export const PREFIX = "YM1";
export const STEP_SECONDS = 30;
export const CONTEXT_KINDS = { hospital: "med", bus: "ss" };
const KINDS = ["med", "ss"];
const CLASSES = ["emp", "res"];
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const CODE_LABEL = new TextEncoder().encode("YIMA-CODE-1");
const MAX_TEXT = 400;

export class CodeError extends Error {
  constructor(code, detail) {
    super(detail || code);
    this.code = code;
  }
}
const malformed = (detail) => new CodeError("code_malformed", detail);

// -- encodings ------------------------------------------------------------------------------

const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

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

export function base45Decode(text) {
  if (text.length % 3 === 1) throw malformed("base45 text has an impossible length");
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 ? 1 : 0));
  let o = 0;
  for (let i = 0; i < text.length; i += 3) {
    const digits = [];
    for (const c of text.slice(i, i + 3)) {
      const v = VALUE.get(c);
      if (v === undefined) throw malformed("a character outside the base45 alphabet");
      digits.push(v);
    }
    if (digits.length === 3) {
      const n = digits[0] + digits[1] * 45 + digits[2] * 2025;
      if (n > 0xffff) throw malformed("a base45 triplet is out of range");
      out[o++] = n >> 8;
      out[o++] = n & 0xff;
    } else {
      const n = digits[0] + digits[1] * 45;
      if (n > 0xff) throw malformed("a base45 pair is out of range");
      out[o++] = n;
    }
  }
  return out;
}

export function b64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw malformed("not base64url");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const ascii = (s) => new TextEncoder().encode(s);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const readU32 = (b, o) => ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
const equalBytes = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

export const stepAt = (unixSeconds) => Math.floor(unixSeconds / STEP_SECONDS);

export function deviceMessage(jtiRaw, kind, step) {
  return concat(CODE_LABEL, jtiRaw, new Uint8Array([KINDS.indexOf(kind)]), u32(step));
}

// -- P-256 points ---------------------------------------------------------------------------

const P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const toBig = (bytes) => bytes.reduce((n, b) => (n << 8n) + BigInt(b), 0n);
const toBytes32 = (n) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * (31 - i))) & 255n));

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

function decompressP256(point) {
  if (point.length !== 33 || (point[0] !== 2 && point[0] !== 3)) throw malformed("bad P-256 point");
  const x = toBig(point.slice(1));
  if (x >= P) throw malformed("P-256 x out of range");
  const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
  let y = modPow(rhs, (P + 1n) / 4n, P);
  if ((y * y) % P !== rhs) throw malformed("not a point on P-256");
  if ((y & 1n) !== BigInt(point[0] & 1)) y = P - y;
  return { x: point.slice(1), y: toBytes32(y) };
}

function compressP256(x, y) {
  return concat(new Uint8Array([2 + (y[31] & 1)]), x);
}

// -- canonical credential (spec §2) ---------------------------------------------------------

function deviceJwk(alg, packed) {
  if (alg === "Ed25519") return { kty: "OKP", crv: "Ed25519", x: b64url(packed) };
  const { x, y } = decompressP256(packed);
  return { kty: "EC", crv: "P-256", x: b64url(x), y: b64url(y) };
}

const jwkJson = (jwk) => "{" + Object.entries(jwk).map(([k, v]) => `"${k}":"${v}"`).join(",") + "}";

export function canonicalPayload(c) {
  const parts = ['"iss":"yima"', `"sub":"${c.sub}"`, `"jti":"${c.jti}"`, `"knd":"${c.knd}"`,
    `"reg":"${c.reg}"`, `"cls":"${c.cls}"`];
  if (c.fam) parts.push('"fam":true');
  parts.push(`"iat":${c.iat}`, `"exp":${c.exp}`, `"cnf":{"jwk":${jwkJson(c.jwk)}}`);
  return "{" + parts.join(",") + "}";
}

const canonicalHeader = (kid) => `{"alg":"EdDSA","kid":"${kid}"}`;

function checkClaims(c) {
  const ok = b64urlDecode(c.sub).length === 8 && b64urlDecode(c.jti).length === 8 &&
    KINDS.includes(c.knd) && CLASSES.includes(c.cls) && /^\d{6}$/.test(c.reg) &&
    Number.isInteger(c.iat) && Number.isInteger(c.exp) && c.iat > 0 && c.iat < c.exp && c.exp < 2 ** 32;
  if (!ok) throw malformed("claims out of range");
}

// Packs a credential (a compact JWS from the server) into the binary prefix of a code.
export function packCredential(jws) {
  let header, body, signature, kidRaw, packedKey, alg;
  try {
    const [h, p, s] = jws.split(".");
    header = new TextDecoder().decode(b64urlDecode(h));
    const payloadText = new TextDecoder().decode(b64urlDecode(p));
    body = JSON.parse(payloadText);
    signature = b64urlDecode(s);
    const kid = JSON.parse(header).kid;
    kidRaw = b64urlDecode(kid);
    const jwk = body.cnf.jwk;
    if (jwk.kty === "OKP" && jwk.crv === "Ed25519") {
      alg = "Ed25519";
      packedKey = b64urlDecode(jwk.x);
      if (packedKey.length !== 32) throw malformed("Ed25519 key is 32 bytes");
    } else if (jwk.kty === "EC" && jwk.crv === "P-256") {
      alg = "P-256";
      packedKey = compressP256(b64urlDecode(jwk.x), b64urlDecode(jwk.y));
    } else {
      throw malformed("unknown device key");
    }
    const claims = { ...body, fam: body.fam === true, jwk: deviceJwk(alg, packedKey) };
    checkClaims(claims);
    if (header !== canonicalHeader(kid) || payloadText !== canonicalPayload(claims) ||
        kidRaw.length !== 6 || signature.length !== 64) {
      throw malformed("not in canonical form");
    }
  } catch (error) {
    throw error instanceof CodeError ? error : malformed(String(error));
  }
  const flags = (body.knd === "ss" ? 1 : 0) | (body.cls === "res" ? 2 : 0) |
    (alg === "P-256" ? 4 : 0) | (body.fam === true ? 8 : 0);
  const reg = Number(body.reg);
  return concat(new Uint8Array([flags]), kidRaw, b64urlDecode(body.sub), b64urlDecode(body.jti),
    new Uint8Array([reg >> 16, (reg >> 8) & 255, reg & 255]), u32(body.iat), u32(body.exp),
    packedKey, signature);
}

async function signWith(privateKey, message) {
  const algorithm = privateKey.algorithm.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : { name: "Ed25519" };
  return new Uint8Array(await crypto.subtle.sign(algorithm, privateKey, message));
}

// The code for `step`, signed by the phone's key (Ed25519 or ECDSA P-256 CryptoKey).
export async function makeCode(credentialJws, privateKey, step) {
  const packed = packCredential(credentialJws);
  const kind = KINDS[packed[0] & 1];
  const signature = await signWith(privateKey, deviceMessage(packed.slice(15, 23), kind, step));
  return PREFIX + base45Encode(concat(packed, u32(step), signature));
}

// -- decoding -------------------------------------------------------------------------------

export function decodeCode(text) {
  if (typeof text !== "string" || text.length > MAX_TEXT) throw malformed("not a code");
  text = text.trim();
  if (!text.startsWith(PREFIX)) throw malformed("a Yima code starts with YM1");
  const data = base45Decode(text.slice(PREFIX.length));
  if ((data.length !== 198 && data.length !== 199) || data[0] & 0xf0) throw malformed("wrong length or flags");
  const flags = data[0];
  const alg = flags & 4 ? "P-256" : "Ed25519";
  const keyEnd = 34 + (alg === "P-256" ? 33 : 32);
  if (data.length !== keyEnd + 132) throw malformed("length does not match the device key type");
  const packedKey = data.slice(34, keyEnd);
  const claims = {
    sub: b64url(data.slice(7, 15)), jti: b64url(data.slice(15, 23)), knd: KINDS[flags & 1],
    reg: String((data[23] << 16) + (data[24] << 8) + data[25]).padStart(6, "0"),
    cls: CLASSES[(flags >> 1) & 1], fam: Boolean(flags & 8),
    iat: readU32(data, 26), exp: readU32(data, 30), jwk: deviceJwk(alg, packedKey),
  };
  checkClaims(claims);
  const kid = b64url(data.slice(1, 7));
  const signingInput = b64url(ascii(canonicalHeader(kid))) + "." + b64url(ascii(canonicalPayload(claims)));
  const issuerSignature = data.slice(keyEnd, keyEnd + 64);
  return {
    kid, alg, claims, signingInput, issuerSignature, packedKey,
    jtiRaw: data.slice(15, 23), step: readU32(data, keyEnd + 64),
    deviceSignature: data.slice(keyEnd + 68), jws: signingInput + "." + b64url(issuerSignature),
  };
}

// -- verification ---------------------------------------------------------------------------

const keyCache = new Map();

async function importCached(cacheKey, jwk, algorithm) {
  let key = keyCache.get(cacheKey);
  if (!key) {
    if (keyCache.size > 512) keyCache.clear();
    key = crypto.subtle.importKey("jwk", jwk, algorithm, false, ["verify"]);
    keyCache.set(cacheKey, key);
  }
  try {
    return await key;
  } catch (error) {
    keyCache.delete(cacheKey);
    throw malformed("key cannot be imported");
  }
}

function issuerKey(jwks, kid) {
  const entry = (jwks.keys || []).find((k) => k.kid === kid && k.kty === "OKP" && k.crv === "Ed25519");
  if (!entry) return null;
  return importCached("iss:" + kid + ":" + entry.x, { kty: "OKP", crv: "Ed25519", x: entry.x }, { name: "Ed25519" });
}

async function deviceVerify(decoded, message) {
  const { alg, claims } = decoded;
  const algorithm = alg === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", namedCurve: "P-256" };
  const key = await importCached("dev:" + b64url(decoded.packedKey), claims.jwk, algorithm);
  const params = alg === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", hash: "SHA-256" };
  return crypto.subtle.verify(params, key, decoded.deviceSignature, message);
}

// Checks a code in the order of spec §4. Never throws: {ok: true, claims, step} or {ok: false, error}.
export async function verifyCode(text, { jwks, revokedJti = [], context, now, window = 1, seen } = {}) {
  try {
    const decoded = decodeCode(text); // 1
    const key = await issuerKey(jwks, decoded.kid);
    if (!key) return { ok: false, error: "unknown_kid" }; // 2
    const issuerOk = await crypto.subtle.verify({ name: "Ed25519" }, key, decoded.issuerSignature,
      ascii(decoded.signingInput));
    if (!issuerOk) return { ok: false, error: "bad_signature" }; // 3
    const c = decoded.claims;
    if (now >= c.exp) return { ok: false, error: "credential_expired" }; // 4
    if (now < c.iat - window * STEP_SECONDS) return { ok: false, error: "credential_not_yet_valid" };
    if (c.knd !== CONTEXT_KINDS[context]) return { ok: false, error: "wrong_kind" }; // 5
    const message = deviceMessage(decoded.jtiRaw, c.knd, decoded.step);
    if (!(await deviceVerify(decoded, message))) return { ok: false, error: "bad_device_signature" }; // 6
    const offset = decoded.step - stepAt(now); // 7
    if (offset < -window) return { ok: false, error: "code_expired" };
    if (offset > window) return { ok: false, error: "code_not_yet_valid" };
    const revoked = revokedJti instanceof Set ? revokedJti : new Set(revokedJti);
    if (revoked.has(c.jti)) return { ok: false, error: "credential_revoked" }; // 8
    if (seen) { // 9, offline: the validator's own seen-set
      const seenKey = `${context}:${c.jti}:${decoded.step}`;
      if (await seen.has(seenKey)) return { ok: false, error: "code_replayed" };
      await seen.add(seenKey);
    }
    const { jwk, ...claims } = c;
    return { ok: true, claims, step: decoded.step, jws: decoded.jws };
  } catch (error) {
    return { ok: false, error: error instanceof CodeError ? error.code : "code_malformed" };
  }
}

// An issuer-signed JSON document (the revocation list). Throws CodeError when it does not verify.
export async function verifyDocument(jws, jwks) {
  let header, payloadText, signature, parts;
  try {
    parts = jws.split(".");
    if (parts.length !== 3) throw malformed("not a compact JWS");
    header = JSON.parse(new TextDecoder().decode(b64urlDecode(parts[0])));
    payloadText = new TextDecoder().decode(b64urlDecode(parts[1]));
    signature = b64urlDecode(parts[2]);
  } catch (error) {
    throw error instanceof CodeError ? error : malformed(String(error));
  }
  if (header.alg !== "EdDSA") throw malformed("unexpected algorithm");
  const key = await issuerKey(jwks, header.kid);
  if (!key) throw new CodeError("unknown_kid");
  const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, ascii(parts[0] + "." + parts[1]));
  if (!ok) throw new CodeError("bad_signature");
  return JSON.parse(payloadText);
}
