// The admin console: one tab per area (regions and policies, institutions, lines and fares, staff,
// validators, ridership, API keys, signing keys, revocations, audit log) at #/admin/<section>, plus
// the clearing and joint-audit overview (#/admin/overview/…, the auditor's screen, read-only for
// decisions). Anyone else who opens an admin page sees the server's refusal.
import * as api from "../../api.js";
import { ridershipSection } from "../admin.js";
import { auditScreen } from "../audit.js";
import { apiKeysSection, auditLogSection, revocationsSection, signingKeysSection } from "./keys.js";
import { staffSection, validatorsSection } from "./people.js";
import { institutionsSection, linesSection, regionsSection } from "./registry.js";
import { venuesSection } from "../venue-admin.js";
import { certificatesSection } from "../certificate-counter.js";
import { explainProblem, h, message, regionName, show, t } from "./common.js";

const SECTIONS = {
  regions: regionsSection, institutions: institutionsSection, lines: linesSection,
  staff: staffSection, validators: validatorsSection, ridership: ridershipSection, "api-keys": apiKeysSection,
  "signing-keys": signingKeysSection, revocations: revocationsSection, "audit-log": auditLogSection,
  venues: venuesSection, certificates: certificatesSection,
};

function tabs(current) {
  return h("nav", { class: "console-tabs", "aria-label": t("adm.title") },
    ["overview", ...Object.keys(SECTIONS)].map((name) => h("a", {
      href: `#/admin/${name}`, text: t("adm.tab." + name), "aria-current": name === current ? "page" : null,
    })));
}

export async function adminConsole(section) {
  const [first, ...rest] = (section || "").split("/");
  const name = SECTIONS[first] || first === "overview" ? first : "overview";
  const main = document.getElementById("main");
  let scope;
  try {
    scope = await api.get("/api/v1/admin/console");
  } catch (error) {
    const box = message();
    main.replaceChildren(h("h2", { text: t("adm.title") }), box);
    show(box, error.status === 403 ? t("adm.refused") : explainProblem(error));
    box.id = "refusal";
    return;
  }
  if (name === "overview") {
    await auditScreen({ admin: true, view: rest.join("/") });
    main.prepend(tabs(name));
    return;
  }
  const box = message();
  const area = h("section", { id: `console-${name}`, class: "console-section" });
  main.replaceChildren(h("div", { class: "bo" }, tabs(name), h("h2", { text: t("adm.tab." + name) }),
    h("p", { class: "bo-scope", text: t("adm.scope", { login: scope.login, region: regionName(scope.region) }) }), box, area));
  main.focus({ preventScroll: true });
  try {
    await SECTIONS[name](area, scope);
  } catch (error) {
    show(box, explainProblem(error));
  }
}
