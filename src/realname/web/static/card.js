// Client-side checks of the card as the agent types: formats and dates only. The server checks every rule again
// (region codes, validity period by age, permits, MRZ) and its answer is shown next to the field it names.

export const DOC_TYPES = ["prc_id", "hk_macau_permit", "taiwan_permit", "hmt_residence_permit",
                          "foreign_permanent_residence", "passport"];
export const FIELDS = ["doc_type", "name", "sex", "birth_date", "number", "issue_date", "expiry_date", "address",
                       "nationality", "mrz"];

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

// ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID number.
export function residentCheckDigit(body17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

export function parseDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3] ? d : null;
}

export function todayUTC() {
  const now = new Date();
  return new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()));
}

export function normalizeNumber(text) {
  return (text || "").replace(/\s+/g, "").toUpperCase();
}

// The first problem with a resident ID number as { key, vars }, or null.
export function checkResidentId(raw, { complete = true } = {}) {
  const n = normalizeNumber(raw);
  if (!/^\d{0,17}[\dX]?$/.test(n) || /X./.test(n)) return { key: "v.id_format" };
  if (n.length !== 18) return complete ? { key: "v.id_length", vars: { n: n.length } } : null;
  if (!/^\d{17}[\dX]$/.test(n)) return { key: "v.id_format" };
  const c = residentCheckDigit(n.slice(0, 17));
  if (c !== n[17]) return { key: "v.id_check", vars: { c } };
  return null;
}

function birthInNumber(n) {
  return `${n.slice(6, 10)}-${n.slice(10, 12)}-${n.slice(12, 14)}`;
}

// Every field's first problem: { field: { key, vars } }. `values` are the form's strings; long_term a boolean.
export function validateCard(values, today = todayUTC()) {
  const errors = {};
  const need = (f) => {
    if (!(values[f] || "").trim()) errors[f] = { key: "v.required" };
    return !errors[f];
  };
  need("doc_type");
  if (need("name") && /\d/.test(values.name)) errors.name = { key: "v.name_digits" };
  need("sex");
  let birth = null;
  if (need("birth_date")) {
    birth = parseDate(values.birth_date);
    if (!birth) errors.birth_date = { key: "v.date" };
    else if (birth > today) errors.birth_date = { key: "v.future" };
  }
  if (need("number") && values.doc_type === "prc_id") {
    const n = normalizeNumber(values.number);
    const bad = checkResidentId(n);
    if (bad) errors.number = bad;
    else if (birth && !errors.birth_date && birthInNumber(n) !== values.birth_date) {
      errors.number = { key: "v.id_birth", vars: { d: birthInNumber(n) } };
    } else if (values.sex && (Number(n[16]) % 2 === 1 ? "M" : "F") !== values.sex) {
      errors.number = { key: "v.id_sex" };
    }
  }
  let issue = null;
  if ((values.issue_date || "").trim()) {
    issue = parseDate(values.issue_date);
    if (!issue) errors.issue_date = { key: "v.date" };
    else if (issue > today) errors.issue_date = { key: "v.future" };
  } else if (values.doc_type === "prc_id") {
    errors.issue_date = { key: "v.required" };
  }
  if (!values.long_term) {
    if (need("expiry_date")) {
      const expiry = parseDate(values.expiry_date);
      if (!expiry) errors.expiry_date = { key: "v.date" };
      else if (issue && expiry < issue) errors.expiry_date = { key: "v.expiry_before_issue" };
      else if (expiry < today) errors.expiry_date = { key: "v.expired" };
    }
  }
  if ((values.nationality || "").trim() && !/^[A-Za-z]{3}$/.test(values.nationality.trim())) {
    errors.nationality = { key: "v.nationality" };
  }
  return errors;
}

// The card as the API wants it: the reader's field names, empty optional fields left out.
export function cardBody(values) {
  const card = {};
  for (const f of FIELDS) {
    const v = (values[f] || "").trim();
    if (v) card[f] = f === "number" ? normalizeNumber(v) : f === "nationality" ? v.toUpperCase() : v;
  }
  if (values.long_term) card.expiry_date = null;
  return card;
}
