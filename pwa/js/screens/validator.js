// The validator kiosk: decides offline from cached trust data, writes the ride before the green,
// uploads later. Full-screen green (fare, line) or red (the reason), with distinct sounds. At rest it
// shows its line, its bus, what waits to be uploaded and how fresh its data is, in large type; the
// keyboard-wedge scanner types into a focused but invisible field. No language or elder buttons.
// The kiosk's frame is shared with the venue gate (kiosk.js).
import * as idb from "../idb.js";
import { currentLanguage, t } from "../i18n.js";
import * as store from "../validator-store.js";
import { h, icon, yuan } from "../ui.js";
import { enrolForm, kioskScreen, refusal, runKiosk, stopKiosk } from "./kiosk.js";

export const stopValidator = stopKiosk;

export const validatorScreen = () => kioskScreen(store, enrol, kiosk);

const enrol = () => enrolForm({
  prefix: "val",
  url: "/api/v1/validators/enrol",
  async saved(pair, answer) {
    await idb.put("keys", { id: "validator", privateKey: pair.privateKey, publicKey: pair.publicKey });
    await store.saveEnrolment({ id: answer.id, label: answer.label || "", token: answer.token, line: answer.line });
    await store.refreshTrust(answer.token);
  },
  reopen: validatorScreen,
});

const lineName = (line) => (line ? line[currentLanguage() === "en" ? "name_en" : "name_zh"] : "");

const kiosk = (enrolled) => runKiosk({
  store: { ...store, pending: store.pendingRides },
  enrolled,
  title: "val.title",
  ready: "val.ready",
  badge: h("p", { id: "vehicle" }, icon("bus"), enrolled.label || t("val.number", { id: enrolled.id })),
  words: { offline: "val.offline", pending: "val.pending", uploaded: "val.uploaded", tooOld: "val.tooOld" },
  // At rest: the line and its fare, in large type.
  atRest(data) {
    const line = data?.line || enrolled.line;
    return [h("p", { class: "line-name", text: lineName(line) }),
      line ? h("p", { class: "fare", text: t("val.fare", { yuan: yuan(line.fare_fen) }) }) : null];
  },
  // The deny list names credentials (jti); sub is a per-credential pseudonym that means nothing here.
  check: (result, code, data) => (result.ok && data.denied.includes(result.claims.jti) ? { ok: false, error: "denied" } : result),
  keep: (result, code, now) => store.queueRide({ id: `${result.claims.jti}:${result.step}`, code, ridden_at: now }),
  said: (result, data) => [h("p", { class: "reason", text: result.ok
    ? t("val.ok", { yuan: yuan(data.line.fare_fen), line: lineName(data.line) })
    : result.error === "denied" ? t("val.denied") : refusal("val", result.error) })],
});
