// The back office: one login, the sections the role may use (from /v1/me), each drawn from the API.
import { ApiError, api, auth, errorNode } from "./api.js";
import { barChart, hbarChart } from "./charts.js";
import { $, busy, h, say, tx } from "./dom.js";
import { enrolThisKiosk, enrolledKiosk } from "./device.js";
import { applyI18n, bindLangButton, has, lang, t } from "./i18n.js";
import { fillIcons, icon } from "./icons.js";

const SECTIONS = [
  { id: "dashboard", roles: ["inspector", "auditor"], render: renderDashboard },
  { id: "reviews", roles: ["supervisor"], render: renderReviews },
  { id: "outlets", roles: ["operator_admin"], render: renderOutlets },
  { id: "users", roles: ["operator_admin"], render: renderUsers },
  { id: "numbers", roles: ["operator_admin"], render: renderNumbers },
  { id: "settings", roles: ["operator_admin"], render: renderSettings },
  { id: "devices", roles: ["operator_admin"], render: renderDevices },
  { id: "dashboard", roles: ["operator_admin"], render: renderDashboard },
];

let me = null;
let current = null;

function sectionsFor(role) {
  return SECTIONS.filter((s) => s.roles.includes(role));
}

// --- login -----------------------------------------------------------------------------------------------------

function showLogin(err) {
  me = null;
  $("#view-login").hidden = false;
  $("#view-office").hidden = true;
  $("#who").hidden = true;
  $("#logout").hidden = true;
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
    return;
  }
  busy(button, true);
  try {
    const out = await api("/v1/auth/login", { json: { username, password } });
    auth.token = out.token;
    await loadSession();
  } catch (err) {
    say($("#login-error"), errorNode(err));
  } finally {
    busy(button, false);
  }
}

async function loadSession() {
  try {
    me = await api("/v1/me");
  } catch (err) {
    auth.token = null;
    showLogin(err instanceof ApiError && err.status === 401 ? null : err);
    return;
  }
  if (!sectionsFor(me.role).length) {
    // A counter agent's token (the kiosk in this tab): the back office has nothing for them; log in again.
    auth.token = null;
    showLogin(null);
    say($("#login-error"), tx("office.no_sections"));
    return;
  }
  $("#who-user").textContent = me.username;
  const role = $("#who-role");
  role.dataset.i18n = `role.${me.role}`;
  role.textContent = t(role.dataset.i18n);
  $("#who-op-row").hidden = !me.operator_name;
  $("#who-operator").textContent = me.operator_name || "";
  $("#view-login").hidden = true;
  $("#view-office").hidden = false;
  $("#who").hidden = false;
  $("#logout").hidden = false;
  const mine = sectionsFor(me.role);
  const nav = $("#nav");
  nav.replaceChildren(...mine.map((s) => h("li", {}, h("button", {
    type: "button", id: `nav-${s.id}`, dataset: { section: s.id }, i18n: `nav.${s.id}`,
    onclick: () => open(s.id, true),
  }))));
  const wanted = location.hash.slice(1);
  open(mine.some((s) => s.id === wanted) ? wanted : mine[0].id, false);
}

async function onLogout() {
  try {
    await api("/v1/auth/logout", { method: "POST" });
  } catch {
    /* dropped here either way */
  }
  auth.token = null;
  history.replaceState(null, "", location.pathname);
  showLogin(null);
}

function open(id, focus) {
  const section = sectionsFor(me.role).find((s) => s.id === id);
  if (!section) return;
  current = id;
  for (const b of document.querySelectorAll("#nav button")) {
    if (b.dataset.section === id) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  history.replaceState(null, "", `#${id}`);
  const panel = $("#panel");
  panel.replaceChildren();
  section.render(panel);
  if (focus) {
    const heading = panel.querySelector("h1");
    if (heading) heading.focus();
  }
}

// --- helpers ---------------------------------------------------------------------------------------------------

function card(titleKey, ...children) {
  return h("section", { class: "card" }, h("h1", { tabindex: "-1", i18n: titleKey }), ...children);
}

function field(id, labelKey, control, helpKey = null) {
  if (helpKey) control.setAttribute("aria-describedby", `${id}-help`);
  return h("div", { class: "field" }, h("label", { for: id, i18n: labelKey }), control,
           helpKey ? h("p", { class: "help", id: `${id}-help`, i18n: helpKey }) : null);
}

function status() {
  return h("p", { class: "ok-msg", role: "status", hidden: true });
}

function alertBox() {
  return h("p", { class: "alert", role: "alert", hidden: true });
}

function table(headKeys, rows, { numeric = [] } = {}) {
  return h("table", { class: "table" },
    h("thead", {}, h("tr", {}, headKeys.map((k, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : "",
                                                               i18n: k })))),
    h("tbody", {}, rows));
}

