// Family codes: invite a relative, accept an invitation, show a relative's codes, revoke (it asks first).
import * as api from "../api.js";
import * as holders from "../holders.js";
import { t } from "../i18n.js";
import { card, clearFieldErrors, confirmDialog, explain, field, fieldError, h, icon, message, screen, show } from "../ui.js";

export async function familyScreen() {
  const box = message();
  const invitation = h("div", { class: "invitation", "aria-live": "polite" });
  const given = h("ul", { class: "list", "aria-labelledby": "given-title" });
  const received = h("ul", { class: "list", "aria-labelledby": "received-title" });
  const accept = h("form", { novalidate: true },
    field("invite_code", "family.code", { autocomplete: "off", maxlength: 9, autocapitalize: "characters" }, { hintKey: "family.codeHint" }),
    h("button", { type: "submit" }, icon("heart-handshake"), t("family.acceptButton")));
  const online = navigator.onLine;
  screen("family.title",
    online ? null : h("p", { class: "note-box", role: "status" }, icon("wifi-off"), " ", t("family.offline")),
    h("p", { class: "secondary", text: t("family.intro") }),
    box,
    card({ "aria-labelledby": "received-title" }, h("h3", { class: "card-title", id: "received-title" }, icon("users"), t("family.received")), received),
    card({ "aria-labelledby": "given-title" }, h("h3", { class: "card-title", id: "given-title" }, icon("heart-handshake"), t("family.given")), given,
      h("button", { type: "button", class: "primary", id: "invite", disabled: !online, onclick: invite }, icon("plus"), t("family.invite")),
      invitation),
    card({ "aria-labelledby": "accept-title" }, h("h3", { class: "card-title", id: "accept-title" }, icon("scan-line"), t("family.accept")), accept));

  async function invite() {
    try {
      const answer = await api.post("/api/v1/family/invitations");
      const picture = h("div", { class: "qr small", role: "img", "aria-label": t("family.inviteCode", { code: answer.code }) });
      picture.innerHTML = answer.qr_svg.replace(/^<\?xml[^>]*>/, "");
      invitation.replaceChildren(h("p", { class: "big-code", text: t("family.inviteCode", { code: answer.code }) }),
        picture, h("p", { text: t("family.inviteHelp") }));
      await load();
    } catch (error) {
      show(box, explain(error));
    }
  }

  accept.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(accept);
    const code = accept.invite_code.value.trim();
    if (!code) {
      fieldError("invite_code", t("error.required", { field: t("family.code") }));
      return show(box, t("error.required", { field: t("family.code") }));
    }
    try {
      await api.post("/api/v1/family/accept", { code });
      accept.reset();
      show(box, t("family.accepted"), "ok");
      await load();
    } catch (error) {
      fieldError("invite_code", explain(error));
      show(box, explain(error));
    }
  });

  async function load() {
    const { given: mine, received: theirs } = await api.get("/api/v1/family");
    const here = new Set((await holders.list()).map((holder) => holder.id));
    given.replaceChildren(...(mine.length ? mine.map((grant) => h("li", {},
      h("span", { class: "row-main" }, h("span", { class: "row-title", text: grant.member || t("family.someone") }),
        h("span", { class: "row-sub", text: t("family." + grant.status) })),
      grant.status !== "revoked" ? h("button", { type: "button", class: "danger-outline", onclick: () => revoke(grant, "given") }, t("family.revoke")) : null))
      : [h("li", { class: "empty", text: t("family.noneGiven") })]));
    received.replaceChildren(...(theirs.length ? theirs.map((grant) => h("li", {},
      h("span", { class: "row-main" }, h("span", { class: "row-title" }, h("span", { class: "family-badge", text: t("code.familyOf", { name: grant.holder_masked_name }) }))),
      here.has(holders.holderId(grant.id))
        ? h("a", { class: "button", href: "#/code" }, icon("qr-code"), t("family.shown"))
        : h("button", { type: "button", class: "primary-soft", onclick: () => showHere(grant) }, icon("qr-code"), t("family.show")),
      h("button", { type: "button", class: "danger-outline", onclick: () => revoke(grant, "received") }, t("family.revoke"))))
      : [h("li", { class: "empty", text: t("family.noneReceived") })]));
  }

  async function showHere(grant) {
    try {
      await holders.activate({ grantId: grant.id, label: grant.holder_masked_name });
      location.hash = "#/code";
    } catch (error) {
      show(box, explain(error));
    }
  }

  async function revoke(grant, side) {
    const name = side === "given" ? grant.member || t("family.someone") : grant.holder_masked_name;
    const sure = await confirmDialog({ titleKey: "family.revokeTitle", bodyKey: `family.revokeBody.${side}`,
      confirmKey: "family.revoke", vars: { name } });
    if (!sure) return;
    try {
      await api.post(`/api/v1/family/grants/${grant.id}/revoke`);
      await holders.forget(holders.holderId(grant.id));
      show(box, t("family.revokedDone", { name }), "ok");
      await load();
    } catch (error) {
      show(box, explain(error));
    }
  }

  if (!online) return;
  try {
    await load();
  } catch (error) {
    show(box, explain(error));
  }
}
