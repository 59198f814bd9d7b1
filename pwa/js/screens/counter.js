// The cashier's console: scan (camera, keyboard-wedge scanner or typing), see whose rules apply,
// type the bill, preview, settle once, print the receipt, refund the same day.
import * as api from "../api.js";
import { currentLanguage, t } from "../i18n.js";
import { startCamera } from "../scanner.js";
import { explain, h, message, screen, show, yuan } from "../ui.js";

const CATEGORIES = ["registration", "drug", "examination", "treatment", "material"];
const CLASSES = ["A", "B", "C"];
let stopCamera = null;

export function stopCounter() {
  stopCamera?.();
  stopCamera = null;
}

function toFen(text) {
  const clean = String(text).trim().replace(/[,，\s]/g, "");
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(clean)) return null;
  const [whole, part = ""] = clean.split(".");
  return Number(whole) * 100 + Number(part.padEnd(2, "0"));
}

export function counterScreen() {
  const state = { scan: null, settlement: null };
  const box = message();
  const wedge = h("input", { id: "wedge", autocomplete: "off", spellcheck: "false", autofocus: true });
  const video = h("video", { id: "camera", muted: true, playsinline: true, hidden: true, "aria-hidden": "true" });
  const cameraButton = h("button", { type: "button", id: "camera-toggle", text: t("counter.camera") });
  const holder = h("section", { id: "holder", "aria-live": "assertive" }, h("p", { class: "secondary", text: t("counter.waiting") }));
  const lines = h("tbody");
  const bill = h("form", { id: "bill", novalidate: true, hidden: true },
    h("h3", { text: t("counter.bill") }),
    h("table", { class: "bill" },
      h("thead", {}, h("tr", {}, ...["counter.category", "counter.class", "counter.amount", "counter.description", ""].map(
        (key) => h("th", { scope: "col", text: key ? t(key) : "" })))),
      lines),
    h("button", { type: "button", id: "add-line", text: t("counter.addLine"), onclick: () => addLine() }),
    h("div", { class: "check" }, h("input", { type: "checkbox", id: "use-account", checked: true }),
      h("label", { for: "use-account", text: t("counter.useAccount") })),
    h("button", { type: "button", id: "preview", text: t("counter.preview"), onclick: () => run(preview) }),
    h("div", { id: "split", "aria-live": "polite" }),
    h("button", { type: "submit", id: "settle", class: "primary", text: t("counter.settle"), disabled: true }));
  const receipt = h("section", { id: "receipt", hidden: true });
  screen("counter.title",
    h("div", { class: "field" }, h("label", { for: "wedge", text: t("counter.wedge") }), wedge),
    cameraButton, video, box, holder, bill, receipt);
  wedge.focus();

  wedge.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const code = wedge.value.trim();
    wedge.value = "";
    if (code) run(() => scanned(code));
  });
  cameraButton.addEventListener("click", async () => {
    if (stopCamera) {
      stopCounter();
      video.hidden = true;
      cameraButton.textContent = t("counter.camera");
      return;
    }
    try {
      stopCamera = await startCamera(video, (code) => run(() => scanned(code)));
      video.hidden = false;
      cameraButton.textContent = t("counter.cameraOff");
    } catch (error) {
      show(box, explain({ code: "camera", message: error.message }));
    }
  });
  bill.addEventListener("submit", (event) => {
    event.preventDefault();
    run(settle);
  });

  async function run(action) {
    show(box, "");
    try {
      await action();
    } catch (error) {
      show(box, explain(error));
    }
  }

  function addLine(category = "drug", klass = "A", amount = "", description = "") {
    const select = (name, options, value, label) => h("select", { name, "aria-label": label },
      options.map((option) => h("option", { value: option, selected: option === value, text: name === "category" ? t(`cat.${option}`) : option })));
    const row = h("tr", {},
      h("td", {}, select("category", CATEGORIES, category, t("counter.category"))),
      h("td", {}, select("coverage_class", CLASSES, klass, t("counter.class"))),
      h("td", {}, h("input", { name: "amount", inputmode: "decimal", value: amount, "aria-label": t("counter.amount") })),
      h("td", {}, h("input", { name: "description", value: description, "aria-label": t("counter.description") })),
      h("td", {}, h("button", { type: "button", text: t("counter.removeLine"), onclick: () => row.remove() })));
    lines.append(row);
    bill.querySelector("#settle").disabled = true;
  }

  function billLines() {
    return [...lines.children].map((row, index) => {
      const fen = toFen(row.querySelector("[name=amount]").value);
      if (!fen) throw new api.ApiError(422, "bad_lines", `${index + 1}: ${t("counter.amount")}`);
      return { category: row.querySelector("[name=category]").value, coverage_class: row.querySelector("[name=coverage_class]").value,
        amount_fen: fen, description: row.querySelector("[name=description]").value };
    });
  }

  async function scanned(code) {
    state.scan = null;
    receipt.hidden = true;
    bill.hidden = true;
    try {
      const answer = await api.post("/api/v1/verify", { code, context: "hospital" });
      state.scan = answer;
      const region = answer.home_region_name[currentLanguage() === "en" ? "en" : "zh"];
      holder.className = "ok-card";
      holder.replaceChildren(...[
        h("p", { class: "who", text: t("counter.holder", { name: answer.masked_name, region, cls: t("class." + answer.insurance_class) }) }),
        h("p", { text: t("counter.rules", { region }) }),
        h("p", { text: `${t(answer.cross_region ? "counter.cross" : "counter.local")} · ${t("counter.pa", { yuan: yuan(answer.personal_account_fen) })}` }),
        answer.family_holder ? h("p", { class: "tag", text: t("counter.family") }) : null].filter(Boolean));
      lines.replaceChildren();
      addLine("registration", "A");
      bill.hidden = false;
      bill.querySelector("#split").replaceChildren();
    } catch (error) {
      holder.className = "refused-card";
      holder.replaceChildren(h("p", { class: "big", text: t("counter.refused") }), h("p", { role: "alert", text: explain(error) }));
    } finally {
      wedge.focus();
    }
  }

  function splitTable(split) {
    const row = (key, fen) => h("tr", {}, h("th", { scope: "row", text: t(key) }), h("td", { text: t("yuan", { yuan: yuan(fen) }) }));
    return h("table", { class: "split" }, h("tbody", {},
      row("counter.total", split.total_fen), row("counter.fund", split.fund_fen),
      row("counter.account", split.personal_account_fen), row("counter.cash", split.cash_fen),
      row("counter.deductible", split.deductible_fen)));
  }

  async function preview() {
    const answer = await api.post("/api/v1/settlements/preview", { scan_id: state.scan.scan_id, lines: billLines(),
      use_personal_account: bill.querySelector("#use-account").checked });
    bill.querySelector("#split").replaceChildren(splitTable(answer.split));
    bill.querySelector("#settle").disabled = false;
  }

  async function settle() {
    const key = state.key || (state.key = crypto.randomUUID());  // a retry reuses the same key
    const answer = await api.post("/api/v1/settlements", { scan_id: state.scan.scan_id, lines: billLines(),
      use_personal_account: bill.querySelector("#use-account").checked }, { "Idempotency-Key": key });
    state.key = null;
    showReceipt(answer.settlement);
  }

  function showReceipt(settlement) {
    bill.hidden = true;
    const reason = h("input", { id: "refund-reason", "aria-label": t("counter.refundReason"), placeholder: t("counter.refundReason") });
    receipt.hidden = false;
    receipt.replaceChildren(
      h("h3", { text: `${t("counter.receipt")} #${settlement.id}` }),
      h("p", { text: `${settlement.created_at.slice(0, 19).replace("T", " ")} · ${settlement.institution}` }),
      h("ul", { class: "list" }, settlement.lines.map((line) => h("li", {},
        h("span", { text: `${t("cat." + line.category)} ${line.description} (${line.coverage_class})` }),
        h("span", { text: t("yuan", { yuan: yuan(line.amount_fen) }) })))),
      splitTable(settlement),
      h("button", { type: "button", text: t("counter.print"), onclick: () => window.print() }),
      h("div", { class: "refund" }, reason, h("button", { type: "button", id: "refund", text: t("counter.refund"),
        onclick: () => run(async () => {
          const answer = await api.post(`/api/v1/settlements/${settlement.id}/refund`, { reason: reason.value });
          receipt.append(h("p", { class: "message ok", role: "status", text: `${t("counter.refunded")} #${answer.refund.id}` }));
        }) })),
      h("button", { type: "button", class: "primary", text: t("counter.next"), onclick: () => {
        receipt.hidden = true;
        holder.className = "";
        holder.replaceChildren(h("p", { class: "secondary", text: t("counter.waiting") }));
        wedge.focus();
      } }));
  }
}