async function submitting(button, okRegion, errRegion, work) {
  busy(button, true);
  say(okRegion, null);
  say(errRegion, null);
  try {
    const node = await work();
    if (node) say(okRegion, node);
    return true;
  } catch (err) {
    say(errRegion, errorNode(err));
    return false;
  } finally {
    busy(button, false);
  }
}

function reasonLabel(code) {
  return has(`reason.${code}`) ? tx(`reason.${code}`) : h("span", {}, code);
}

// --- outlets ---------------------------------------------------------------------------------------------------

function renderOutlets(panel) {
  const list = h("div", {}, h("p", { i18n: "loading" }));
  const ok = status();
  const err = alertBox();
  const code = h("input", { id: "o-code", required: true, maxlength: "32", autocomplete: "off" });
  const name = h("input", { id: "o-name", required: true, maxlength: "128", autocomplete: "off" });
  const region = h("input", { id: "o-region", maxlength: "16", inputmode: "numeric", autocomplete: "off" });
  const submit = h("button", { type: "submit", class: "btn primary", i18n: "outlets.add" });
  const form = h("form", { class: "form-row", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const done = await submitting(submit, ok, err, async () => {
      const body = { code: code.value.trim(), name: name.value.trim() };
      if (region.value.trim()) body.region = region.value.trim();
      await api("/v1/admin/outlets", { json: body });
      return tx("outlets.created", { code: body.code });
    });
    if (done) {
      form.reset();
      load();
    }
  } }, field("o-code", "outlets.code", code), field("o-name", "outlets.name", name),
  field("o-region", "outlets.region", region), submit);

  async function load() {
    try {
      const outlets = await api("/v1/admin/outlets");
      list.replaceChildren(outlets.length ? table(["outlets.code", "outlets.name", "outlets.region.short",
                                                   "outlets.active"], outlets.map((o) => h("tr", {},
        h("td", { class: "mono" }, o.code), h("td", {}, o.name), h("td", {}, o.region || "—"),
        h("td", {}, h("span", { class: `badge ${o.active ? "ok" : "muted"}`, i18n: o.active ? "yes" : "no" })))))
        : h("p", { i18n: "outlets.empty" }));
    } catch (e) {
      list.replaceChildren(h("p", { class: "alert", role: "alert" }, errorNode(e)));
    }
  }
  panel.append(card("outlets.title", list),
               h("section", { class: "card" }, h("h2", { i18n: "outlets.add" }), form, ok, err));
  load();
}

// --- devices: enrolled kiosks and signing card readers ----------------------------------------------------------

