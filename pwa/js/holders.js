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

// The claims of a credential (a compact JWS), read without checking: only to say on the phone
// what the phone holds (region, expiry, ids); the verifiers check the signature.
export function claimsOf(jws) {
  try {
    return JSON.parse(new TextDecoder().decode(b64urlDecode(jws.split(".")[1])));
  } catch (error) {
    return {};
  }
}

async function save(id, label, issued, previous = {}) {
  await idb.put("trust", { name: "clock", offset: issued.server_time - Math.floor(Date.now() / 1000) });
  const claims = claimsOf(issued.credentials.med);
  const record = { id, label, name: previous.name || label || "", region: claims.reg || previous.region || "",
    credentials: issued.credentials, expiresAt: issued.expires_at,
    deviceId: issued.device.id, grantId: issued.device.grant_id, stopped: null, checkedAt: issued.server_time };
  await idb.put("credentials", record);
  return record;
}

// Changes a stored holder (its masked name, its state as the server last said it).
export async function update(id, changes) {
  const record = await idb.get("credentials", id);
  if (!record) return null;
  const next = { ...record, ...changes };
  await idb.put("credentials", next);
  return next;
}

const jtis = (holder) => Object.values(holder.credentials || {}).map((jws) => claimsOf(jws).jti).filter(Boolean);

// What the server says of each stored holder's phone, so that a code it would refuse is never shown:
// logged in, the account's phone list (revoked when and why, the person suspended); logged out,
// the public revocation list. Offline nothing changes but expiry. Returns the holders, updated.
export async function checkStates({ loggedIn }) {
  const stored = await list();
  if (!stored.length || !navigator.onLine) return stored;
  const now = await serverNow();
  if (loggedIn) {
    const { devices } = await api.get("/api/v1/devices");
    const byId = new Map(devices.map((device) => [device.id, device]));
    for (const holder of stored) {
      const device = byId.get(holder.deviceId);
      let stopped = null;
      if (device?.holder_status === "suspended") { // suspension revokes the phones too: say the cause
        stopped = { state: "suspended", at: null, reason: "suspended" };
      } else if (!device || device.revoked) {
        stopped = { state: "revoked", at: device?.revoked_at || null, reason: device?.revoke_reason || "unknown" };
      }
      await update(holder.id, { stopped, checkedAt: now, name: device?.holder_masked_name || holder.name });
    }
  } else {
    const { jti } = await api.get("/api/v1/revocations");
    const revoked = new Set(jti);
    for (const holder of stored) {
      const hit = jtis(holder).some((id) => revoked.has(id));
      // Logged out we learn only that it was revoked (not when or why); a suspension is not listed.
      if (hit) await update(holder.id, { stopped: holder.stopped?.state === "revoked" ? holder.stopped
        : { state: "revoked", at: null, reason: "unknown" }, checkedAt: now });
      else if (holder.stopped?.state === "revoked") await update(holder.id, { stopped: null, checkedAt: now });
      else await update(holder.id, { checkedAt: now });
    }
  }
  return list();
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
  return save(holder.id, holder.label, issued, holder);
}

export async function list() {
  const all = await idb.all("credentials");
  return all.sort((a, b) => (a.id === SELF ? -1 : b.id === SELF ? 1 : a.id.localeCompare(b.id)));
}

export const forget = (id) => idb.del("credentials", id);

export async function forgetAll() {
  for (const holder of await idb.all("credentials")) await idb.del("credentials", holder.id);
}
