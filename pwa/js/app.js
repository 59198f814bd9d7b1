// The app shell: language and elder mode, the service worker, online state and the router.
import * as api from "./api.js";
import * as holders from "./holders.js";
import { apply, currentLanguage, setLanguage } from "./i18n.js";
import { accountScreen } from "./screens/account.js";
import { adminConsole } from "./screens/admin/console.js";
import { auditScreen } from "./screens/audit.js";
import { login, signup } from "./screens/auth.js";
import { codeScreen, stop } from "./screens/code.js";
import { counterScreen, stopCounter } from "./screens/counter.js";
import { familyScreen } from "./screens/family.js";
import { stopValidator, validatorScreen } from "./screens/validator.js";

const state = { account: null, online: navigator.onLine };

function setElder(on) {
  document.documentElement.classList.toggle("elder", on);
  document.getElementById("elder-toggle").setAttribute("aria-pressed", String(on));
  localStorage.setItem("yima.elder", on ? "1" : "0");
}

async function whoAmI() {
  if (!navigator.onLine) return null;
  try {
    const answer = await api.get("/api/v1/auth/me");
    api.setCsrf(answer.csrf_token);
    return answer.account;
  } catch (error) {
    return null;
  }
}

async function route() {
  stop();
  stopCounter();
  stopValidator();
  const page = location.hash.replace(/^#\/?/, "") || "code";
  if (page === "validator") return validatorScreen();  // a kiosk: no login, its own token
  document.getElementById("offline").hidden = navigator.onLine;
  const stored = (await holders.list()).length > 0;
  const nav = document.getElementById("nav");
  const role = state.account?.role;
  const cashier = role === "cashier";
  nav.hidden = !state.account || role !== "patient";
  document.getElementById("logout").hidden = !state.account;
  for (const link of nav.querySelectorAll("a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#/${page}`);
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  if (!state.account) {
    // Offline, or the session ended: the codes already on this phone still show.
    if (page === "code" && stored) return codeScreen({ online: false });
    if (page === "signup") return signup(loggedIn);
    return login(loggedIn);
  }
  // Admin pages: the console for an admin; anyone else sees the server's refusal there.
  if (page === "admin" || page.startsWith("admin/")) return adminConsole(page.slice(6));
  if (cashier) return counterScreen();
  if (role === "admin") return adminConsole("overview");
  if (role === "auditor") return auditScreen();
  if (page === "family") return familyScreen();
  if (page === "account") return accountScreen({ onLogout: loggedOut });
  return codeScreen({ online: navigator.onLine });
}

function loggedIn(account) {
  state.account = account;
  if (location.hash === "#/code") route();
  else location.hash = "#/code";
}

async function loggedOut() {
  state.account = null;
  await holders.forgetAll();
  location.hash = "#/login";
  route();
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
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api.post("/api/v1/auth/logout"); } catch (error) { /* already logged out */ }
    api.setCsrf("");
    loggedOut();
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("online", async () => {
    if (location.hash === "#/validator") return; // the kiosk syncs by itself; keep it running
    state.account = await whoAmI(); // back online: the session cookie may still be good
    route();
  });
  window.addEventListener("offline", () => { document.getElementById("offline").hidden = false; });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
  state.account = await whoAmI();
  await route();
}

start();