function renderDevices(panel) {
  const kioskList = h("div", {}, h("p", { i18n: "loading" }));
  const readerList = h("div", {}, h("p", { i18n: "loading" }));
  const ok = status();
  const err = alertBox();
  const name = h("input", { id: "k-name", required: true, maxlength: "80", autocomplete: "off" });
  const outlet = h("select", { id: "k-outlet", required: true });
  const enrol = h("button", { type: "submit", class: "btn primary", i18n: "devices.enrol" });
  const enrolForm = h("form", { class: "form-row", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const done = await submitting(enrol, ok, err, async () => {
      const kiosk = await enrolThisKiosk(api, outlet.value, name.value.trim());
      return tx("devices.enrolled", { name: kiosk.name });
    });
    if (done) {
      enrolForm.reset();
      load();
    }
  } }, field("k-name", "devices.name", name), field("k-outlet", "devices.outlet", outlet), enrol);

  const rOk = status();
  const rErr = alertBox();
  const readerId = h("input", { id: "r-id", required: true, maxlength: "64", autocomplete: "off" });
  const readerName = h("input", { id: "r-name", required: true, maxlength: "80", autocomplete: "off" });
  const publicKey = h("input", { id: "r-key", required: true, maxlength: "400", autocomplete: "off",
                                 class: "mono" });
  const addReader = h("button", { type: "submit", class: "btn", i18n: "devices.reader.add" });
  const readerForm = h("form", { class: "form-row", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const done = await submitting(addReader, rOk, rErr, async () => {
      const r = await api("/v1/readers", { json: { reader_id: readerId.value.trim(), name: readerName.value.trim(),
                                                    public_key: publicKey.value.trim() } });
      return tx("devices.reader.added", { id: r.reader_id });
    });
    if (done) {
      readerForm.reset();
      load();
    }
  } }, field("r-id", "devices.reader_id", readerId), field("r-name", "devices.reader.name", readerName),
  field("r-key", "devices.public_key", publicKey), addReader);

  function revokeButton(path, label) {
    return h("button", { type: "button", class: "btn small", "aria-label": label, i18n: "devices.revoke",
                         onclick: async (ev) => {
      const reason = window.prompt(t("devices.reason"));
      if (!reason) return;
      await submitting(ev.currentTarget, ok, err, async () => {
        await api(path, { json: { reason } });
        return null;
      });
      load();
    } });
  }

  async function load() {
    try {
      const [kiosks, outlets, readers] = await Promise.all([api("/v1/kiosks"), api("/v1/admin/outlets"),
                                                            api("/v1/readers")]);
      const codes = Object.fromEntries(outlets.map((o) => [o.id, o.code]));
      outlet.replaceChildren(...outlets.map((o) => h("option", { value: o.id }, `${o.code} ${o.name}`)));
      const here = enrolledKiosk();
      kioskList.replaceChildren(kiosks.length ? table(
        ["devices.col.name", "devices.col.outlet", "devices.col.used", "devices.col.state", "devices.revoke"],
        kiosks.map((k) => h("tr", { dataset: { kiosk: k.id } },
          h("td", {}, k.name, here && here.id === k.id ? h("span", { class: "badge", i18n: "devices.this" }) : null),
          h("td", { class: "mono" }, codes[k.outlet_id] || "—"),
          h("td", {}, k.last_used_at ? new Date(k.last_used_at).toLocaleString() : "—"),
          h("td", {}, h("span", { class: `badge ${k.revoked_at ? "muted" : "ok"}`,
                                  i18n: k.revoked_at ? "devices.revoked" : "devices.active" })),
          h("td", {}, k.revoked_at ? null : revokeButton(`/v1/kiosks/${encodeURIComponent(k.id)}/revoke`,
                                                         `${t("devices.revoke")} ${k.name}`)))))
        : h("p", { i18n: "devices.empty" }));
      readerList.replaceChildren(readers.length ? table(
        ["devices.reader_id", "devices.col.name", "devices.col.state", "devices.revoke"],
        readers.map((r) => h("tr", {}, h("td", { class: "mono" }, r.reader_id), h("td", {}, r.name),
          h("td", {}, h("span", { class: `badge ${r.revoked_at ? "muted" : "ok"}`,
                                  i18n: r.revoked_at ? "devices.revoked" : "devices.active" })),
          h("td", {}, r.revoked_at ? null : revokeButton(`/v1/readers/${encodeURIComponent(r.id)}/revoke`,
                                                         `${t("devices.revoke")} ${r.reader_id}`)))))
        : h("p", { i18n: "devices.readers.empty" }));
      applyI18n(panel);
    } catch (e) {
      kioskList.replaceChildren(h("p", { class: "alert", role: "alert" }, errorNode(e)));
    }
  }
  panel.append(card("devices.title", h("p", { class: "help", i18n: "devices.intro" }), kioskList),
               h("section", { class: "card" }, h("h2", { i18n: "devices.enrol" }), enrolForm, ok, err),
               h("section", { class: "card" }, h("h2", { i18n: "devices.readers" }),
                 h("p", { class: "help", i18n: "devices.readers.intro" }), readerList, readerForm, rOk, rErr));
  load();
}

// --- staff -----------------------------------------------------------------------------------------------------

function userState(u) {
  if (u.blacklisted) return ["bad", "users.state.blacklisted"];
  if (!u.active) return ["muted", "users.state.disabled"];
  return ["ok", "users.state.active"];
}

