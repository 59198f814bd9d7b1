// The phone's device key: made here with WebCrypto, the private half non-extractable, kept in
// IndexedDB. It never leaves the phone; the server only ever sees the public JWK.
import * as idb from "./idb.js";
import { b64url } from "./yima-code.js";

const ACTIVATE_LABEL = new TextEncoder().encode("YIMA-ACTIVATE-1");
const RECORD_ID = "device";

async function generate(alg) {
  if (alg === "Ed25519") {
    return crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  }
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
}

async function publicJwkOf(alg, publicKey) {
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
  if (alg === "Ed25519") return { kty: "OKP", crv: "Ed25519", x: b64url(raw) };
  return { kty: "EC", crv: "P-256", x: b64url(raw.slice(1, 33)), y: b64url(raw.slice(33, 65)) };
}

// Ed25519 where the browser has it, else ECDSA P-256. `alg` forces one (tests, old browsers).
export async function createDeviceKey({ alg } = {}) {
  let chosen = alg || "Ed25519";
  let pair;
  try {
    pair = await generate(chosen);
  } catch (error) {
    if (alg || error.name !== "NotSupportedError") throw error;
    chosen = "P-256";
    pair = await generate(chosen);
  }
  const publicJwk = await publicJwkOf(chosen, pair.publicKey);
  await idb.put("keys", { id: RECORD_ID, alg: chosen, publicJwk, privateKey: pair.privateKey,
    publicKey: pair.publicKey, created: Date.now() });
  return { alg: chosen, publicJwk, privateKey: pair.privateKey };
}

export async function loadDeviceKey() {
  const record = await idb.get("keys", RECORD_ID);
  return record ? { alg: record.alg, publicJwk: record.publicJwk, privateKey: record.privateKey } : null;
}

export async function forgetDeviceKey() {
  await idb.del("keys", RECORD_ID);
}

// The proof of possession the server asks for at activation: a signature over label || nonce.
export async function signChallenge(privateKey, nonceBytes) {
  const message = new Uint8Array(ACTIVATE_LABEL.length + nonceBytes.length);
  message.set(ACTIVATE_LABEL);
  message.set(nonceBytes, ACTIVATE_LABEL.length);
  const algorithm = privateKey.algorithm.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : { name: "Ed25519" };
  return b64url(new Uint8Array(await crypto.subtle.sign(algorithm, privateKey, message)));
}
