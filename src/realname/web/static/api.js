// fetch with the login token (kept in sessionStorage: gone when the tab closes), JSON in and out, and the
// service's errors ({"error": {code, message, field, rule, message_zh}}) turned into ApiError.
import { bodyBytes, enrolledKiosk, proofHeaders } from "./device.js";
import { h, tx } from "./dom.js";
import { has, t } from "./i18n.js";

const TOKEN = "realname.token";

export const auth = {
  get token() {
    return sessionStorage.getItem(TOKEN);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN, value);
    else sessionStorage.removeItem(TOKEN);
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status ? `http_${status}` : "network");
    this.field = e.field || null;
    this.rule = e.rule || null;
    this.message_zh = e.message_zh || null;
    this.limit = e.limit ?? null;
  }
}

// ``proof``: a step of a verification that an enrolled kiosk proves (see device.js); the body is serialised
// here once, so the assertion covers exactly the bytes sent.
export async function api(path, { method, json, form, raw = false, signal, proof = false } = {}) {
  const headers = {};
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const verb = method || (body ? "POST" : "GET");
  if (proof && enrolledKiosk()) {
    const wire = await bodyBytes(json, form);
    const { nonce } = await api("/v1/kiosk-nonces", { method: "POST", signal });
    Object.assign(headers, await proofHeaders(nonce, verb, path, wire.bytes));
    if (wire.type) headers["Content-Type"] = wire.type;
    body = wire.bytes;
  }
  let resp;
  try {
    resp = await fetch(path, { method: verb, headers, body, signal,
                               credentials: "same-origin", cache: "no-store" });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, { error: { code: "network", message: String(err) } });
  }
  if (!resp.ok) {
    let data = null;
    try {
      data = await resp.json();
    } catch {
      /* not JSON: keep the status */
    }
    const err = new ApiError(resp.status, data);
    if (resp.status === 401 && path !== "/v1/auth/login") {
      auth.token = null;
      window.dispatchEvent(new CustomEvent("auth-lost", { detail: err }));
    }
    throw err;
  }
  if (raw) return resp;
  if (resp.status === 204) return null;
  const type = resp.headers.get("content-type") || "";
  return type.includes("json") ? resp.json() : resp.text();
}

// The error as text in both languages: the server's own Chinese when it sent one, else ours for the code.
export function errorNode(err) {
  if (!(err instanceof ApiError)) {
    const m = String((err && err.message) || err);
    return h("span", { bi: { zh: t("err.generic", { m }, "zh"), en: t("err.generic", { m }, "en") } });
  }
  if (err.code === "network") return tx("err.network");
  if (err.message_zh) return h("span", { bi: { zh: err.message_zh, en: err.message } });
  const key = `err.${err.code}`;
  if (has(key)) return tx(key, { m: err.message, limit: err.limit ?? "" });
  const m = err.message;
  return h("span", { bi: { zh: t("err.generic", { m }, "zh"), en: t("err.generic", { m }, "en") } });
}