function renderUsers(panel) {
  const list = h("div", {}, h("p", { i18n: "loading" }));
  const listMsg = status();
  const listErr = alertBox();
  const ok = status();
  const err = alertBox();
  const username = h("input", { id: "u-username", required: true, minlength: "3", maxlength: "64",
                                autocomplete: "off", autocapitalize: "off" });
  const password = h("input", { id: "u-password", type: "password", required: true, minlength: "8",
                                autocomplete: "new-password" });
  const role = h("select", { id: "u-role" }, ["agent", "supervisor", "operator_admin"].map(
    (r) => h("option", { value: r, i18n: `role.${r}` })));
  const outlet = h("select", { id: "u-outlet" }, h("option", { value: "", i18n: "users.outlet.none" }));
  const submit = h("button", { type: "submit", class: "btn primary", i18n: "users.add" });
  let outlets = [];

  const form = h("form", { class: "form-row", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const done = await submitting(submit, ok, err, async () => {
      const body = { username: username.value.trim(), password: password.value, role: role.value };
      if (outlet.value) body.outlet_id = outlet.value;
      await api("/v1/admin/users", { json: body });
      return tx("users.created", { name: body.username });
    });
    if (done) {
      form.reset();
      load();
    }
  } }, field("u-username", "users.username", username), field("u-password", "users.password", password),
  field("u-role", "users.role", role), field("u-outlet", "users.outlet", outlet), submit);

  async function change(u, path, body, button) {
    await submitting(button, listMsg, listErr, async () => {
      await api(`/v1/admin/users/${encodeURIComponent(u.id)}/${path}`, body ? { json: body } : { method: "POST" });
      return tx("users.changed", { name: u.username });
    });
    load();
  }

  // path: "blacklist", or "unblacklist" to lift one; both need a reason, which the server records.
  function blacklistRow(u, cols, path = "blacklist") {
    const reason = h("input", { id: `bl-${u.id}`, required: true, maxlength: "256" });
    const confirm = h("button", { type: "submit", class: path === "blacklist" ? "btn danger small" : "btn small",
                                  i18n: `users.${path}.confirm` });
    const row = h("tr", { class: "blacklist-row" }, h("td", { colspan: cols },
      h("form", { class: "inline-form", novalidate: true, onsubmit: (ev) => {
        ev.preventDefault();
        if (!reason.value.trim()) {
          say(listErr, tx("err.reason_required"));
          reason.focus();
          return;
        }
        change(u, path, { reason: reason.value.trim() }, confirm);
      } }, field(`bl-${u.id}`, `users.${path}.reason`, reason), confirm,
      h("button", { type: "button", class: "btn small", i18n: "cancel", onclick: () => row.remove() }))));
    return row;
  }

  async function load() {
    try {
      outlets = await api("/v1/admin/outlets").catch(() => []);
      const users = await api("/v1/admin/users");
      outlet.replaceChildren(h("option", { value: "", i18n: "users.outlet.none" }),
                             ...outlets.map((o) => h("option", { value: o.id }, `${o.code} · ${o.name}`)));
      const codeOf = Object.fromEntries(outlets.map((o) => [o.id, o.code]));
      const rows = users.map((u) => {
        const [cls, key] = userState(u);
        const tr = h("tr", { dataset: { user: u.username } },
          h("td", { class: "mono" }, u.username), h("td", { i18n: `role.${u.role}` }),
          h("td", {}, u.outlet_id ? codeOf[u.outlet_id] || "—" : "—"),
          h("td", {}, h("span", { class: `badge ${cls}`, i18n: key, title: u.blacklist_reason || null })));
        const actions = h("div", { class: "row-actions" });
        if (u.username !== me.username) {
          const toggle = h("button", { type: "button", class: "btn small", i18n: u.active ? "users.disable" : "users.enable",
                                       "aria-describedby": `user-${u.id}` });
          toggle.addEventListener("click", () => change(u, u.active ? "disable" : "enable", null, toggle));
          actions.append(toggle);
          const path = u.blacklisted ? "unblacklist" : "blacklist";
          actions.append(h("button", { type: "button", class: u.blacklisted ? "btn small" : "btn small danger",
                                       i18n: `users.${path}`, "aria-describedby": `user-${u.id}`, onclick: () => {
            if (tr.nextElementSibling && tr.nextElementSibling.classList.contains("blacklist-row")) return;
            const row = blacklistRow(u, 5, path);
            tr.after(row);
            row.querySelector("input").focus();
          } }));
        }
        tr.firstChild.id = `user-${u.id}`;
        tr.append(h("td", {}, actions));
        return tr;
      });
      list.replaceChildren(users.length ? table(["users.username", "users.role", "users.outlet", "users.status",
                                                 "users.actions"], rows) : h("p", { i18n: "users.empty" }));
    } catch (e) {
      list.replaceChildren(h("p", { class: "alert", role: "alert" }, errorNode(e)));
    }
  }
  panel.append(card("users.title", listMsg, listErr, list),
               h("section", { class: "card" }, h("h2", { i18n: "users.add" }), form, ok, err));
  load();
}

// --- number blocks ---------------------------------------------------------------------------------------------

function renderNumbers(panel) {
  const ok = status();
  const err = alertBox();
  const file = h("input", { id: "n-file", type: "file", accept: ".csv,text/csv", required: true });
  const submit = h("button", { type: "submit", class: "btn primary", i18n: "numbers.submit" });
  const form = h("form", { class: "form-row", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    const done = await submitting(submit, ok, err, async () => {
      if (!file.files[0]) throw new ApiError(400, { error: { code: "missing_file", message: "no file" } });
      const body = new FormData();
      body.append("file", file.files[0]);
      const r = await api("/v1/admin/numbers", { form: body });
      return tx("numbers.done", { added: r.added, skipped: r.skipped_existing });
    });
    if (done) form.reset();
  } }, field("n-file", "numbers.file", file), submit);
  panel.append(card("numbers.title", h("p", { class: "lead", i18n: "numbers.lead" }), form, ok, err));
}

// --- caps and settings -----------------------------------------------------------------------------------------

