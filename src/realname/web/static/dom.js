// A tiny DOM builder: no innerHTML for data, so nothing the server or a card says can become markup.
import { lang, t, when } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";

// h("button", { class: "btn", i18n: "login.submit", onclick: fn }, child, ...)
//   i18n / vars: translated text that follows language switches; bi: { zh, en } text given by the server;
//   when: an ISO time shown in the page's language; i18nAria: a translated aria-label.
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  const a = attrs || {};
  for (const [k, v] of Object.entries(a)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "i18n" || k === "vars") continue;
    if (k === "bi") {
      el.dataset.zh = v.zh ?? v.en ?? "";
      el.dataset.en = v.en ?? v.zh ?? "";
      el.textContent = lang() === "zh" ? el.dataset.zh : el.dataset.en;
    } else if (k === "when") {
      el.dataset.when = v;
      el.textContent = when(v);
    } else if (k === "i18nAria") {
      el.dataset.i18nAria = v;
      el.setAttribute("aria-label", t(v));
    } else if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
  if (a.i18n) {
    el.dataset.i18n = a.i18n;
    if (a.vars) el.dataset.i18nVars = JSON.stringify(a.vars);
    el.textContent = t(a.i18n, a.vars || {});
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const tx = (key, vars) => h("span", { i18n: key, vars });

export function $(sel, root = document) {
  return root.querySelector(sel);
}

export function $$(sel, root = document) {
  return [...root.querySelectorAll(sel)];
}

// A translated message in a region (role=status or alert lives in the HTML), or nothing.
export function say(region, node) {
  region.replaceChildren(...(node ? [node] : []));
  region.hidden = !node;
}

export function busy(button, on) {
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
}
