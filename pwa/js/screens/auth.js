// Log in, and sign up against the registry (ID number + registered phone + one-time code). Both
// lead back to the codes already on this phone, and to "where it works", without logging in.
import * as api from "../api.js";
import { currentLanguage, has, t } from "../i18n.js";
import { clearFieldErrors, explain, field, fieldError, h, icon, message, screen, show } from "../ui.js";

// Lockout and password-policy refusals carry details (when to retry, which rule) worth saying.
export function explainAuth(error) {
  const problem = error.problem || {};
  if (error.code === "account_locked" && Number.isInteger(problem.retry_after)) {
    const until = new Date(Date.now() + problem.retry_after * 1000);
    const time = until.toLocaleTimeString(currentLanguage(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      timeZone: "Asia/Shanghai" }); // China time, whatever the phone's zone
    return t("err.account_locked", { minutes: Math.ceil(problem.retry_after / 60), time });
  }
  if (error.code === "weak_password" && has("err.weak_password." + problem.reason)) {
    return t("err.weak_password." + problem.reason);
  }
  return explain(error);
}

// Links every logged-out screen offers: the codes on this phone, where they work.
function ways({ stored }, ...first) {
  return h("ul", { class: "menu card" }, ...first,
    stored ? h("li", {}, h("a", { class: "row-link", href: "#/code" }, icon("qr-code"), h("span", { text: t("login.myCodes") }), icon("chevron-right"))) : null,
    h("li", {}, h("a", { class: "row-link", href: "#/where" }, icon("map-pin"), h("span", { text: t("where.title") }), icon("chevron-right"))));
}

function required(box, id, labelKey) {
  const text = t("error.required", { field: t(labelKey) });
  fieldError(id, text);
  show(box, text);
}

export function login(onDone, { stored = false } = {}) {
  const box = message();
  const form = h("form", { novalidate: true },
    field("login", "login.phone", { autocomplete: "username", inputmode: "text", required: true }),
    field("password", "login.password", { type: "password", autocomplete: "current-password", required: true }),
    box,
    h("button", { type: "submit", class: "primary" }, icon("log-in"), t("login.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const login = form.login.value.trim();
    const password = form.password.value;
    if (!login) return required(box, "login", "login.phone");
    if (!password) return required(box, "password", "login.password");
    try {
      const answer = await api.post("/api/v1/auth/login", { login, password });
      api.setCsrf(answer.csrf_token);
      onDone(answer.account);
    } catch (error) {
      show(box, explainAuth(error));
    }
  });
  screen("login.title",
    stored ? h("p", { class: "note-box", role: "status", text: t("login.codesStay") }) : null,
    form,
    ways({ stored }, h("li", {}, h("a", { class: "row-link", href: "#/signup" }, icon("id-card"), h("span", { text: t("login.signup") }), icon("chevron-right")))));
}

export function signup(onDone, { stored = false } = {}) {
  const box = message();
  const demo = h("p", { class: "demo", role: "status", hidden: true });
  const form = h("form", { novalidate: true },
    h("p", { class: "secondary", text: t("signup.intro") }),
    field("national_id", "signup.id", { autocomplete: "off", maxlength: 18, required: true }),
    field("phone", "signup.phone", { type: "tel", inputmode: "numeric", autocomplete: "tel", maxlength: 11, required: true }),
    h("button", { type: "button", id: "send-code", class: "block" }, t("signup.send")),
    demo,
    field("code", "signup.code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 }),
    field("new_password", "signup.password", { type: "password", autocomplete: "new-password" }),
    box,
    h("button", { type: "submit", class: "primary" }, t("signup.submit")));
  const identity = () => ({ national_id: form.national_id.value.trim().toUpperCase(), phone: form.phone.value.trim() });
  form.querySelector("#send-code").addEventListener("click", async () => {
    const who = identity();
    clearFieldErrors(form);
    if (!who.national_id) return required(box, "national_id", "signup.id");
    if (!who.phone) return required(box, "phone", "signup.phone");
    try {
      const answer = await api.post("/api/v1/signup/code", who);
      show(box, t("signup.sent"), "ok");
      if (answer.demo_code) {
        demo.hidden = false;
        demo.textContent = t("signup.demo", { code: answer.demo_code });
      }
      form.code.focus();
    } catch (error) {
      const where = { bad_national_id: "national_id", bad_phone: "phone", not_in_registry: "phone" }[error.code];
      if (where) fieldError(where, explain(error));
      show(box, explain(error));
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = { ...identity(), code: form.code.value.trim(), password: form.new_password.value };
    if (!body.code) return required(box, "code", "signup.code");
    if (!body.password) return required(box, "new_password", "signup.password");
    try {
      const answer = await api.post("/api/v1/signup", body);
      api.setCsrf(answer.csrf_token);
      onDone(answer.account);
    } catch (error) {
      const where = { weak_password: "new_password", otp_wrong: "code", otp_expired: "code", otp_locked: "code" }[error.code];
      if (where) fieldError(where, explainAuth(error));
      show(box, explainAuth(error));
    }
  });
  screen("signup.title", form,
    ways({ stored }, h("li", {}, h("a", { class: "row-link", href: "#/login" }, icon("log-in"), h("span", { text: t("signup.back") }), icon("chevron-right")))));
}