function renderSettings(panel) {
  const capOk = status();
  const capErr = alertBox();
  const cap = h("input", { id: "s-cap", type: "number", min: "1", max: "100", step: "1", required: true });
  const capSubmit = h("button", { type: "submit", class: "btn primary", i18n: "settings.cap.submit" });
  const capForm = h("form", { class: "form-row", novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    await submitting(capSubmit, capOk, capErr, async () => {
      const n = Number(cap.value);
      await api("/v1/admin/cap", { method: "PUT", json: { cap_per_person: n } });
      return tx("settings.cap.saved", { n });
    });
  } }, field("s-cap", "settings.cap.label", cap), capSubmit);

  const ok = status();
  const err = alertBox();
  const actions = h("select", { id: "s-challenge_actions" }, [2, 3, 4].map((n) => h("option", { value: n }, String(n))));
  const light = h("input", { id: "s-light_check", type: "checkbox" });
  const manual = h("textarea", { id: "s-manual_path", rows: "3", maxlength: "500", required: true });
  const years = h("input", { id: "s-retention_years_after_service", type: "number", min: "0", max: "10", step: "1" });
  const days = h("input", { id: "s-session_retention_days", type: "number", min: "1", max: "3650", step: "1" });
  const submit = h("button", { type: "submit", class: "btn primary", i18n: "settings.submit" });
  const form = h("form", { novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    await submitting(submit, ok, err, async () => {
      const saved = await api("/v1/admin/settings", { method: "PUT", json: {
        challenge_actions: Number(actions.value), light_check: light.checked, manual_path: manual.value.trim(),
        retention_years_after_service: Number(years.value), session_retention_days: Number(days.value) } });
      fill(saved);
      return tx("settings.saved");
    });
  } },
  field("s-challenge_actions", "settings.challenge_actions", actions),
  h("div", { class: "check-row" }, light, h("label", { for: "s-light_check", i18n: "settings.light_check" })),
  field("s-manual_path", "settings.manual_path", manual),
  h("div", { class: "form-row" }, field("s-retention_years_after_service", "settings.retention_years_after_service", years),
    field("s-session_retention_days", "settings.session_retention_days", days)),
  h("div", { class: "actions" }, submit));

  function fill(s) {
    cap.value = s.cap_per_person ?? "";
    actions.value = String(s.challenge_actions ?? 3);
    light.checked = s.light_check !== false;
    manual.value = s.manual_path ?? "";
    years.value = s.retention_years_after_service ?? "";
    days.value = s.session_retention_days ?? "";
  }
  panel.append(card("settings.title", h("h2", { i18n: "settings.cap" }), capForm, capOk, capErr),
               h("section", { class: "card" }, h("h2", { i18n: "settings.general" }), form, ok, err));
  api("/v1/operator/settings").then(fill).catch((e) => say(err, errorNode(e)));
}

// --- review queue (supervisor) ---------------------------------------------------------------------------------

const REVIEW_REASONS = {
  pass: ["original_document_checked", "low_quality_portrait", "appearance_changed"],
  fail: ["not_same_person", "document_doubtful", "customer_left"],
};

function renderReviews(panel) {
  const list = h("div", {}, h("p", { i18n: "loading" }));
  const ok = status();
  const err = alertBox();
  const refresh = h("button", { type: "button", class: "btn", onclick: () => load() }, tx("reviews.refresh"));

  function decideRow(item, cols) {
    const id = item.id;
    const choose = (decision) => {
      reason.replaceChildren(h("option", { value: "", i18n: "reviews.reason.choose" }),
                             ...REVIEW_REASONS[decision].map((c) => h("option", { value: c, i18n: `rr.${c}` })));
    };
    const radios = ["pass", "fail"].map((d) => h("label", { class: "check" },
      h("input", { type: "radio", name: `d-${id}`, value: d, id: `d-${id}-${d}`, onchange: () => choose(d) }),
      h("span", { i18n: `reviews.${d}` })));
    const reason = h("select", { id: `r-${id}`, required: true });
    const note = h("input", { id: `n-${id}`, maxlength: "180" });
    const submit = h("button", { type: "submit", class: "btn primary small", i18n: "reviews.submit" });
    choose("pass");
    const row = h("tr", { class: "decide-row" }, h("td", { colspan: cols },
      h("form", { class: "inline-form", novalidate: true, onsubmit: async (ev) => {
        ev.preventDefault();
        const picked = row.querySelector(`input[name="d-${id}"]:checked`);
        if (!picked || !reason.value) {
          say(err, tx("err.reason_required"));
          (picked ? reason : radios[0].querySelector("input")).focus();
          return;
        }
        const text = reason.value + (note.value.trim() ? `: ${note.value.trim()}` : "");
        const done = await submitting(submit, ok, err, async () => {
          await api(`/v1/verifications/${encodeURIComponent(id)}/review`,
                    { json: { decision: picked.value, reason: text } });
          return tx("reviews.done");
        });
        if (done) load();
      } },
      h("fieldset", {}, h("legend", { i18n: "reviews.decision" }), radios),
      field(`r-${id}`, "reviews.reason", reason), field(`n-${id}`, "reviews.note", note), submit,
      h("button", { type: "button", class: "btn small", i18n: "cancel", onclick: () => row.remove() }))));
    return row;
  }

  async function load() {
    try {
      const items = await api("/v1/reviews");
      const rows = items.map((item) => {
        const tr = h("tr", { dataset: { verification: item.id } },
          h("td", { class: "mono", id: `p-${item.id}` }, item.person_number), h("td", {}, item.agent),
          h("td", {}, item.outlet || "—"),
          h("td", {}, (item.reasons || []).flatMap((r, i) => (i ? [", ", reasonLabel(r)] : [reasonLabel(r)]))),
          h("td", { when: item.decided_at }));
        tr.append(h("td", {}, h("button", { type: "button", class: "btn small primary", i18n: "reviews.open",
                                            "aria-describedby": `p-${item.id}`, onclick: () => {
          if (tr.nextElementSibling && tr.nextElementSibling.classList.contains("decide-row")) return;
          const row = decideRow(item, 6);
          tr.after(row);
          row.querySelector("input").focus();
        } })));
        return tr;
      });
      list.replaceChildren(items.length ? table(["reviews.person", "reviews.agent", "reviews.outlet", "reviews.reasons",
                                                 "reviews.decided_at", "reviews.action"], rows)
        : h("p", { class: "msg", i18n: "reviews.empty" }));
    } catch (e) {
      list.replaceChildren(h("p", { class: "alert", role: "alert" }, errorNode(e)));
    }
  }
  panel.append(card("reviews.title", h("p", { class: "lead", i18n: "reviews.lead" }),
                    h("div", { class: "actions" }, refresh), ok, err, list));
  load();
}

