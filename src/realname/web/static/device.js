// This kiosk as an enrolled device (WebAuthn). The back office enrols it: the browser creates a credential on
// the platform authenticator (the kiosk's TPM) and the server keeps its public key. Every request of a
// verification then carries an assertion over sha256("realname-kiosk-request-v1"|METHOD|path|nonce|sha256(body)),
// computed here over the exact bytes sent, so the server can tell that this kiosk sent this body.
const KIOSK = "realname.kiosk";
const CONTEXT = "realname-kiosk-request-v1";

export function enrolledKiosk() {
  try {
    return JSON.parse(localStorage.getItem(KIOSK) || "null");
  } catch {
    return null;
  }
}

export function forgetKiosk() {
  localStorage.removeItem(KIOSK);
}

export function b64url(bytes) {
  let s = "";
  new Uint8Array(bytes).forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(text) {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function credentialJSON(cred) {
  if (typeof cred.toJSON === "function") return cred.toJSON();
  const r = cred.response;
  const out = { id: cred.id, rawId: b64url(cred.rawId), type: cred.type, clientExtensionResults: {},
                authenticatorAttachment: cred.authenticatorAttachment || undefined, response: {} };
  for (const name of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) {
    if (r[name]) out.response[name] = b64url(r[name]);
  }
  return out;
}

// The exact bytes and content type a request will send: FormData is serialised once, here, with its boundary,
// so the hash covers what goes over the wire.
export async function bodyBytes(json, form) {
  if (json !== undefined) return { bytes: new TextEncoder().encode(JSON.stringify(json)), type: "application/json" };
  if (form !== undefined) {
    const wire = new Response(form);
    return { bytes: new Uint8Array(await wire.arrayBuffer()), type: wire.headers.get("content-type") };
  }
  return { bytes: new Uint8Array(), type: null };
}

// The headers that prove this request, or null when this browser is not an enrolled kiosk.
export async function proofHeaders(nonce, method, path, bytes) {
  const kiosk = enrolledKiosk();
  if (!kiosk) return null;
  const enc = new TextEncoder();
  const parts = [enc.encode(CONTEXT), enc.encode(method.toUpperCase()), enc.encode(path), enc.encode(nonce),
                 await sha256(bytes)];
  const joined = [];
  parts.forEach((p, i) => {
    if (i) joined.push(124); // "|"
    joined.push(...p);
  });
  const challenge = await sha256(new Uint8Array(joined));
  const cred = await navigator.credentials.get({ publicKey: {
    challenge, timeout: 60000, userVerification: "discouraged",
    allowCredentials: [{ type: "public-key", id: unb64url(kiosk.credential_id) }] } });
  const assertion = b64url(enc.encode(JSON.stringify(credentialJSON(cred))));
  return { "X-Kiosk-Nonce": nonce, "X-Kiosk-Assertion": assertion };
}

// Enrol this browser's platform authenticator as a kiosk (the back office, an operator administrator).
export async function enrolThisKiosk(api, outletId, name) {
  const started = await api("/v1/kiosk-enrolments", { json: { outlet_id: outletId, name } });
  const o = started.options;
  const publicKey = {
    ...o, challenge: unb64url(o.challenge), user: { ...o.user, id: unb64url(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: unb64url(c.id) })) };
  const cred = await navigator.credentials.create({ publicKey });
  const kiosk = await api("/v1/kiosks", { json: { enrolment_id: started.enrolment_id,
                                                   credential: credentialJSON(cred) } });
  localStorage.setItem(KIOSK, JSON.stringify({ id: kiosk.id, credential_id: kiosk.credential_id,
                                                name: kiosk.name }));
  return kiosk;
}
