// Small charts drawn as inline SVG (no chart library). Colours come from CSS classes (s0, s1, s2); each chart
// has a <title> and an aria-label, and the pages put the same numbers in a table beside it.
const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

// Counts: four whole-number steps from 0 to at least `value` (1, 2, 5, 10, 20, 25, 50... per step).
function niceMax(value) {
  const raw = Math.max(1, value) / 4;
  const exp = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * exp;
    if (step >= raw && Number.isInteger(step)) return step * 4;
  }
  return 40 * exp;
}

function frame(width, height, title) {
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title,
                          preserveAspectRatio: "xMidYMid meet" });
  svg.append(el("title", {}, title));
  return svg;
}

// Grouped vertical bars: labels along x, one bar per series. series: [{ name, values }].
export function barChart({ title, labels, series, width = 840, height = 220 }) {
  const svg = frame(width, height, title);
  const left = 44;
  const right = 10;
  const top = 14;
  const bottom = 34;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    svg.append(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: i ? "grid-line" : "axis" }));
    svg.append(el("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, formatTick((max * i) / 4)));
  }
  const n = Math.max(1, labels.length);
  const slot = plotW / n;
  const barW = Math.max(2, Math.min(28, (slot * 0.8) / series.length));
  const every = Math.ceil(n / 12); // at most about 12 x labels
  labels.forEach((label, i) => {
    const x0 = left + slot * i + (slot - barW * series.length) / 2;
    series.forEach((s, k) => {
      const v = s.values[i] || 0;
      const hgt = (plotH * v) / max;
      const bar = el("rect", { x: x0 + k * barW, y: top + plotH - hgt, width: barW - 1, height: Math.max(0, hgt),
                               class: `s${k}` });
      bar.append(el("title", {}, `${label} · ${s.name}: ${v}`));
      svg.append(bar);
    });
    if (i % every === 0) {
      svg.append(el("text", { x: left + slot * i + slot / 2, y: height - bottom + 16, "text-anchor": "middle" },
                    label));
    }
  });
  return svg;
}

// Horizontal bars with the value at the end: one row per label.
export function hbarChart({ title, labels, values, width = 420, row = 30 }) {
  const left = 150;
  const right = 40;
  const height = Math.max(1, labels.length) * row + 10;
  const svg = frame(width, height, title);
  const max = Math.max(1, ...values);
  labels.forEach((label, i) => {
    const y = 5 + i * row;
    const w = ((width - left - right) * values[i]) / max;
    const text = fit(label, left - 12);
    svg.append(el("text", { x: left - 8, y: y + row / 2 + 4, "text-anchor": "end" }, text));
    const bar = el("rect", { x: left, y: y + 4, width: Math.max(1, w), height: row - 8, rx: 3, class: "s0" });
    bar.append(el("title", {}, `${label}: ${values[i]}`));
    svg.append(bar);
    svg.append(el("text", { x: left + w + 6, y: y + row / 2 + 4, class: "value" }, String(values[i])));
  });
  return svg;
}

// Shorten a label to about `px` pixels at 12 px (CJK characters are twice as wide as Latin ones).
function fit(label, px) {
  let width = 0;
  for (let i = 0; i < label.length; i++) {
    width += /[\u2e80-\uffff]/.test(label[i]) ? 12 : 7;
    if (width > px) return `${label.slice(0, Math.max(1, i - 1))}…`;
  }
  return label;
}

function formatTick(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