// --- dashboard (inspector, auditor, operator admin) -------------------------------------------------------------

let summary = null;

// A file from the API with the bearer token, saved through a blob link; its name from Content-Disposition or
// `fallback`. Returns the name.
async function download(path, fallback) {
  const resp = await api(path, { raw: true });
  const blob = await resp.blob();
  const named = /filename="?([^";]+)"?/.exec(resp.headers.get("content-disposition") || "");
  const file = named ? named[1] : fallback;
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: file, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return file;
}

const REPORT_FORMATS = [
  { format: "pdf", key: "report.pdf", aria: null, cls: "btn primary" },
  { format: "csv", key: "report.csv", aria: "report.csv.aria", cls: "btn" },
  { format: "json", key: "report.json", aria: "report.json.aria", cls: "btn" },
];

function renderDashboard(panel) {
  // Empty at first: the server fills in its default period (the last 30 days in the operator's time zone),
  // so the browser's own clock and time zone cannot shift the days.
  const start = h("input", { id: "d-start", type: "date" });
  const end = h("input", { id: "d-end", type: "date" });
  const show = h("button", { type: "submit", class: "btn primary", i18n: "dash.refresh" });
  const exportBtn = h("button", { type: "button", class: "btn", id: "d-export" }, icon("download", { size: 20 }),
                      tx("dash.export"));
  const ok = status();
  const err = alertBox();
  const body = h("div", { id: "dash-body" }, h("p", { i18n: "loading" }));
  const signals = h("div", { id: "signals-body" }, h("p", { i18n: "loading" }));
  const signalsErr = alertBox();
  const query = () => (start.value && end.value
    ? `start=${encodeURIComponent(start.value)}&end=${encodeURIComponent(end.value)}` : "");

  const form = h("form", { class: "form-row", novalidate: true, onsubmit: (ev) => {
    ev.preventDefault();
    load();
  } }, field("d-start", "dash.start", start), field("d-end", "dash.end", end), show, exportBtn);

  exportBtn.addEventListener("click", async () => {
    await submitting(exportBtn, ok, err, async () => {
      const file = await download(`/v1/inspect/registrations.csv?${query()}`,
                                  `registrations_${start.value}_${end.value}.csv`);
      return tx("dash.exported", { file });
    });
  });

  // The supervision report for the same period, optionally one outlet or one agent.
  const outlet = h("input", { id: "r-outlet", maxlength: "64", autocomplete: "off", autocapitalize: "off" });
  const agent = h("input", { id: "r-agent", maxlength: "64", autocomplete: "off", autocapitalize: "off" });
  const reportOk = status();
  const reportErr = alertBox();
  const reportButtons = REPORT_FORMATS.map(({ format, key, aria, cls }) => {
    const button = h("button", { type: "button", class: cls, id: `r-${format}`, i18nAria: aria },
                     icon("download", { size: 20 }), tx(key));
    button.addEventListener("click", async () => {
      await submitting(button, reportOk, reportErr, async () => {
        const params = new URLSearchParams({ start: start.value, end: end.value, format });
        if (outlet.value.trim()) params.set("outlet", outlet.value.trim());
        if (agent.value.trim()) params.set("agent", agent.value.trim());
        const file = await download(`/v1/reports?${params}`, `report_${start.value}_${end.value}.${format}`);
        return tx("dash.exported", { file });
      });
    });
    return button;
  });
  const reports = h("section", { class: "report-box", "aria-labelledby": "report-h" },
    h("h2", { id: "report-h", i18n: "report.title" }), h("p", { class: "help", id: "report-help", i18n: "report.lead" }),
    h("div", { class: "form-row" },
      field("r-outlet", "report.outlet", outlet, "report.outlet.help"),
      field("r-agent", "report.agent", agent, "report.agent.help"),
      h("div", { class: "row-actions", role: "group", "aria-labelledby": "report-h",
                 "aria-describedby": "report-help" }, reportButtons)),
    reportOk, reportErr);

  async function load() {
    busy(show, true);
    say(err, null);
    try {
      summary = await api(`/v1/inspect/summary?${query()}`);
      if (!start.value || !end.value) {
        start.value = summary.period.start;
        end.value = summary.period.end;
      }
      loadSignals();
      drawSummary(body, summary);
    } catch (e) {
      body.replaceChildren();
      say(err, errorNode(e));
    } finally {
      busy(show, false);
    }
  }

  async function loadSignals() {
    say(signalsErr, null);
    signals.replaceChildren(h("p", { i18n: "loading" }));
    try {
      const found = await api(`/v1/signals?${query()}`);
      drawSignals(signals, found);
    } catch (e) {
      signals.replaceChildren();
      say(signalsErr, errorNode(e));
    }
  }

  panel.append(card("dash.title", h("p", { class: "lead", i18n: "dash.lead" }), form, ok, err, reports), body,
               h("section", { class: "card", id: "signals", "aria-labelledby": "signals-h" },
                 h("h2", { id: "signals-h", i18n: "sig.title" }), h("p", { class: "lead", i18n: "sig.lead" }),
                 signalsErr, signals));
  load();
}

