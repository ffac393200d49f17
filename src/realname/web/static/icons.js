// Inline SVG icons (no icon font, nothing fetched). Decorative unless given a label.
const HEAD = '<circle cx="24" cy="27" r="11"/>';
const SHAPES = {
  logo: '<rect x="5" y="10" width="38" height="28" rx="4"/><circle cx="17" cy="22" r="4.5"/>' +
        '<path d="M10 33c1.5-4 4-5.5 7-5.5s5.5 1.5 7 5.5M28 19h10M28 25h10M28 31h6"/>',
  turn_left: HEAD + '<path d="M17 25v2M24 25v2M18 32h4"/><path d="M36 8H10m6-5-6 5 6 5"/>',
  turn_right: HEAD + '<path d="M24 25v2M31 25v2M26 32h4"/><path d="M12 8h26m-6-5 6 5-6 5"/>',
  look_up: '<circle cx="20" cy="28" r="11"/><path d="M15 24h.01M25 24h.01M17 30h6"/><path d="M41 38V8m-5 6 5-6 5 6"/>',
  look_down: '<circle cx="20" cy="22" r="11"/><path d="M15 26h.01M25 26h.01M17 31h6"/><path d="M41 8v30m-5-6 5 6 5-6"/>',
  blink: '<path d="M5 20c5 8 12 12 19 12s14-4 19-12"/><path d="M12 28l-3 5M20 31l-1 6M28 31l1 6M36 28l3 5"/>',
  open_mouth: HEAD + '<path d="M19 24h.01M29 24h.01"/><ellipse cx="24" cy="32" rx="4" ry="3"/>',
  face: HEAD + '<path d="M19 25h.01M29 25h.01M20 31c2 2 6 2 8 0"/>',
  check: '<circle cx="24" cy="24" r="19"/><path d="M15 24l6 6 12-12"/>',
  cross: '<circle cx="24" cy="24" r="19"/><path d="M17 17l14 14M31 17 17 31"/>',
  person: '<circle cx="24" cy="16" r="8"/><path d="M9 42c1-9 7-14 15-14s14 5 15 14"/>',
  phone: '<rect x="14" y="4" width="20" height="40" rx="4"/><path d="M21 37h6"/>',
  search: '<circle cx="21" cy="21" r="12"/><path d="M30 30l12 12"/>',
  globe: '<circle cx="24" cy="24" r="18"/><path d="M6 24h36M24 6c6 6 6 30 0 36M24 6c-6 6-6 30 0 36"/>',
  logout: '<path d="M20 8H10v32h10M30 16l8 8-8 8M38 24H18"/>',
  download: '<path d="M24 6v24M14 21l10 10 10-10M8 40h32"/>',
  print: '<path d="M14 18V6h20v12M14 34H8V18h32v16h-6"/><rect x="14" y="28" width="20" height="14"/>',
  camera: '<rect x="4" y="12" width="30" height="24" rx="3"/><path d="M34 20l10-6v20l-10-6"/>',
  warning: '<path d="M24 5 44 41H4z"/><path d="M24 18v11M24 35h.01"/>',
  shield: '<path d="M24 4 40 10v12c0 10-7 18-16 22C15 40 8 32 8 22V10z"/><path d="M17 24l5 5 9-10"/>',
};

export function icon(name, { size = 24, label = null, cls = "icon" } = {}) {
  const span = document.createElement("span");
  span.innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" width="${size}" height="${size}"` +
    ` fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"` +
    ` focusable="false">${SHAPES[name] || SHAPES.face}</svg>`;
  const svg = span.firstElementChild;
  svg.setAttribute("class", cls);
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  return svg;
}

// Fill every <span data-icon="name"> placeholder in the static HTML.
export function fillIcons(root = document) {
  for (const el of root.querySelectorAll("[data-icon]")) {
    el.replaceChildren(icon(el.dataset.icon, { size: Number(el.dataset.size || 24) }));
  }
}
