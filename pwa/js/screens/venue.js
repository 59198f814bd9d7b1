// The venue gate (博物馆 · 图书馆 · 景区): decides offline from cached trust data with the same JS
// verifier as the bus validator, writes the visit before the green, uploads later. It answers only
// what the gate needs: "居民优惠" and the resident terms of this kind of venue, or a refusal in plain
// words — never a name. Online it also asks the server (replay guard, revocations as of now), within
// 1.5 s; past that, the offline decision stands. No language or elder buttons: a kiosk (kiosk.js).
import { currentLanguage, t } from "../i18n.js";
import { h, icon } from "../ui.js";
import { enrolForm, kioskScreen, refusal, runKiosk, stopKiosk } from "./kiosk.js";
import * as store from "./venue-store.js";

export const stopVenue = stopKiosk;

export const venueScreen = () => kioskScreen(store, enrol, kiosk);

const enrol = () => enrolForm({
  prefix: "venue",
  url: "/api/v1/venue-verifiers/enrol",
  async saved(pair, answer) {
    await store.saveKey(pair);
    await store.saveEnrolment({ id: answer.id, label: answer.label || "", token: answer.token, venue: answer.venue });
    await store.refreshTrust(answer.token);
  },
  reopen: venueScreen,
});

const venueName = (venue) => (venue ? (currentLanguage() === "en" && venue.name_en) || venue.name_zh : "");

const kiosk = (enrolled) => runKiosk({
  store: { ...store, pending: store.pendingVisits },
  enrolled,
  title: "venue.title",
  ready: "venue.ready",
  badge: h("p", { id: "gate" }, icon("map-pin"), enrolled.label || t("venue.number", { id: enrolled.id })),
  words: { offline: "venue.offline", pending: "venue.pending", uploaded: "venue.uploaded", tooOld: "venue.tooOld" },
  // At rest: the venue and what residents get here, in large type.
  atRest(data) {
    const venue = data?.venue || enrolled.venue;
    return [h("p", { class: "line-name", text: venueName(venue) }),
      venue ? h("p", { class: "fare", text: `${t("venue.kind." + venue.kind)} · ${t("venue.terms." + (data?.entry || "free"))}` }) : null];
  },
  // A med code is told as such at a gate; only the zone's residents get the terms; online, the
  // server's answer (a code used elsewhere, a revocation as of now) overrides a green.
  async check(result, code, data) {
    if (!result.ok) return result.error === "wrong_kind" ? { ok: false, error: "med_code_at_venue" } : result;
    if (!data.zone.includes(result.claims.reg)) return { ok: false, error: "not_zone_resident" };
    const online = await store.checkOnline(enrolled.token, code);
    return online && !online.ok ? online : result;
  },
  keep: (result, code, now) => store.queueVisit({ id: `${result.claims.jti}:${result.step}`, code, visited_at: now }),
  said: (result, data) => [h("p", { class: "reason", text: result.ok ? t("venue.ok") : refusal("venue", result.error) }),
    result.ok ? h("p", { class: "fare", text: t("venue.okTerms." + (data?.entry || "free")) }) : null],
});
