// The app's one IndexedDB database. Each version's upgrade is a case of `upgrade`; a new version
// adds a case below the last one and never edits an old one, so a phone that skipped versions
// runs every step in order.
export const DB_NAME = "yima";
export const DB_VERSION = 2;

function upgrade(db, oldVersion) {
  switch (oldVersion) {
    case 0:
      db.createObjectStore("keys", { keyPath: "id" }); // the device key pair (private half non-extractable)
      db.createObjectStore("credentials", { keyPath: "id" }); // issued credentials, by holder
      db.createObjectStore("trust", { keyPath: "name" }); // JWKS, revocations, fares, clock offset
      db.createObjectStore("outbox", { keyPath: "id" }); // work that must reach the server later
      db.createObjectStore("seen", { keyPath: "key" }).createIndex("expires", "expires"); // offline replay guard
    // falls through
    case 1:
      db.createObjectStore("snapshots", { keyPath: "name" }); // the last copy of a screen's data, for offline
    // falls through: the next version's case goes here
  }
}

let opening = null;

// The open database (one connection per page, opened on first use).
export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
      request.onsuccess = () => {
        const db = request.result;
        // A newer version of the app (another tab) wants to upgrade: step aside, reopen next time.
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = () => { opening = null; reject(request.error); };
      request.onblocked = () => console.warn("yima: close the app's other tabs to finish the update");
    });
  }
  return opening;
}

// Runs one request in its own transaction; resolves with its result once the transaction has
// committed (so a put has reached the disk's durability promise, not just the request queue).
async function run(storeName, mode, operation) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeName, mode);
    const request = operation(transaction.objectStore(storeName));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const get = (store, key) => run(store, "readonly", (s) => s.get(key));
export const put = (store, value) => run(store, "readwrite", (s) => s.put(value));
export const del = (store, key) => run(store, "readwrite", (s) => s.delete(key));
export const all = (store) => run(store, "readonly", (s) => s.getAll());
// Deletes the records whose `index` value is below `bound` (e.g. expired seen-set entries).
export const delBelow = (store, index, bound) => run(store, "readwrite", (s) => {
  const request = s.index(index).openKeyCursor(IDBKeyRange.upperBound(bound, true));
  request.onsuccess = () => {
    const cursor = request.result;
    if (cursor) { s.delete(cursor.primaryKey); cursor.continue(); }
  };
  return request;
}).then(() => undefined);
