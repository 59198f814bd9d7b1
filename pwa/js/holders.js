// What this phone can show: its own credentials and those of family members granted to it, each
// bound to this phone's device key, kept in IndexedDB so codes work offline.
import * as api from "./api.js";
import { createDeviceKey, loadDeviceKey, signChallenge } from "./device-key.js";
import * as idb from "./idb.js";
import { b64urlDecode } from "./yima-code.js";

const SELF = "self";

export const holderId = (grantId) => (grantId ? `grant:${grantId}` : SELF);

export async function clockOffset() {
  const record = await idb.get("trust", "clock");
  return record ? record.offset : 0;
}

// Server time now, as best this phone knows it (unix seconds).
export async function serverNow() {
  return Math.floor(Date.now() / 1000) + (await clockOffset());
}

async function deviceKey() {
  return (await loadDeviceKey()) || createDeviceKey();
}

async function prove(key) {
  const { nonce } = await api.post("/api/v1/devices/challenge");
  return { nonce, signature: await signChallenge(key.privateKey, b64urlDecode(nonce)) };
}

async function save(id, label, issued) {
  await idb.put("trust", { name: "clock", offset: issued.server_time - Math.floor(Date.now() / 1000) });
  const record = { id, label, credentials: issued.credentials, expiresAt: issued.expires_at,
    deviceId: issued.device.id, grantId: issued.device.grant_id };
  await idb.put("credentials", record);
  return record;
}

// One tap: make the key if needed, prove it, and store the credentials the server issues.
export async function activate({ grantId = null, label = "" } = {}) {
  const key = await deviceKey();
  const proof = await prove(key);
  const issued = await api.post("/api/v1/devices", { public_jwk: key.publicJwk, ...proof,
    grant_id: grantId, label: navigator.userAgent.slice(0, 60) });
  await save(holderId(grantId), label, issued);
  return issued;
}

export async function refresh(holder) {
  const key = await deviceKey();
  const proof = await prove(key);
  const issued = await api.post("/api/v1/devices/refresh", { device_id: holder.deviceId, ...proof });
  return save(holder.id, holder.label, issued);
}

export async function list() {
  const all = await idb.all("credentials");
  return all.sort((a, b) => (a.id === SELF ? -1 : b.id === SELF ? 1 : a.id.localeCompare(b.id)));
}

export const forget = (id) => idb.del("credentials", id);

export async function forgetAll() {
  for (const holder of await idb.all("credentials")) await idb.del("credentials", holder.id);
}
