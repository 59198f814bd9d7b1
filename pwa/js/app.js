// The app shell: language and elder mode, the service worker, online state, the session and the router.
import * as api from "./api.js";
import * as holders from "./holders.js";
import { apply, currentLanguage, setLanguage, t } from "./i18n.js";
import * as idb from "./idb.js";
import { accountScreen, settingsScreen } from "./screens/account.js";
import { adminConsole } from "./screens/admin/console.js";
import { auditScreen } from "./screens/audit.js";
import { login, signup } from "./screens/auth.js";
import { codeScreen, stop } from "./screens/code.js";
import { counterScreen, stopCounter } from "./screens/counter.js";
import { directoryScreen } from "./screens/directory.js";
import { certificatesScreen } from "./screens/certificate.js";
import { certificateCheckScreen, stopCertificateCheck } from "./screens/certificate-check.js";
import { familyScreen } from "./screens/family.js";
import { historyScreen } from "./screens/history.js";
import { stopValidator, validatorScreen } from "./screens/validator.js";
import { stopVenue, venueScreen } from "./screens/venue.js";
import { confirmDialog } from "./ui.js";

// account: who is logged in (null: nobody). Offline the server cannot be asked: the last known
// account is assumed until the network says otherwise, so the screens stay reachable.
const state = { account: null };
let lastPage = null; // where "back" leads from a screen reached from several places
const PATIENT_PAGES = new Set(["code", "history", "family", "account", "settings", "where", "certificates"]);
const NAV_OF = { settings: "account", where: "account", certificates: "account" };

function setElder(on) {
  document.documentElement.classList.toggle("elder", on);
  document.getElementById("elder-toggle").setAttribute("aria-pressed", String(on));
  localStorage.setItem("yima.elder", on ? "1" : "0");
}

function remember(account) {
  state.account = account;
  if (account) localStorage.setItem("yima.account", JSON.stringify({ role: account.role }));
  else localStorage.removeItem("yima.account");
}

async function whoAmI() {
  if (!navigator.onLine) return JSON.parse(localStorage.getItem("yima.account") || "null");
  try {
    const answer = await api.get("/api/v1/auth/me");
    api.setCsrf(answer.csrf_token);
    return answer.account;
  } catch (error) {
    return error.code === "network" ? JSON.parse(localStorage.getItem("yima.account") || "null") : null;
  }
}

function chrome(page, role) {
  const patient = role === "patient";
  const nav = document.getElementById("nav");
  const base = page.split("/")[0];  // history/stays is still 记录
  nav.hidden = !patient || !PATIENT_PAGES.has(base);
  document.body.classList.toggle("has-nav", !nav.hidden);
  nav.setAttribute("aria-label", t("nav.label"));
  const current = NAV_OF[base] || base;
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${current}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  // Staff log out from the top bar; a patient does it from 账户, where it asks first.
  document.getElementById("logout").hidden = !state.account || patient;
  document.getElementById("offline").hidden = navigator.onLine;
}

async function route() {
  stop();
  stopCounter();
  stopValidator();
  stopVenue();
  stopCertificateCheck();
  const page = location.hash.replace(/^#\/?/, "") || "code";
  const from = lastPage;
  lastPage = page;
  if (page === "validator") return validatorScreen();  // a kiosk: no login, its own token
  if (page === "venue") return venueScreen();  // a venue gate: a kiosk too (docs/venues.md)
  document.documentElement.classList.remove("kiosk");
  const role = state.account?.role;
  chrome(page, role);
  if (page === "where") {
    const back = from && from !== "where" && from !== "validator" ? from : state.account ? "account" : "login";
    return directoryScreen({ back: `#/${back}` });
  }
  if (page === "check" || page.startsWith("check?")) {  // checking a certificate: anyone, no login
    const back = role === "patient" ? "#/certificates" : state.account ? "#/" : "#/login";
    return certificateCheckScreen({ back });
  }
  if (!state.account) {
    // Offline, or the session ended: the codes already on this phone still show, with a login link.
    const stored = (await holders.list()).length > 0;
    document.getElementById("offline").hidden = navigator.onLine;
    if (page === "code" && stored) return codeScreen({ loggedIn: false });
    if (page === "signup") return signup(loggedIn, { stored });
    return login(loggedIn, { stored });
  }
  if (page === "admin" || page.startsWith("admin/")) return adminConsole(page.slice(6));
  if (role === "cashier") return counterScreen();
  if (role === "admin") return adminConsole("overview");
  if (role === "auditor") return auditScreen();
  if (page === "family") return familyScreen();
  if (page === "history" || page.startsWith("history/")) return historyScreen(page.split("/")[1]);
  if (page === "certificates") return certificatesScreen();
  if (page === "account") return accountScreen({ onLogout: loggedOut });
  if (page === "settings") return settingsScreen({ onLoggedOutEverywhere: sessionEnded });
  if (page !== "code") { location.replace("#/code"); return undefined; }
  return codeScreen({ loggedIn: true });
}

function loggedIn(account) {
  remember(account);
  if (location.hash === "#/code") route();
  else location.hash = "#/code";
}

// Logging out on purpose removes this phone's codes and saved history (a shared or lent phone).
async function loggedOut() {
  remember(null);
  api.setCsrf("");
  await holders.forgetAll();
  for (const snapshot of await idb.all("snapshots")) await idb.del("snapshots", snapshot.name);
  location.hash = "#/login";
  route();
}

// The session ended without the person asking (expired, logged out everywhere): keep the codes.
function sessionEnded() {
  if (!state.account) return;
  remember(null);
  api.setCsrf("");
  route();
}

async function staffLogout() {
  const sure = await confirmDialog({ titleKey: "logout.title", bodyKey: "logout.staffBody", confirmKey: "account.logout", danger: false });
  if (!sure) return;
  try { await api.post("/api/v1/auth/logout"); } catch (error) { /* already logged out */ }
  loggedOut();
}

async function start() {
  apply(document);
  setElder(localStorage.getItem("yima.elder") === "1");
  document.getElementById("lang-toggle").addEventListener("click", () => {
    setLanguage(currentLanguage() === "en" ? "zh-CN" : "en");
    route();
  });
  document.getElementById("elder-toggle").addEventListener("click", () => {
    setElder(!document.documentElement.classList.contains("elder"));
  });
  document.getElementById("logout").addEventListener("click", staffLogout);
  api.onSessionLost(() => {
    if (location.hash !== "#/validator" && location.hash !== "#/venue") sessionEnded();
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("online", async () => {
    if (location.hash === "#/validator" || location.hash === "#/venue") return; // a kiosk syncs by itself; keep it running
    remember(await whoAmI()); // back online: the session cookie may still be good
    route();
  });
  window.addEventListener("offline", () => {
    if (location.hash !== "#/validator" && location.hash !== "#/venue") document.getElementById("offline").hidden = false;
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
  remember(await whoAmI());
  await route();
}

start();
