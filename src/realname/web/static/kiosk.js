// The counter: agent login, then one customer at a time through four steps (document, consent, live check,
// result), a receipt, and back to the start. Customer data lives only in this page's memory for one customer.
import { ApiError, api, auth, errorNode } from "./api.js";
import { enrolledKiosk } from "./device.js";
import { closeCamera, openCamera } from "./capture.js";
import { DOC_TYPES, FIELDS, cardBody, checkResidentId, normalizeNumber, validateCard } from "./card.js";
import { $, $$, busy, h, say, tx } from "./dom.js";
import { applyI18n, bindLangButton, t } from "./i18n.js";
import { fillIcons, icon } from "./icons.js";
import { previewHints, runLiveCheck } from "./live.js";

const COUNTER_ROLES = ["agent", "supervisor"];
const STEPS = ["doc", "consent", "live", "result"];
const IMAGE_CODES = ["not_an_image", "truncated_image", "empty_image", "too_many_pixels", "image_too_small",
                     "bad_base64", "missing_image", "no_face"];

const session = { me: null, settings: {} };
let customer = null; // { purpose, card, portrait (base64), consent, opened, result, registration }

// --- views ---------------------------------------------------------------------------------------------------

function showView(name) {
  for (const v of $$("main > section")) v.hidden = v.id !== `view-${name}`;
  const signedIn = name !== "login";
  $("#who").hidden = !signedIn;
  $("#logout").hidden = !signedIn;
  const heading = $(`#view-${name} h1`);
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

function gotoStep(step) {
  for (const s of STEPS) $(`#step-${s}`).hidden = s !== step;
  const at = STEPS.indexOf(step);
  for (const li of $$("#steps li")) {
    const i = STEPS.indexOf(li.dataset.step);
    li.classList.toggle("done", i < at);
    li.classList.toggle("current", i === at);
    if (i === at) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
  if (step !== "live") stopLive();
  const heading = $(`#step-${step} h2`);
  if (heading) heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function manualText() {
  const text = (session.settings && session.settings.manual_path) || "";
  return text.trim() ? h("span", {}, text) : tx("manual.default");
}

// --- login and session -------------------------------------------------------------------------------------

// Whether this browser is an enrolled kiosk, and whether the operator requires one (the demo operator does not).
function showDevice(s) {
  const kiosk = enrolledKiosk();
  const note = $("#kiosk-device");
  note.classList.toggle("alert", !kiosk && !!s.require_enrolled_kiosks);
  note.replaceChildren(kiosk ? tx("device.enrolled", { name: kiosk.name })
    : tx(s.require_enrolled_kiosks ? "device.required" : "device.relaxed"));
  note.hidden = false;
}

async function loadSession() {
  try {
    session.me = await api("/v1/me");
  } catch (err) {
    auth.token = null;
    showLogin(err instanceof ApiError && err.status === 401 ? null : err);
    return;
  }
  if (!COUNTER_ROLES.includes(session.me.role)) {
    auth.token = null;
    showLogin(null);
    $("#login-role").hidden = false;
    return;
  }
  try {
    session.settings = (await api("/v1/operator/settings")) || {};
  } catch {
    session.settings = {};
  }
  const me = session.me;
  const s = session.settings;
  $("#who-agent").textContent = me.username;
  $("#who-outlet").textContent = me.outlet_name || me.outlet_code || "—";
  $("#who-operator").textContent = me.operator_name || (s.operator && s.operator.name) || "—";
  showDevice(s);
  showView("home");
}

function showLogin(err) {
  endCustomer(false);
  showView("login");
  $("#login-role").hidden = true;
  say($("#login-error"), err ? errorNode(err) : null);
  $("#login-password").value = "";
  $("#login-username").focus();
}

async function onLogin(event) {
  event.preventDefault();
  const button = $("#login-submit");
  const username = $("#login-username").value.trim();
  const password = $("#login-password").value;
  if (!username || !password) {
    say($("#login-error"), tx("v.required"));
    (username ? $("#login-password") : $("#login-username")).focus();
    return;
  }
  busy(button, true);
  say($("#login-error"), null);
  try {
    const out = await api("/v1/auth/login", { json: { username, password } });
    auth.token = out.token;
    await loadSession();
  } catch (err) {
    say($("#login-error"), errorNode(err));
    $("#login-password").select();
  } finally {
    busy(button, false);
  }
}

async function onLogout() {
  try {
    await api("/v1/auth/logout", { method: "POST" });
  } catch {
    /* the token is dropped here either way */
  }
  auth.token = null;
  showLogin(null);
}

// --- one customer --------------------------------------------------------------------------------------------

function startCustomer(purpose) {
  endCustomer(false);
  customer = { purpose, card: null, portrait: null, consent: false, opened: null, result: null, registration: null };
  const title = $("#flow-h");
  title.dataset.i18n = purpose === "lookup" ? "home.lookup" : "home.register";
  title.textContent = t(title.dataset.i18n);
  showView("flow");
  gotoStep("doc");
  $("#f-doc_type").focus();
}

function endCustomer(goHome = true) {
  stopLive();
  customer = null;
  const form = $("#doc-form");
  form.reset();
  touched.clear();
  submitted = false;
  serverErrors.clear();
  for (const f of [...FIELDS, "portrait"]) showFieldError(f, null);
  const img = $("#portrait-preview");
  if (img.src) URL.revokeObjectURL(img.src);
  img.removeAttribute("src");
  img.hidden = true;
  for (const id of ["#doc-error", "#reader-file-msg", "#consent-error", "#consent-status", "#live-error"]) {
    say($(id), null);
  }
  $("#manual").hidden = true;
  $("#result-body").replaceChildren();
  $("#receipt-fields").replaceChildren();
  syncDocType();
  if (goHome) showView("home");
}

// --- step 1: the document --------------------------------------------------------------------------------------

const touched = new Set();
let submitted = false; // after the first "Next", every field shows its problem
const serverErrors = new Map(); // field -> { node, value }: the server's refusal, shown until the field changes

function formValues() {
  const v = {};
  for (const f of FIELDS) v[f] = $(`#f-${f}`).value;
  v.long_term = $("#f-long_term").checked;
  return v;
}

function fieldValue(field) {
  if (field === "portrait") return customer ? customer.portrait : null;
  const input = $(`#f-${field}`);
  return input ? input.value : null;
}

function showFieldError(field, node) {
  const box = $(`#e-${field}`);
  const input = $(`#f-${field}`);
  if (!box) return false;
  say(box, node);
  if (input) {
    if (node) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  return true;
}

function validateForm({ all = false } = {}) {
  const values = formValues();
  const errors = validateCard(values);
  if (!customer || !customer.portrait) errors.portrait = { key: "v.portrait" };
  // The number is checked as soon as it is complete, before the agent leaves the field.
  const n = normalizeNumber(values.number);
  const numberLive = values.doc_type === "prc_id" && n.length > 0 && checkResidentId(n, { complete: false });
  for (const f of [...FIELDS, "portrait"]) {
    const show = all || submitted || touched.has(f) || (f === "number" && (n.length >= 18 || numberLive));
    const e = f === "number" && !errors.number && numberLive ? numberLive : errors[f];
    const server = serverErrors.get(f);
    const stillServer = server && server.value === fieldValue(f);
    if (server && !stillServer) serverErrors.delete(f);
    showFieldError(f, show && e ? tx(e.key, e.vars) : stillServer ? server.node : null);
  }
  return errors;
}

function syncDocType() {
  const type = $("#f-doc_type").value;
  $(".foreign").hidden = !["foreign_permanent_residence", "passport"].includes(type);
  $(".passport").hidden = type !== "passport";
  $("#h-number").hidden = type !== "prc_id";
  $("#f-long_term").disabled = false;
  $("#f-expiry_date").disabled = $("#f-long_term").checked;
}

function fromReader(data) {
  const card = data && typeof data.card === "object" && data.card ? data.card : data;
  if (!card || typeof card !== "object" || !DOC_TYPES.includes(card.doc_type)) return false;
  for (const f of FIELDS) {
    const el = $(`#f-${f}`);
    let v = card[f];
    if (f === "sex" && typeof v === "string") v = { 男: "M", 女: "F" }[v.trim()] || v.trim().toUpperCase();
    el.value = v === null || v === undefined ? "" : String(v);
  }
  // Reader fields the form does not show travel on unchanged (the issuing authority, 签发机关).
  customer.extra = typeof card.issuing_authority === "string" ? { issuing_authority: card.issuing_authority } : {};
  const longTerm = card.expiry_date === null || card.expiry_date === "长期";
  $("#f-long_term").checked = longTerm;
  if (longTerm) $("#f-expiry_date").value = "";
  const portrait = data.portrait || card.portrait || data.photo || card.photo;
  if (typeof portrait === "string" && portrait.length > 16) {
    const b64 = portrait.startsWith("data:") ? portrait.split(",", 2)[1] : portrait;
    setPortrait(b64, base64Blob(b64));
    say($("#reader-file-msg"), tx("doc.portrait.from_file"));
  }
  for (const f of FIELDS) touched.add(f);
  syncDocType();
  // A signing reader's output goes to the server as it was signed (its fields, the attestation, a passport
  // chip's data groups), as long as the form still shows what the reader read; an edit drops the signature.
  customer.reader = null;
  if (card.attestation || card.chip) {
    const signed = { ...card };
    delete signed.portrait;
    customer.reader = { card: signed, snapshot: JSON.stringify(cardBody(formValues())) };
  }
  return true;
}

function base64Blob(b64) {
  try {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Blob([bytes], { type: "image/jpeg" });
  } catch {
    return null;
  }
}

function setPortrait(b64, blob) {
  customer.portrait = b64;
  const img = $("#portrait-preview");
  if (img.src) URL.revokeObjectURL(img.src);
  if (blob) {
    img.src = URL.createObjectURL(blob);
    img.hidden = false;
  }
  touched.add("portrait");
  validateForm();
}

async function onReaderFile() {
  const file = $("#reader-file").files[0];
  if (!file) return;
  try {
    const ok = fromReader(JSON.parse(await file.text()));
    say($("#reader-file-msg"), tx(ok ? "doc.file.read" : "doc.file.bad"));
  } catch {
    say($("#reader-file-msg"), tx("doc.file.bad"));
  }
  validateForm();
}

async function onPortraitFile() {
  const file = $("#f-portrait").files[0];
  touched.add("portrait");
  if (!file) return;
  if (!/^image\/(jpeg|png|bmp)$/.test(file.type)) {
    customer.portrait = null;
    showFieldError("portrait", tx("v.portrait_type"));
    return;
  }
  const dataUrl = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = reject;
    reader.readAsDataURL(file);
  });
  setPortrait(String(dataUrl).split(",", 2)[1], file);
}

function focusFirstError() {
  const first = $$("#doc-form [aria-invalid=true]")[0];
  if (first) first.focus();
}

async function onDocSubmit(event) {
  event.preventDefault();
  submitted = true;
  const errors = validateForm({ all: true });
  if (Object.keys(errors).length) {
    say($("#doc-error"), tx("doc.fix"));
    focusFirstError();
    return;
  }
  say($("#doc-error"), null);
  const typed = cardBody(formValues());
  customer.card = customer.reader && JSON.stringify(typed) === customer.reader.snapshot
    ? customer.reader.card : { ...typed, ...(customer.extra || {}) };
  if (customer.consent) {
    // The customer already agreed (the server had refused a field, now corrected): open straight away.
    await openVerification($("#doc-submit"), $("#doc-error"));
  } else {
    gotoStep("consent");
  }
}

// The server's refusal of a card field goes next to that field.
function showServerFieldError(err) {
  gotoStep("doc");
  const field = IMAGE_CODES.includes(err.code) ? "portrait" : err.field;
  const node = errorNode(err);
  if (field && showFieldError(field, node)) {
    serverErrors.set(field, { node, value: fieldValue(field) });
    const input = $(`#f-${field}`);
    if (input) input.focus();
    return;
  }
  say($("#doc-error"), errorNode(err));
}

// --- step 2: consent, then the verification is opened -----------------------------------------------------------

async function openVerification(button, errorRegion) {
  busy(button, true);
  say($("#consent-status"), button.id === "consent-accept" ? tx("consent.busy") : null);
  try {
    customer.opened = await api("/v1/verifications", {
      json: { purpose: customer.purpose, card: customer.card, portrait: customer.portrait,
              consent_face_processing: true },
      proof: true,
    });
    gotoStep("live");
    beginLive();
  } catch (err) {
    if (err instanceof ApiError && (err.field || IMAGE_CODES.includes(err.code) || err.code === "invalid_document")) {
      showServerFieldError(err);
    } else {
      say(errorRegion, errorNode(err));
      if (err instanceof ApiError && err.code === "too_many_attempts") showManual();
    }
  } finally {
    busy(button, false);
    say($("#consent-status"), null);
  }
}

function showManual() {
  gotoStep("consent");
  $("#manual-text").replaceChildren(manualText());
  $("#manual").hidden = false;
  $("#manual").focus();
}

// --- step 3: the live check ------------------------------------------------------------------------------------

let live = null; // { stream, abort, stopHints }

function stopLive() {
  if (!live) return;
  live.abort.abort();
  if (live.stopHints) live.stopHints();
  closeCamera($("#video"), live.stream);
  live = null;
}

async function reopen() {
  customer.opened = await api("/v1/verifications", {
    json: { purpose: customer.purpose, card: customer.card, portrait: customer.portrait,
            consent_face_processing: true },
    proof: true,
  });
}

async function beginLive() {
  stopLive();
  live = { stream: null, abort: new AbortController(), stopHints: null };
  const mine = live;
  const startButton = $("#live-start");
  say($("#live-error"), null);
  $("#live-manual").hidden = true;
  $("#progress").value = 0;
  setPrompt("face", { key: "live.camera_wait" });
  $("#hints").replaceChildren();
  startButton.disabled = true;
  try {
    mine.stream = await openCamera($("#video"));
  } catch (err) {
    if (live !== mine) return;
    const key = err && err.name === "NotFoundError" ? "live.camera_missing" : "live.camera_denied";
    say($("#live-error"), tx(key));
    showLiveManual();
    startButton.disabled = false;
    startButton.dataset.i18n = "retry";
    startButton.textContent = t("retry");
    return;
  }
  if (live !== mine) {
    closeCamera(null, mine.stream);
    return;
  }
  fitCamera($("#video"));
  if (customer.opened) mine.stopHints = previewHints($("#video"), customer.opened.id, $("#hints"));
  setPrompt("face", { key: "live.ready" });
  startButton.dataset.i18n = "live.start";
  startButton.textContent = t("live.start");
  startButton.disabled = false;
  startButton.focus();
}

// The camera box takes the picture's own shape (no cropping), within 560 x 530 pixels.
function fitCamera(video) {
  const ratio = video.videoWidth / video.videoHeight || 4 / 3;
  let w = 560;
  let hgt = w / ratio;
  if (hgt > 530) {
    hgt = 530;
    w = hgt * ratio;
  }
  video.parentElement.style.width = `${Math.round(w)}px`;
  video.parentElement.style.height = `${Math.round(hgt)}px`;
}

function showLiveManual() {
  const box = $("#live-manual");
  box.querySelector("[data-manual]").replaceChildren(manualText());
  box.hidden = false;
}

function setPrompt(iconName, { key = null, vars = null, bi = null, step = null } = {}) {
  $("#prompt-icon").replaceChildren(icon(iconName, { size: 96 }));
  $("#prompt-text").replaceChildren(bi ? h("span", { bi }) : tx(key, vars));
  $("#prompt-step").replaceChildren(step ? tx("live.step", step) : "");
}

async function onLiveStart() {
  const button = $("#live-start");
  if (!live || !live.stream) {
    beginLive();
    return;
  }
  busy(button, true);
  say($("#live-error"), null);
  const mine = live;
  if (mine.stopHints) mine.stopHints();
  mine.stopHints = null;
  try {
    const outcome = await runLiveCheck({
      video: $("#video"), customer, reopen, setPrompt, signal: mine.abort.signal,
      progress: $("#progress"), hints: $("#hints"),
    });
    if (live !== mine) return;
    customer.result = outcome;
    gotoStep("result");
    renderResult();
  } catch (err) {
    if (err && err.name === "AbortError") return;
    if (live !== mine) return;
    setPrompt("warning", { key: "live.restart" });
    say($("#live-error"), errorNode(err));
    button.dataset.i18n = "live.restart";
    button.textContent = t("live.restart");
    // A used or expired challenge cannot be started again: the next press opens a new one.
    if (err instanceof ApiError && err.code.startsWith("challenge_")) customer.opened = null;
    if (err instanceof ApiError && err.code === "too_many_attempts") showLiveManual();
  } finally {
    busy(button, false);
  }
}

// --- step 4: the result ----------------------------------------------------------------------------------------

const CATEGORY = {
  attack: ["screen_or_photo", "flat_motion", "different_person", "multiple_faces", "light_uniform", "light_lag"],
  // Alone, a face that did not take the screen's light is what a photo or a video gives, but also a customer too
  // far from the screen in a bright shop: the counter says how to retry rather than "attack".
  light: ["light_response"],
  action: ["action_missing", "turn_further", "action_too_slow", "not_frontal_between"],
  mismatch: ["face_mismatch"],
  // Half a face is not compared at all: the customer moves and retakes (no decision about the face was made).
  framing: ["face_cut_off"],
};

// The one plain-words category the counter shows for a failure (never a score). A suspected attack outranks the
// light, which outranks a missed action (a replay also misses its timing), a face mismatch and capture problems.
function failureCategory(reasons) {
  for (const cat of ["attack", "light", "action", "mismatch", "framing"]) {
    if ((reasons || []).some((r) => CATEGORY[cat].includes(r))) return cat;
  }
  return "capture";
}

function newCustomerButton() {
  return h("button", { type: "button", class: "btn", onclick: () => endCustomer(true), i18n: "result.new_customer" });
}

function renderResult() {
  const body = $("#result-body");
  const r = customer.result;
  body.replaceChildren();
  if (r.decision === "pass") {
    if (customer.purpose === "lookup") renderLookup(body);
    else renderPass(body);
  } else if (r.decision === "review") {
    renderReview(body);
  } else {
    renderFail(body);
  }
}

function outcomeHead(kind, iconName, key) {
  return h("div", { class: `outcome ${kind}`, role: "status" }, icon(iconName, { size: 56 }),
           h("p", { class: "outcome-title", i18n: key }));
}

function renderPass(body) {
  const err = h("p", { class: "alert", role: "alert", hidden: true });
  const input = h("input", { id: "r-msisdn", inputmode: "tel", autocomplete: "off", maxlength: "20",
                             "aria-describedby": "r-msisdn-help", class: "mono" });
  const button = h("button", { type: "submit", class: "btn primary big", i18n: "result.register" });
  const form = h("form", { class: "offer", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    busy(button, true);
    say(err, null);
    try {
      const json = { verification_id: customer.result.id };
      if (input.value.trim()) json.msisdn = input.value.trim();
      customer.registration = await api("/v1/registrations", { json, proof: true });
      renderIssued(body);
    } catch (e) {
      say(err, errorNode(e));
      input.focus();
    } finally {
      busy(button, false);
    }
  } },
  h("p", { i18n: "result.offer" }),
  h("div", { class: "field" }, h("label", { for: "r-msisdn", i18n: "result.msisdn" }), input,
    h("p", { class: "help", id: "r-msisdn-help", i18n: "result.msisdn.help" })),
  err, h("div", { class: "actions" }, newCustomerButton(), button));
  body.append(outcomeHead("pass", "check", "result.pass"), h("p", { class: "lead", i18n: "result.pass.lead" }), form);
  button.focus();
}

function renderIssued(body) {
  const reg = customer.registration;
  const err = h("p", { class: "alert", role: "alert", hidden: true });
  const confirm = h("button", { type: "button", class: "btn primary big", i18n: "result.confirm", onclick: async () => {
    busy(confirm, true);
    try {
      await showReceipt();
    } catch (e) {
      say(err, errorNode(e));
    } finally {
      busy(confirm, false);
    }
  } });
  body.replaceChildren(
    outcomeHead("pass", "phone", "result.issued"),
    h("p", { class: "msisdn", id: "issued-msisdn" }, reg.msisdn),
    h("p", { class: "lead", i18n: "result.issued.lead" }), err,
    h("div", { class: "actions" }, confirm));
  confirm.focus();
}

async function renderLookup(body) {
  body.append(outcomeHead("pass", "check", "result.pass"), h("p", { class: "msg", i18n: "loading" }));
  let numbers;
  try {
    numbers = await api("/v1/numbers/mine", { json: { verification_id: customer.result.id } });
  } catch (e) {
    body.replaceChildren(outcomeHead("pass", "check", "result.pass"),
                         h("p", { class: "alert", role: "alert" }, errorNode(e)),
                         h("div", { class: "actions" }, newCustomerButton()));
    return;
  }
  const rows = numbers.map((n) => h("tr", {},
    h("td", { class: "mono" }, n.msisdn), h("td", {}, n.operator),
    h("td", { i18n: `status.${n.status}` }), h("td", { when: n.since })));
  body.replaceChildren(
    outcomeHead("pass", "search", "result.lookup.title"),
    numbers.length
      ? h("div", {}, h("p", { i18n: "result.lookup.count", vars: { n: numbers.length } }),
          h("table", { class: "table" },
            h("thead", {}, h("tr", {}, ["col.msisdn", "col.operator", "col.status", "col.since"]
              .map((k) => h("th", { scope: "col", i18n: k })))),
            h("tbody", {}, rows)))
      : h("p", { i18n: "result.lookup.none" }),
    h("div", { class: "actions" }, newCustomerButton()));
}

function renderFail(body) {
  const r = customer.result;
  const cat = failureCategory(r.reasons);
  const left = r.retries_left;
  const again = h("button", { type: "button", class: "btn primary big", i18n: "result.again", onclick: async () => {
    busy(again, true);
    try {
      await reopen();
      gotoStep("live");
      beginLive();
    } catch (e) {
      say(err, errorNode(e));
      if (e instanceof ApiError && e.code === "too_many_attempts") body.append(manualBox());
    } finally {
      busy(again, false);
    }
  } });
  const err = h("p", { class: "alert", role: "alert", hidden: true });
  const canRetry = left === null || left === undefined || left > 0;
  body.replaceChildren(h("div", {},
    h("div", { class: "outcome fail", role: "status" }, icon(cat === "attack" ? "warning" : "cross", { size: 56 }),
      h("div", {}, h("p", { class: "outcome-title", i18n: "result.fail" }),
        h("p", { class: "category", id: "fail-category", dataset: { category: cat },
                 i18n: `result.fail.cat.${cat}` }))),
    h("p", { class: "lead", i18n: `result.fail.desc.${cat}` }),
    left !== null && left !== undefined
      ? h("p", { class: "retries", id: "retries", i18n: left > 0 ? "result.retries" : "result.no_retries",
                 vars: { n: left } })
      : null,
    err,
    !canRetry || cat === "attack" ? manualBox() : null,
    h("div", { class: "actions" }, newCustomerButton(), canRetry ? again : null)));
  (canRetry ? again : body.querySelector("button")).focus();
}

function manualBox() {
  return h("div", { class: "manual" }, h("h3", { i18n: "manual.title" }), h("p", { i18n: "manual.lead" }),
           h("p", { class: "manual-text" }, manualText()));
}

function renderReview(body) {
  const msg = h("p", { class: "msg", role: "status", hidden: true });
  const check = h("button", { type: "button", class: "btn primary", i18n: "result.review.check", onclick: async () => {
    busy(check, true);
    try {
      const v = await api(`/v1/verifications/${encodeURIComponent(customer.result.id)}`);
      if (v.decision === "review") {
        say(msg, tx("result.review.waiting"));
      } else {
        customer.result = v;
        renderResult();
      }
    } catch (e) {
      say(msg, errorNode(e));
    } finally {
      busy(check, false);
    }
  } });
  body.append(
    h("div", { class: "outcome review", role: "status" }, icon("person", { size: 56 }),
      h("p", { class: "outcome-title", id: "review-title", i18n: "result.review" })),
    h("p", { class: "lead", i18n: "result.review.lead" }), msg,
    h("div", { class: "actions" }, newCustomerButton(), check));
  check.focus();
}

// --- the receipt -----------------------------------------------------------------------------------------------

function pick(obj, ...names) {
  for (const n of names) {
    const v = n.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
    if (v !== undefined && v !== null && v !== "" && typeof v !== "object") return v;
  }
  return null;
}

async function showReceipt() {
  const reg = customer.registration;
  let r = {};
  try {
    r = (await api(`/v1/registrations/${encodeURIComponent(reg.id)}/receipt`)) || {};
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  const me = session.me;
  const rows = [
    ["receipt.msisdn", pick(r, "msisdn", "number") || reg.msisdn, "big mono"],
    ["receipt.registration", pick(r, "registration_id", "registration_number", "receipt_number", "id") || reg.id,
     "mono"],
    ["receipt.person_number", pick(r, "person_number", "document_number") || reg.person_number, "mono"],
    ["receipt.name", pick(r, "name_masked")],
    ["receipt.doc_type", null, "", null, null, pick(r, "doc_type")],
    ["receipt.operator", pick(r, "operator_name", "operator.name", "operator") || $("#who-operator").textContent],
    ["receipt.outlet", pick(r, "outlet_name", "outlet.name", "outlet") || $("#who-outlet").textContent],
    ["receipt.agent", pick(r, "agent", "agent_name", "agent.username") || me.username],
    ["receipt.created_at", null, "", pick(r, "created_at", "registered_at", "issued_at") || reg.created_at],
    ["receipt.status", null, "", null, pick(r, "status") || reg.status],
  ];
  const fields = $("#receipt-fields");
  fields.replaceChildren();
  for (const [key, value, cls, time, status, docType] of rows) {
    if (value === null && !time && !status && !docType) continue;
    const dd = time ? h("dd", { when: time }) : status ? h("dd", { i18n: `status.${status}` })
      : docType ? h("dd", { i18n: `doc.type.${docType}` }) : h("dd", { class: cls || "" }, String(value));
    fields.append(h("div", {}, h("dt", { i18n: key }), dd));
  }
  fields.append(h("div", {}, h("dt", { i18n: "receipt.verification" }),
                  h("dd", { i18n: "receipt.verification.value" })));
  $("#receipt-operator").textContent = $("#who-operator").textContent;
  showView("receipt");
}

// --- wiring ----------------------------------------------------------------------------------------------------

function wire() {
  $("#login-form").addEventListener("submit", onLogin);
  $("#logout").addEventListener("click", onLogout);
  $("#go-register").addEventListener("click", () => startCustomer("register"));
  $("#go-lookup").addEventListener("click", () => startCustomer("lookup"));
  $("#flow-cancel").addEventListener("click", () => endCustomer(true));

  const form = $("#doc-form");
  form.addEventListener("submit", onDocSubmit);
  form.addEventListener("input", (ev) => {
    if (ev.target.id === "f-long_term" || ev.target.id === "f-doc_type") syncDocType();
    if (ev.target.type !== "file") validateForm();
  });
  form.addEventListener("change", (ev) => {
    if (ev.target.type !== "file") validateForm();
  });
  form.addEventListener("focusout", (ev) => {
    const name = ev.target.id.replace(/^f-/, "");
    if (FIELDS.includes(name)) {
      touched.add(name);
      validateForm();
    }
  });
  $("#reader-file").addEventListener("change", onReaderFile);
  $("#f-portrait").addEventListener("change", onPortraitFile);

  $("#consent-accept").addEventListener("click", () => {
    customer.consent = true;
    $("#manual").hidden = true;
    openVerification($("#consent-accept"), $("#consent-error"));
  });
  $("#consent-decline").addEventListener("click", showManual);
  $("#manual-back").addEventListener("click", () => {
    $("#manual").hidden = true;
    $("#consent-accept").focus();
  });
  $("#manual-finish").addEventListener("click", () => endCustomer(true));

  $("#live-start").addEventListener("click", onLiveStart);
  $("#receipt-print").addEventListener("click", () => window.print());
  $("#receipt-next").addEventListener("click", () => endCustomer(true));

  window.addEventListener("auth-lost", (ev) => showLogin(ev.detail));
  window.addEventListener("langchange", () => {
    if (customer && customer.result && !$("#step-result").hidden) applyI18n($("#result-body"));
  });
}

function init() {
  fillIcons();
  applyI18n();
  bindLangButton($("#lang"));
  wire();
  syncDocType();
  if (auth.token) loadSession();
  else showLogin(null);
}

init();
