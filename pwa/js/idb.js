// The app's one IndexedDB database. Upgrades go step by step: add a case, never edit an old one.
export const DB_NAME = "yima";
export const DB_VERSION = 1;

function upgrade(db, oldVersion) {
  switch (oldVersion) {
    case 0:
      db.createObjectStore("keys", { keyPath: "id" }); // the device key pair (private part non-extractable)
      db.createObjectStore("credentials", { keyPath: "id" }); // issued credentials, by holder
      db.createObjectStore("trust", { keyPath: "name" }); // JWKS, revocations, fares, clock offset
      db.createObjectStore("outbox", { keyPath: "id" }); // work that must reach the server later
      db.createObjectStore("seen", { keyPath: "key" }).createIndex("expires", "expires");
    // falls through to later versions' steps
  }
}

let opening = null;

export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => { opening = null; reject(request.error); };
    });
  }
  return opening;
}

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
