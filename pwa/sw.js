// The service worker: the app shell from a versioned cache (so codes work offline), everything
// under /api/ from the network only (one person's data is never cached here).
const VERSION = "yima-shell-dev"; // the server puts a hash of the shell files here (backend/web.py)
const SHELL = [
  "/", "/manifest.webmanifest", "/static/css/app.css",
  "/static/icons/icon-192.png", "/static/icons/icon-512.png",
  "/static/vendor/qrcode-generator-2.0.4/qrcode.mjs",
  "/pwa/js/app.js", "/pwa/js/api.js", "/pwa/js/i18n.js", "/pwa/js/idb.js",
  "/pwa/js/device-key.js", "/pwa/js/yima-code.js", "/pwa/js/holders.js",
  "/pwa/js/screens/auth.js", "/pwa/js/screens/code.js", "/pwa/js/screens/family.js",
  "/pwa/js/screens/account.js", "/pwa/js/screens/counter.js", "/pwa/js/screens/audit.js",
  "/pwa/js/screens/admin.js", "/pwa/js/screens/admin/common.js", "/pwa/js/screens/admin/console.js",
  "/pwa/js/screens/admin/keys.js", "/pwa/js/screens/admin/people.js",
  "/pwa/js/screens/admin/registry.js",
  "/pwa/js/screens/validator.js", "/pwa/js/validator-store.js", "/pwa/js/scanner.js", "/pwa/js/ui.js",
];

self.addEventListener("install", (event) => event.waitUntil(precache()));
self.addEventListener("activate", (event) => event.waitUntil(dropOldCaches()));
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/.well-known/")) return;
  event.respondWith(event.request.mode === "navigate" ? shellFirst(event.request) : cacheFirst(event.request));
});

async function precache() {
  const cache = await caches.open(VERSION);
  await cache.addAll(SHELL);
  await self.skipWaiting();
}

async function dropOldCaches() {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name !== VERSION).map((name) => caches.delete(name)));
  await self.clients.claim();
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(VERSION);
    await cache.put(request, response.clone());
  }
  return response;
}

async function shellFirst(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return (await caches.match("/")) || Response.error();
  }
}
