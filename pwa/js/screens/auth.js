// Log in, and sign up against the registry (ID number + registered phone + one-time code).
import * as api from "../api.js";
import { currentLanguage, has, t } from "../i18n.js";
import { explain, field, h, message, screen, show } from "../ui.js";

// Lockout and password-policy refusals carry details (when to retry, which rule) worth saying.
function explainAuth(error) {
  const problem = error.problem || {};
  if (error.code === "account_locked" && Number.isInteger(problem.retry_after)) {
    const until = new Date(Date.now() + problem.retry_after * 1000);
    const time = until.toLocaleTimeString(currentLanguage(), { hour: "2-digit", minute: "2-digit" });
    return t("err.account_locked", { minutes: Math.ceil(problem.retry_after / 60), time });
  }
  if (error.code === "weak_password" && has("err.weak_password." + problem.reason)) {
    return t("err.weak_password." + problem.reason);
  }
  return explain(error);
}

export function login(onDone) {
  const box = message();
  const form = h("form", { novalidate: true },
    field("login", "login.phone", { autocomplete: "username", inputmode: "text", required: true }),
    field("password", "login.password", { type: "password", autocomplete: "current-password", required: true }),
    box,
    h("button", { type: "submit", class: "primary", text: t("login.submit") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const login = form.login.value.trim();
    const password = form.password.value;
    if (!login || !password) return show(box, t("error.required", { field: t(login ? "login.password" : "login.phone") }));
    try {
      const answer = await api.post("/api/v1/auth/login", { login, password });
      api.setCsrf(answer.csrf_token);
      onDone(answer.account);
    } catch (error) {
      show(box, explainAuth(error));
    }
  });
  screen("login.title", form, h("p", {}, h("a", { href: "#/signup", text: t("login.signup") })));
}

export function signup(onDone) {
  const box = message();
  const demo = h("p", { class: "demo", role: "status", hidden: true });
  const form = h("form", { novalidate: true },
    h("p", { class: "secondary", text: t("signup.intro") }),
    field("national_id", "signup.id", { autocomplete: "off", maxlength: 18, required: true }),
    field("phone", "signup.phone", { type: "tel", inputmode: "numeric", autocomplete: "tel", maxlength: 11, required: true }),
    h("button", { type: "button", id: "send-code", text: t("signup.send") }),
    demo,
    field("code", "signup.code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 }),
    field("new_password", "signup.password", { type: "password", autocomplete: "new-password" }),
    box,
    h("button", { type: "submit", class: "primary", text: t("signup.submit") }));
  const identity = () => ({ national_id: form.national_id.value.trim().toUpperCase(), phone: form.phone.value.trim() });
  form.querySelector("#send-code").addEventListener("click", async () => {
    const who = identity();
    if (!who.national_id || !who.phone) return show(box, t("error.required", { field: t(who.national_id ? "signup.phone" : "signup.id") }));
    try {
      const answer = await api.post("/api/v1/signup/code", who);
      show(box, t("signup.sent"), "ok");
      if (answer.demo_code) {
        demo.hidden = false;
        demo.textContent = t("signup.demo", { code: answer.demo_code });
      }
      form.code.focus();
    } catch (error) {
      show(box, explain(error));
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { ...identity(), code: form.code.value.trim(), password: form.new_password.value };
    if (!body.code) return show(box, t("error.required", { field: t("signup.code") }));
    try {
      const answer = await api.post("/api/v1/signup", body);
      api.setCsrf(answer.csrf_token);
      onDone(answer.account);
    } catch (error) {
      show(box, explainAuth(error));
    }
  });
  screen("signup.title", form, h("p", {}, h("a", { href: "#/login", text: t("signup.back") })));
}
