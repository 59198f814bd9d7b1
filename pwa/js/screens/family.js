// Family codes: invite a relative, accept an invitation, show a relative's codes, revoke.
import * as api from "../api.js";
import * as holders from "../holders.js";
import { t } from "../i18n.js";
import { explain, field, h, message, screen, show } from "../ui.js";

export async function familyScreen() {
  const box = message();
  const invitation = h("div", { class: "invitation", "aria-live": "polite" });
  const given = h("ul", { class: "list" });
  const received = h("ul", { class: "list" });
  const accept = h("form", { novalidate: true },
    field("invite_code", "family.code", { autocomplete: "off", maxlength: 9, autocapitalize: "characters" }),
    h("button", { type: "submit", text: t("family.acceptButton") }));
  screen("family.title",
    h("p", { class: "secondary", text: t("family.intro") }),
    h("button", { type: "button", class: "primary", text: t("family.invite"), onclick: invite }),
    invitation,
    h("h3", { text: t("family.accept") }), accept, box,
    h("h3", { text: t("family.given") }), given,
    h("h3", { text: t("family.received") }), received);

  async function invite() {
    try {
      const answer = await api.post("/api/v1/family/invitations");
      const picture = h("div", { class: "qr small", role: "img", "aria-label": t("family.inviteCode", { code: answer.code }) });
      picture.innerHTML = answer.qr_svg.replace(/^<\?xml[^>]*>/, "");
      invitation.replaceChildren(h("p", { class: "big-code", text: t("family.inviteCode", { code: answer.code }) }),
        picture, h("p", { class: "secondary", text: t("family.inviteHelp") }));
      await load();
    } catch (error) {
      show(box, explain(error));
    }
  }

  accept.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = accept.invite_code.value.trim();
    if (!code) return show(box, t("error.required", { field: t("family.code") }));
    try {
      await api.post("/api/v1/family/accept", { code });
      accept.reset();
      await load();
    } catch (error) {
      show(box, explain(error));
    }
  });

  async function load() {
    const { given: mine, received: theirs } = await api.get("/api/v1/family");
    const here = new Set((await holders.list()).map((holder) => holder.id));
    given.replaceChildren(...(mine.length ? mine.map((grant) => h("li", {},
      h("span", { text: grant.status === "active" ? grant.member : `${grant.member || ""} ${t("family." + grant.status)}`.trim() }),
      grant.status !== "revoked" ? h("button", { type: "button", text: t("family.revoke"), onclick: () => revoke(grant) }) : null))
      : [h("li", { text: t("family.none") })]));
    received.replaceChildren(...(theirs.length ? theirs.map((grant) => h("li", {},
      h("span", { text: grant.holder_masked_name }),
      here.has(holders.holderId(grant.id))
        ? h("span", { class: "tag", text: t("family.shown") })
        : h("button", { type: "button", text: t("family.show"), onclick: () => showHere(grant) }),
      h("button", { type: "button", text: t("family.revoke"), onclick: () => revoke(grant) })))
      : [h("li", { text: t("family.none") })]));
  }

  async function showHere(grant) {
    try {
      await holders.activate({ grantId: grant.id, label: grant.holder_masked_name });
      location.hash = "#/code";
    } catch (error) {
      show(box, explain(error));
    }
  }

  async function revoke(grant) {
    try {
      await api.post(`/api/v1/family/grants/${grant.id}/revoke`);
      await holders.forget(holders.holderId(grant.id));
      await load();
    } catch (error) {
      show(box, explain(error));
    }
  }

  try {
    await load();
  } catch (error) {
    show(box, explain(error));
  }
}
