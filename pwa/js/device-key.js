// The phone's device key: made here with WebCrypto, the private half non-extractable, kept in
// IndexedDB (a CryptoKey is structured-cloneable; storing it does not make it exportable). It
// never leaves the phone: the server only ever sees the public JWK and signatures.
import * as idb from "./idb.js";
import { b64url } from "./yima-code.js";

const ACTIVATE_LABEL = new TextEncoder().encode("YIMA-ACTIVATE-1");
const RECORD_ID = "device";
const ALGORITHMS = {
  "Ed25519": { generate: { name: "Ed25519" }, sign: { name: "Ed25519" } },
  "P-256": { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
};

const generate = (alg) => crypto.subtle.generateKey(ALGORITHMS[alg].generate, false, ["sign", "verify"]);

// The canonical device JWK of spec §2 (members in that order), from the exportable public key.
async function publicJwkOf(alg, publicKey) {
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
  if (alg === "Ed25519") return { kty: "OKP", crv: "Ed25519", x: b64url(raw) };
  // raw P-256 is the uncompressed SEC1 point: 0x04 || x (32) || y (32)
  return { kty: "EC", crv: "P-256", x: b64url(raw.subarray(1, 33)), y: b64url(raw.subarray(33, 65)) };
}

const algOf = (privateKey) => (privateKey.algorithm.name === "Ed25519" ? "Ed25519" : "P-256");

// Makes and stores this phone's key: Ed25519 where the browser has it, else ECDSA P-256.
// `alg` ("Ed25519" | "P-256") forces one (tests; the P-256 path on a browser that has both).
// Replaces any stored key. Returns {alg, publicJwk, privateKey}.
export async function createDeviceKey({ alg } = {}) {
  if (alg !== undefined && !ALGORITHMS[alg]) throw new TypeError(`alg must be Ed25519 or P-256, not ${alg}`);
  let chosen = alg || "Ed25519";
  let pair;
  try {
    pair = await generate(chosen);
  } catch (error) {
    if (alg || error.name !== "NotSupportedError") throw error;
    chosen = "P-256"; // a browser without WebCrypto Ed25519
    pair = await generate(chosen);
  }
  const publicJwk = await publicJwkOf(chosen, pair.publicKey);
  await idb.put("keys", { id: RECORD_ID, alg: chosen, publicJwk, privateKey: pair.privateKey,
    publicKey: pair.publicKey, created: Date.now() });
  return { alg: chosen, publicJwk, privateKey: pair.privateKey };
}

// The stored key as {alg, publicJwk, privateKey}, or null when this phone has none yet.
export async function loadDeviceKey() {
  const record = await idb.get("keys", RECORD_ID);
  return record ? { alg: record.alg, publicJwk: record.publicJwk, privateKey: record.privateKey } : null;
}

export async function forgetDeviceKey() {
  await idb.del("keys", RECORD_ID);
}

// The proof of possession the server asks for at activation: the 64-byte raw signature over
// "YIMA-ACTIVATE-1" || nonce (Ed25519, or ECDSA P-256/SHA-256 as r || s), base64url.
export async function signChallenge(privateKey, nonceBytes) {
  const nonce = ArrayBuffer.isView(nonceBytes)
    ? new Uint8Array(nonceBytes.buffer, nonceBytes.byteOffset, nonceBytes.byteLength)
    : new Uint8Array(nonceBytes); // an ArrayBuffer or an array of byte values
  const message = new Uint8Array(ACTIVATE_LABEL.length + nonce.length);
  message.set(ACTIVATE_LABEL);
  message.set(nonce, ACTIVATE_LABEL.length);
  const signature = await crypto.subtle.sign(ALGORITHMS[algOf(privateKey)].sign, privateKey, message);
  return b64url(new Uint8Array(signature));
}