// --- fraud signals ----------------------------------------------------------------------------------------------

const REVERIFY_ROLES = ["supervisor", "operator_admin"]; // the API's reverifications.order
const REVERIFY_BATCH = 1000; // the most registrations one POST /v1/signals/reverify takes

function drawSignals(box, found) {
  if (!found.length) {
    box.replaceChildren(h("p", { class: "msg", id: "signals-empty", i18n: "sig.empty" }));
    return;
  }
  box.replaceChildren(h("ul", { class: "signals" }, found.map((s, i) => signalItem(s, i))));
}

function signalItem(s, i) {
  const id = `sig-${i}`;
  const regs = s.registrations || [];
  const kindKey = `sig.kind.${s.kind}`;
  const item = h("li", { class: "signal", id, dataset: { kind: s.kind }, "aria-labelledby": `${id}-h` },
    h("div", { class: "signal-head" },
      h("h3", { id: `${id}-h` }, has(kindKey) ? tx(kindKey) : h("span", {}, s.kind)),
      h("span", { class: "signal-subject" }, h("span", { class: "signal-label", i18n: "sig.subject" }),
        h("span", { class: "mono" }, s.subject || "—")),
      h("span", { class: "badge warn signal-count", i18n: "sig.count", vars: { n: regs.length } })),
    h("p", { class: "signal-summary", lang: "en" }, s.summary),
    h("details", { class: "evidence" }, h("summary", { i18n: "sig.evidence" }),
      h("pre", { class: "mono" }, JSON.stringify(s.evidence ?? {}, null, 2))));
  if (me && REVERIFY_ROLES.includes(me.role) && regs.length) {
    const ok = h("p", { class: "ok-msg", role: "status", hidden: true, tabindex: "-1" });
    const err = alertBox();
    const button = h("button", { type: "button", class: "btn small", "aria-describedby": `${id}-h`,
                                 i18n: "sig.reverify" });
    button.addEventListener("click", async () => {
      const done = await submitting(button, ok, err, async () => {
        let opened = 0;
        for (let k = 0; k < regs.length; k += REVERIFY_BATCH) {
          const orders = await api("/v1/signals/reverify", { json: {
            kind: String(s.kind).slice(0, 32), summary: String(s.summary || s.kind).slice(0, 300),
            registrations: regs.slice(k, k + REVERIFY_BATCH) } });
          opened += orders.length;
        }
        return opened ? tx("sig.reverified", { n: opened }) : tx("sig.reverified.none");
      });
      if (done) {
        // Ordered once: a second press would open duplicate orders. Focus moves to the result.
        button.disabled = true;
        ok.focus();
      }
    });
    item.append(h("div", { class: "signal-actions" }, button, ok, err));
  }
  return item;
}

const TOTALS = ["registrations", "verifications", "passed", "failed", "review", "cap_refusals", "cancellations",
                "suspensions"];

function dataTable(headKeys, rows) {
  return h("details", {}, h("summary", { i18n: "dash.table" }),
           table(headKeys, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: i ? "num" : "" }, c))))));
}

