// The service worker: the app shell from a versioned cache (so codes work offline), everything
// under /api/ from the network only (one person's data is never cached here) — except the public
// "where it works" lists, network first with the last copy kept for offline.
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
  "/pwa/js/screens/admin/registry.js", "/pwa/js/screens/admin/charts.js", "/static/css/backoffice.css",
  "/pwa/js/screens/validator.js", "/pwa/js/validator-store.js", "/pwa/js/scanner.js", "/pwa/js/ui.js",
  "/pwa/js/screens/kiosk.js",  // the frame the bus validator and the venue gate share
  "/pwa/js/screens/history.js", "/pwa/js/screens/directory.js",
  // insurance certificates: the holder's list and the public check page (docs/certificate.md)
  "/pwa/js/screens/certificate.js", "/pwa/js/screens/certificate-check.js", "/pwa/js/screens/certificate-format.js",
  "/pwa/js/screens/certificate-counter.js",
  // the venue gate and the admin's venues tab (docs/venues.md)
  "/pwa/js/screens/venue.js", "/pwa/js/screens/venue-store.js", "/pwa/js/screens/venue-admin.js",
  // the cashier's console (screens/counter/) and its stylesheet
  "/static/css/counter.css", "/pwa/js/screens/counter/console.js", "/pwa/js/screens/counter/bill.js",
  "/pwa/js/screens/counter/receipt.js", "/pwa/js/screens/counter/today.js", "/pwa/js/screens/counter/reconcile.js",
  "/pwa/js/screens/counter/identify.js", "/pwa/js/screens/counter/refund.js", "/pwa/js/screens/counter/format.js",
  "/pwa/js/screens/counter/words.js",
  // the inpatient desk (screens/inpatient/: a counter tab, the patient's stays, the admin's policies)
  "/static/css/inpatient.css", "/pwa/js/screens/inpatient/desk.js", "/pwa/js/screens/inpatient/admit.js",
  "/pwa/js/screens/inpatient/stay.js", "/pwa/js/screens/inpatient/paper.js", "/pwa/js/screens/inpatient/common.js",
  "/pwa/js/screens/inpatient/mine.js", "/pwa/js/screens/inpatient/policy.js",
  // the icons app.css draws (static/vendor/lucide-static-1.62.0, ISC)
  "/static/vendor/lucide-static-1.62.0/icons/a-large-small.svg",
  "/static/vendor/lucide-static-1.62.0/icons/arrow-left.svg",
  "/static/vendor/lucide-static-1.62.0/icons/bus.svg",
  "/static/vendor/lucide-static-1.62.0/icons/chevron-left.svg",
  "/static/vendor/lucide-static-1.62.0/icons/chevron-right.svg",
  "/static/vendor/lucide-static-1.62.0/icons/circle-check.svg",
  "/static/vendor/lucide-static-1.62.0/icons/circle-x.svg",
  "/static/vendor/lucide-static-1.62.0/icons/clock.svg",
  "/static/vendor/lucide-static-1.62.0/icons/cloud-upload.svg",
  "/static/vendor/lucide-static-1.62.0/icons/heart-handshake.svg",
  "/static/vendor/lucide-static-1.62.0/icons/history.svg",
  "/static/vendor/lucide-static-1.62.0/icons/hospital.svg",
  "/static/vendor/lucide-static-1.62.0/icons/house.svg",
  "/static/vendor/lucide-static-1.62.0/icons/id-card.svg",
  "/static/vendor/lucide-static-1.62.0/icons/info.svg",
  "/static/vendor/lucide-static-1.62.0/icons/languages.svg",
  "/static/vendor/lucide-static-1.62.0/icons/list.svg",
  "/static/vendor/lucide-static-1.62.0/icons/lock.svg",
  "/static/vendor/lucide-static-1.62.0/icons/log-in.svg",
  "/static/vendor/lucide-static-1.62.0/icons/log-out.svg",
  "/static/vendor/lucide-static-1.62.0/icons/map-pin.svg",
  "/static/vendor/lucide-static-1.62.0/icons/phone.svg",
  "/static/vendor/lucide-static-1.62.0/icons/plus.svg",
  "/static/vendor/lucide-static-1.62.0/icons/qr-code.svg",
  "/static/vendor/lucide-static-1.62.0/icons/receipt-text.svg",
  "/static/vendor/lucide-static-1.62.0/icons/refresh-cw.svg",
  "/static/vendor/lucide-static-1.62.0/icons/scan-line.svg",
  "/static/vendor/lucide-static-1.62.0/icons/search.svg",
  "/static/vendor/lucide-static-1.62.0/icons/settings.svg",
  "/static/vendor/lucide-static-1.62.0/icons/shield-check.svg",
  "/static/vendor/lucide-static-1.62.0/icons/shield-off.svg",
  "/static/vendor/lucide-static-1.62.0/icons/smartphone.svg",
  "/static/vendor/lucide-static-1.62.0/icons/ticket.svg",
  "/static/vendor/lucide-static-1.62.0/icons/trash-2.svg",
  "/static/vendor/lucide-static-1.62.0/icons/triangle-alert.svg",
  "/static/vendor/lucide-static-1.62.0/icons/user.svg",
  "/static/vendor/lucide-static-1.62.0/icons/users.svg",
  "/static/vendor/lucide-static-1.62.0/icons/wallet.svg",
  "/static/vendor/lucide-static-1.62.0/icons/wifi-off.svg",
];
const DIRECTORY = "yima-directory"; // public lists, kept across app versions
const PUBLIC_API = ["/api/v1/directory/"];

self.addEventListener("install", (event) => event.waitUntil(precache()));
self.addEventListener("activate", (event) => event.waitUntil(dropOldCaches()));
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (PUBLIC_API.some((prefix) => url.pathname.startsWith(prefix))) return event.respondWith(networkFirst(event.request));
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
  await Promise.all(names.filter((name) => name !== VERSION && name !== DIRECTORY).map((name) => caches.delete(name)));
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

// Public lists: the network's answer when there is one (and a copy kept), else the last copy.
async function networkFirst(request) {
  const cache = await caches.open(DIRECTORY);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    return (await cache.match(request)) || Response.error();
  }
}
