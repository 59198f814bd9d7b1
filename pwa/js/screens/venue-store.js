// A venue gate's own state, in its own IndexedDB database ("yima-venue", not the app's "yima"): its
// enrolment (token, venue), the trust data it decides with, its seen-set, and the outbox of visits
// waiting to reach the server. A database of its own keeps visits out of the bus validator's ride
// outbox (which uploads every record it holds) and leaves the app's schema versions alone.
import { verifyDocument } from "../yima-code.js";

const DB_NAME = "yima-venue";
const DB_VERSION = 1;
const SEEN_SECONDS = 180;  // longer than the code window: a code is refused twice within it

function upgrade(db, oldVersion) {
  switch (oldVersion) {
    case 0:
      db.createObjectStore("state", { keyPath: "name" }); // enrolment, trust bundle
      db.createObjectStore("seen", { keyPath: "key" }); // offline replay guard
      db.createObjectStore("visits", { keyPath: "id" }); // stored before the green, until uploaded
    // falls through: the next version's case goes here
  }
}

let opening = null;
function open() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
    request.onsuccess = () => {
      request.result.onversionchange = () => { request.result.close(); opening = null; };
      resolve(request.result);
    };
    request.onerror = () => { opening = null; reject(request.error); };
  });
  return opening;
}

// One request in its own transaction, resolved once the transaction has committed.
async function run(store, mode, operation) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(store, mode);
    const request = operation(transaction.objectStore(store));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}
const get = (store, key) => run(store, "readonly", (s) => s.get(key));
const put = (store, value) => run(store, "readwrite", (s) => s.put(value));
const del = (store, key) => run(store, "readwrite", (s) => s.delete(key));
const all = (store) => run(store, "readonly", (s) => s.getAll());

export const enrolment = () => get("state", "enrolment");
export const saveEnrolment = (record) => put("state", { name: "enrolment", ...record });
export const saveKey = (pair) => put("state", { name: "key", privateKey: pair.privateKey, publicKey: pair.publicKey });

// Fetches the trust bundle, checks the revocation list's signature with its JWKS, keeps the result.
export async function refreshTrust(token) {
  const response = await fetch("/api/v1/venue-verifiers/trust", { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw Object.assign(new Error("trust"), { status: response.status });
  const bundle = await response.json();
  const revocations = await verifyDocument(bundle.revocations, bundle.jwks);
  const record = { name: "bundle", jwks: bundle.jwks, revoked: revocations.jti, venue: bundle.venue,
    entry: bundle.entry, zone: bundle.zone_regions, limits: bundle.limits,
    offset: bundle.server_time - Math.floor(Date.now() / 1000), fetchedAt: bundle.server_time };
  await put("state", record);
  return record;
}

export const trust = () => get("state", "bundle");

export const seen = {
  async has(key) {
    const entry = await get("seen", key);
    return Boolean(entry && entry.expires > Date.now());
  },
  add: (key) => put("seen", { key, expires: Date.now() + SEEN_SECONDS * 1000 }),
};

export const queueVisit = (visit) => put("visits", visit);
export const pendingVisits = () => all("visits");

// Sends up to `limit` visits; deletes only those the server answered for. Returns how many are left.
export async function upload(token, limit = 100) {
  const visits = (await all("visits")).slice(0, limit);
  if (!visits.length) return 0;
  const response = await fetch("/api/v1/visits/batch", {
    method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ visits: visits.map(({ code, visited_at }) => ({ code, visited_at })) }),
  });
  if (!response.ok) throw Object.assign(new Error("upload"), { status: response.status });
  const { results } = await response.json();
  await Promise.all(results.map((result, i) => (result.status ? del("visits", visits[i].id) : null)));
  return (await all("visits")).length;
}

// Online: the server's replay guard and today's revocations. Answers {ok} / {ok:false, error}, or
// null when the server could not be asked in time (the offline decision stands).
export async function checkOnline(token, code, timeoutMs = 1500) {
  if (!navigator.onLine) return null;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch("/api/v1/venue-verifiers/check", {
      method: "POST", signal: controller.signal,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
    if (response.ok) return { ok: true };
    if (response.status === 409 || response.status === 422) {
      return { ok: false, error: (await response.json()).code };
    }
    return null;  // 401/403/429/503: not the code's fault; decide offline
  } catch (error) {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