function drawSummary(body, s) {
  const chain = s.chain || {};
  const chainLine = h("div", { class: "chain", id: "chain" },
    h("h2", { i18n: "dash.chain" }), icon(chain.ok ? "shield" : "warning", { size: 26 }),
    h("span", { class: `badge ${chain.ok ? "ok" : "bad"}`, id: "chain-status", dataset: { ok: String(!!chain.ok) },
                i18n: chain.ok ? "dash.chain.ok" : "dash.chain.bad" }),
    h("span", { i18n: "dash.chain.count", vars: { n: chain.count ?? 0 } }),
    chain.ok ? null : h("span", { class: "mono" }, [chain.problem, chain.detail].filter(Boolean).join(": ")));
  const totals = s.totals || {};
  const tiles = h("dl", { class: "tiles", id: "totals" }, TOTALS.map((k) => h("div", { class: "tile", dataset: { total: k } },
    h("dt", { i18n: `t.${k}` }), h("dd", {}, (totals[k] ?? 0).toLocaleString()))));
  const charts = h("div", { class: "charts", id: "charts" });
  drawCharts(charts, s);
  const agents = s.by_agent || [];
  const agentTable = agents.length
    ? table(["col.agent", "col.outlet", "t.registrations", "t.verifications", "t.failed", "t.review"],
            agents.map((a) => h("tr", {}, h("td", { class: "mono" }, a.agent), h("td", {}, a.outlet || "—"),
              ...[a.registrations, a.verifications, a.failed, a.reviews].map((v) => h("td", { class: "num" }, v)))),
            { numeric: [2, 3, 4, 5] })
    : h("p", { i18n: "dash.no_data" });
  body.replaceChildren(h("section", { class: "card" }, chainLine, h("h2", { class: "sr-only", i18n: "dash.totals" }), tiles),
                       h("section", { class: "card" }, charts),
                       h("section", { class: "card" }, h("h2", { i18n: "dash.by_agent" }), agentTable));
}

function drawCharts(box, s) {
  const days = s.by_day || [];
  const outlets = s.by_outlet || [];
  const reasons = Object.entries(s.failure_reasons || {}).sort((a, b) => b[1] - a[1]);
  const seriesKeys = ["registrations", "verifications", "failed"];
  const dayChart = h("div", { class: "chart-wrap wide" }, h("h2", { i18n: "dash.by_day" }));
  if (days.length) {
    dayChart.append(
      h("ul", { class: "legend", "aria-hidden": "true" }, seriesKeys.map((k, i) => h("li", {},
        h("span", { class: `swatch s${i}` }), h("span", { i18n: `t.${k}` })))),
      barChart({ title: t("dash.by_day"), labels: days.map((d) => String(d.day).slice(5)),
                 series: seriesKeys.map((k) => ({ name: t(`t.${k}`), values: days.map((d) => d[k] || 0) })) }),
      dataTable(["col.day", ...seriesKeys.map((k) => `t.${k}`)], days.map((d) => [d.day, ...seriesKeys.map((k) => d[k])])));
  } else {
    dayChart.append(h("p", { i18n: "dash.no_data" }));
  }
  const outletChart = h("div", { class: "chart-wrap" }, h("h2", { i18n: "dash.by_outlet" }));
  if (outlets.length) {
    const labels = outlets.map((o) => o.name || o.outlet || "—");
    outletChart.append(hbarChart({ title: t("dash.by_outlet"), labels, values: outlets.map((o) => o.registrations) }),
      dataTable(["col.outlet", "t.registrations", "t.verifications", "t.failed"],
                outlets.map((o, i) => [labels[i], o.registrations, o.verifications, o.failed])));
  } else {
    outletChart.append(h("p", { i18n: "dash.no_data" }));
  }
  const reasonChart = h("div", { class: "chart-wrap" }, h("h2", { i18n: "dash.failures" }));
  if (reasons.length) {
    const labels = reasons.map(([r]) => (has(`reason.${r}`) ? t(`reason.${r}`) : r));
    reasonChart.append(hbarChart({ title: t("dash.failures"), labels, values: reasons.map(([, n]) => n) }),
      dataTable(["col.reason", "col.count"], reasons.map(([, n], i) => [labels[i], n])));
  } else {
    reasonChart.append(h("p", { i18n: "dash.no_data" }));
  }
  box.replaceChildren(dayChart, outletChart, reasonChart);
}

// --- wiring ----------------------------------------------------------------------------------------------------

function init() {
  fillIcons();
  applyI18n();
  bindLangButton($("#lang"));
  $("#login-form").addEventListener("submit", onLogin);
  $("#logout").addEventListener("click", onLogout);
  window.addEventListener("auth-lost", (ev) => showLogin(ev.detail));
  window.addEventListener("langchange", () => {
    const charts = $("#charts");
    if (current === "dashboard" && summary && charts) drawCharts(charts, summary);
  });
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  if (auth.token) loadSession();
  else showLogin(null);
}

init();
