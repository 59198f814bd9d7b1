// A validator's own state in IndexedDB: its enrolment (token, line), the trust data it decides
// with, the seen-set, and the outbox of rides waiting to reach the server.
import * as idb from "./idb.js";
import { verifyDocument } from "./yima-code.js";

const SEEN_SECONDS = 180;  // longer than the code window: a code is refused twice within it

export const enrolment = () => idb.get("trust", "validator");
export const saveEnrolment = (record) => idb.put("trust", { name: "validator", ...record });

// Fetches the signed trust bundle, checks the signatures with its JWKS, and keeps the result.
export async function refreshTrust(token) {
  const response = await fetch("/api/v1/validators/trust", { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw Object.assign(new Error("trust"), { status: response.status });
  const bundle = await response.json();
  const revocations = await verifyDocument(bundle.revocations, bundle.jwks);
  const deny = await verifyDocument(bundle.deny, bundle.jwks);
  // The deny list names credentials (jti), never holders: keep it only in that form.
  if (!Array.isArray(deny.jti)) throw Object.assign(new Error("trust"), { status: 502 });
  const record = { name: "bundle", jwks: bundle.jwks, revoked: revocations.jti, denied: deny.jti,
    line: bundle.line, fares: bundle.fares, limits: bundle.limits, dailyCap: bundle.daily_cap_fen,
    offset: bundle.server_time - Math.floor(Date.now() / 1000), fetchedAt: bundle.server_time };
  await idb.put("trust", record);
  return record;
}

export const trust = () => idb.get("trust", "bundle");

export const seen = {
  async has(key) {
    const entry = await idb.get("seen", key);
    return Boolean(entry && entry.expires > Date.now());
  },
  add: (key) => idb.put("seen", { key, expires: Date.now() + SEEN_SECONDS * 1000 }),
};

export const queueRide = (ride) => idb.put("outbox", ride);
export const pendingRides = () => idb.all("outbox");

// Sends up to `limit` rides; deletes only those the server answered for. Returns how many left.
export async function upload(token, limit = 100) {
  const rides = (await idb.all("outbox")).slice(0, limit);
  if (!rides.length) return 0;
  const response = await fetch("/api/v1/rides/batch", {
    method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ rides: rides.map(({ code, ridden_at }) => ({ code, ridden_at })) }),
  });
  if (!response.ok) throw Object.assign(new Error("upload"), { status: response.status });
  const { results } = await response.json();
  await Promise.all(results.map((result, i) => result.status ? idb.del("outbox", rides[i].id) : null));
  return (await idb.all("outbox")).length;
}
