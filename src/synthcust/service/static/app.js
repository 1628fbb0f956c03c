// synthcust web page: plain JS, no build step, no CDN. Talks only to the JSON API.
// Text from the server is always set with textContent (never innerHTML); the evaluation
// report goes into a sandboxed iframe (no scripts).
"use strict";

const $ = (id) => document.getElementById(id);
const S = {  // page state; ids kept in localStorage so long jobs survive a reload
  get: (k) => localStorage.getItem("synthcust." + k),
  set: (k, v) => v == null ? localStorage.removeItem("synthcust." + k)
                           : localStorage.setItem("synthcust." + k, String(v)),
};
let token = sessionStorage.getItem("synthcust.token") || "";
let schema = null;

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body, raw = false) {
  const opts = { method, headers: { Authorization: "Bearer " + token } };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) {
    opts.body = JSON.stringify(body);
    opts.headers["Content-Type"] = "application/json";
  }
  const r = await fetch(path, opts);
  if (!r.ok) {
    let msg = r.statusText;
    try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new ApiError(r.status, msg);
  }
  return raw ? r : r.json();
}

function say(id, text, isError = false) {
  const n = $(id);
  n.textContent = text;
  n.classList.toggle("error", isError);
}

function show(...ids) { for (const id of ids) $(id).hidden = false; }

// ------------------------------------------------------------------ jobs (polling)
// One polling loop per status line: a second follow of the same job is a no-op, a newer job
// (or stopFollowing, before a new request) silences the older loop, so that a stale loop never
// overwrites a newer answer.
const followers = {};
function stopFollowing(status) { followers[status] = null; }

async function follow(jobId, bar, status, onDone) {
  if (followers[status] && followers[status].job === jobId) return null;
  const me = { job: jobId };
  followers[status] = me;
  const mine = () => followers[status] === me;
  try {
    for (;;) {
      let job;
      try { job = await api("GET", "/api/jobs/" + jobId); } catch (e) {
        if (mine()) say(status, e.message, true);
        return null;
      }
      if (!mine()) return null;
      $(bar).value = job.progress;
      if (job.status === "failed") { say(status, "Failed: " + job.error, true); return job; }
      if (job.status === "done") { say(status, "Done."); await onDone(job); return job; }
      say(status, `${job.status}: ${job.message || ""} (${Math.round(job.progress * 100)}%)`);
      await new Promise((res) => setTimeout(res, 600));
    }
  } finally {
    if (mine()) followers[status] = null;
  }
}

// ------------------------------------------------------------------ token
$("token-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("synthcust.token", token);
  await start();
});

async function start() {
  try {
    await loadDatasets();
    say("token-status", "Connected.");
  } catch (e) {
    say("token-status", e.message, true);
    return;
  }
  const ds = S.get("dataset");
  if (ds) await selectDataset(ds);
}

// ------------------------------------------------------------------ datasets
async function loadDatasets() {
  const { datasets } = await api("GET", "/api/datasets");
  const sel = $("dataset-select");
  sel.replaceChildren(el("option", { value: "", text: "(none)" }));
  for (const d of datasets) {
    sel.append(el("option", { value: d.id,
      text: `${d.name} (${d.n_rows.toLocaleString()} rows, ${d.n_cols} columns)` }));
  }
  sel.value = S.get("dataset") || "";
}

$("dataset-select").addEventListener("change", (ev) => {
  if (ev.target.value) selectDataset(ev.target.value);
});

$("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = $("file").files[0];
  say("upload-error", "");
  if (!f) { say("upload-error", "Choose a file first.", true); return; }
  const fd = new FormData();
  fd.append("file", f, f.name);
  $("upload-btn").disabled = true;
  say("upload-status", `Uploading ${f.name}...`);
  try {
    const d = await api("POST", "/api/datasets", fd);
    say("upload-status", `Uploaded ${d.name}: ${d.n_rows.toLocaleString()} rows.`);
    await loadDatasets();
    for (const k of ["fitjob", "model", "evaljob", "personasjob", "target"]) S.set(k, null);
    await selectDataset(d.id);
  } catch (e) {
    say("upload-status", "");
    say("upload-error", e.message.includes(f.name) ? e.message : `${f.name}: ${e.message}`,
        true);
  } finally {
    $("upload-btn").disabled = false;
  }
});

async function selectDataset(id) {
  if (S.get("dataset") !== id) {
    for (const k of ["fitjob", "model", "evaljob", "personasjob", "target"]) S.set(k, null);
  }
  S.set("dataset", id);
  $("dataset-select").value = id;
  let info;
  try { info = await api("GET", `/api/datasets/${id}/schema`); } catch (e) {
    S.set("dataset", null); say("upload-error", e.message, true); return;
  }
  schema = info.schema;
  renderSchema(info);
  show("schema-section", "fit-section", "personas-section");
  fillChoiceColumns();
  fillTargets();
  await loadSynthesizers();
  await resume();
}

// ------------------------------------------------------------------ schema review
const KINDS = ["numeric", "categorical", "datetime", "boolean", "id", "text"];
function renderSchema(info) {
  const tb = $("schema-table").querySelector("tbody");
  tb.replaceChildren();
  schema.columns.forEach((c, i) => {
    const kind = el("select", { "aria-label": `Kind of ${c.name}`, "data-i": i });
    for (const k of KINDS) kind.append(el("option", { value: k, text: k }));
    kind.value = c.kind;
    kind.addEventListener("change", () => { schema.columns[i].kind = kind.value; });
    let policy = el("span", { text: "-" });
    if (c.pii) {
      policy = el("select", { "aria-label": `Policy for ${c.name}` });
      policy.append(el("option", { value: "", text: "default (drop)" }));
      for (const p of info.policies) policy.append(el("option", { value: p, text: p }));
      policy.value = c.pii_policy || "";
      policy.addEventListener("change", () => {
        if (policy.value) schema.columns[i].pii_policy = policy.value;
        else delete schema.columns[i].pii_policy;
      });
    }
    tb.append(el("tr", {}, el("th", { scope: "row", text: c.name }), el("td", {}, kind),
      el("td", { text: c.pii || "-" }), el("td", {}, policy), el("td", { text: c.note || "" })));
  });
}

$("schema-save").addEventListener("click", async () => {
  try {
    const info = await api("PUT", `/api/datasets/${S.get("dataset")}/schema`, { schema });
    schema = info.schema;
    renderSchema(info);
    say("schema-status", "Schema saved; the next fit uses it.");
  } catch (e) { say("schema-status", e.message, true); }
});

// ------------------------------------------------------------------ fit
let synthesizers = null;  // {default, available, descriptions} from the service
async function loadSynthesizers() {
  if (synthesizers) return;
  synthesizers = await api("GET", "/api/synthesizers");
  const d = synthesizers.default, dp = synthesizers.dp_default;
  // "" = no choice: the service fits its default, the one the command line and library fit
  $("synth").replaceChildren(el("option", { value: "", text: `default: ${d}` }),
    ...synthesizers.available.map((name) => el("option", { value: name, text: name })));
  say("synth-default", `Default: ${d} (${synthesizers.descriptions[d] || d}), the model the ` +
    `command line and the library fit too; with differential privacy: ${dp}.`);
}

function fillTargets() {
  // candidates: columns that are learned (no PII, no id/key); the schema's target is preselected
  const sel = $("target");
  const cols = schema.columns.filter((c) => !c.pii && c.kind !== "id" && c.kind !== "text" &&
    c.role !== "key");
  sel.replaceChildren(el("option", { value: "", text: "(none)" }),
    ...cols.map((c) => el("option", { value: c.name, text: c.name })));
  const t = schema.columns.find((c) => c.role === "target");
  sel.value = S.get("target") || (t ? t.name : "");
  if (sel.value === "" && S.get("target")) S.set("target", null);
  showTarget();
}

function showTarget() {
  const t = $("target").value;
  say("eval-target", t ? `Target: ${t}. Utility (train on synthetic, test on real) is measured.`
    : "No target chosen: utility (TSTR) is not measured. Pick a target column in step 3.");
}
$("target").addEventListener("change", () => { S.set("target", $("target").value || null);
  showTarget(); });

function parseBounds(text) {
  // "age=18..90, income=0..200000" -> {age: [18, 90], income: [0, 200000]} (dates stay text)
  const out = {};
  for (const part of text.split(",").map((x) => x.trim()).filter(Boolean)) {
    const m = part.match(/^(.+?)=(.+?)\.\.(.+)$/);
    if (!m) throw new Error(`cannot read bound ${part}; write COLUMN=LOW..HIGH`);
    const val = (x) => (x.trim() !== "" && !isNaN(Number(x)) ? Number(x) : x.trim());
    out[m[1].trim()] = [val(m[2]), val(m[3])];
  }
  return out;
}

$("fit-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("fit-btn").disabled = true;
  stopFollowing("fit-status");
  $("fit-progress").value = 0;
  const body = { dataset: S.get("dataset"), synthesizer: $("synth").value || null,
    target: $("target").value || null };
  const eps = $("dp-epsilon").value.trim();
  try {
    if (eps) {
      body.dp_epsilon = Number(eps);
      const bounds = parseBounds($("dp-bounds").value);
      if (Object.keys(bounds).length) body.bounds = bounds;
    }
    const job = await api("POST", "/api/fits", body);
    S.set("fitjob", job.id);
    await followFit(job.id);
  } catch (e) { say("fit-status", e.message, true); }
  $("fit-btn").disabled = false;
});

async function followFit(id) {
  await follow(id, "fit-progress", "fit-status", async (job) => {
    const r = job.result;
    S.set("model", r.model_id);
    const handled = Object.entries(r.pii_handled).map(([c, p]) => `${c}: ${p}`).join(", ");
    let dp = "";
    if (r.privacy) {
      dp = ` Differential privacy: epsilon ${r.privacy.epsilon} charged; budget left ` +
        `${r.privacy.budget_left} of ${r.privacy.budget_total}.`;
    }
    say("fit-status", `Model ${r.model_id} (${r.synthesizer}) fitted on ` +
      `${r.train_rows.toLocaleString()} rows (${r.holdout_rows.toLocaleString()} held out). ` +
      `PII handled: ${handled || "none"}.${dp}`);
    if (r.target && [...$("target").options].some((o) => o.value === r.target)) {
      $("target").value = r.target;
      showTarget();
    }
    show("sample-btn", "report-section", "scenario-section");
  });
}

$("sample-btn").addEventListener("click", async () => {
  try {
    const r = await api("POST", `/api/models/${S.get("model")}/sample`,
      { n: 1000, format: "csv" }, true);
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: "synthetic.csv" });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) { say("fit-status", e.message, true); }
});

// ------------------------------------------------------------------ evaluation report
$("eval-btn").addEventListener("click", async () => {
  $("eval-btn").disabled = true;
  stopFollowing("eval-status");
  try {
    const job = await api("POST", `/api/models/${S.get("model")}/evaluate`,
      { target: $("target").value || null });
    S.set("evaljob", job.id);
    await followEval(job.id);
  } catch (e) { say("eval-status", e.message, true); }
  $("eval-btn").disabled = false;
});

async function followEval(id) {
  await follow(id, "eval-progress", "eval-status", async (job) => {
    const rows = job.result.report.scorecard.map((m) => el("tr", {},
      el("th", { scope: "row", text: m.label }),
      el("td", { text: m.value == null ? "-" : Number(m.value).toPrecision(3) }),
      el("td", { text: m.status }), el("td", { text: m.method })));
    const target = job.result.target;
    $("scorecard").replaceChildren(el("table", {},
      el("caption", { text: "Scorecard (synthetic vs held-out real data" +
        (target ? `; target ${target})` : ")") }),
      el("tr", {}, el("th", { scope: "col", text: "Measure" }),
        el("th", { scope: "col", text: "Value" }), el("th", { scope: "col", text: "Status" }),
        el("th", { scope: "col", text: "How it was measured" })), ...rows));
    const html = await (await api("GET", job.result.html, undefined, true)).text();
    const fr = $("report-frame");
    fr.srcdoc = html;
    fr.hidden = false;
  });
}

// ------------------------------------------------------------------ personas
$("personas-btn").addEventListener("click", async () => {
  $("personas-btn").disabled = true;
  stopFollowing("personas-status");
  try {
    const job = await api("POST", `/api/datasets/${S.get("dataset")}/personas`, { max_k: 5 });
    S.set("personasjob", job.id);
    await followPersonas(job.id);
  } catch (e) { say("personas-status", e.message, true); }
  $("personas-btn").disabled = false;
});

async function followPersonas(id) {
  await follow(id, "personas-progress", "personas-status", async (job) => {
    const cards = job.result.cards;
    say("personas-status", `${cards.k} personas (k chosen by ${cards.chosen_by}) on ` +
      `${cards.n_rows.toLocaleString()} customers.`);
    $("cards").replaceChildren(...cards.personas.map(renderCard));
    const sel = $("persona-select");
    sel.replaceChildren(...cards.personas.map((p) => el("option", { value: p.id, text: p.name })));
    show("interview-section");
    await interviewStatus();
  });
}

function renderCard(p) {
  const card = el("article", { class: "card", "aria-label": p.name },
    el("h3", { text: p.name }),
    el("p", { class: "share", text: `${(100 * p.share).toFixed(1)}% of customers` }),
    el("p", { text: p.description }));
  if (p.members && p.members.length) {
    const cols = Object.keys(p.members[0]).slice(0, 4);
    const fmt = (v) => v == null ? "" : typeof v === "number" && !Number.isInteger(v)
      ? v.toPrecision(3) : String(v);
    card.append(el("div", { class: "scroll" }, el("table", {},
      el("caption", { text: "Synthetic members (first columns)" }),
      el("tr", {}, ...cols.map((c) => el("th", { scope: "col", text: c }))),
      ...p.members.map((m) => el("tr", {}, ...cols.map((c) => el("td", { text: fmt(m[c]) })))))));
  }
  return card;
}

// ------------------------------------------------------------------ scenarios
function fillChoiceColumns() {
  const sel = $("choice-col");
  const cats = schema.columns.filter((c) => c.kind === "categorical").map((c) => c.name);
  sel.replaceChildren(...cats.map((c) => el("option", { value: c, text: c })));
  if (cats.includes("choice")) sel.value = "choice";
}

let scenarioTimer = null;
$("scenario-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const res = await runScenario({});
  if (!res) return;
  $("sliders").replaceChildren(...res.alternatives.map((a, i) => {
    const id = "slider-" + i;
    const input = el("input", { id, type: "range", min: "-50", max: "50", step: "5",
      value: "0", "data-alt": a, "aria-valuetext": "0%" });
    const label = el("label", { for: id, text: `Price change of ${a}: +0%` });
    input.addEventListener("input", () => {
      const v = Number(input.value);
      const txt = (v > 0 ? "+" : "") + v + "%";
      label.textContent = `Price change of ${a}: ${txt}`;
      input.setAttribute("aria-valuetext", txt);
      clearTimeout(scenarioTimer);
      scenarioTimer = setTimeout(() => runScenario(currentPrices()), 250);
    });
    return el("div", { class: "slider" }, label, input);
  }));
  $("ab-focal").replaceChildren(...res.alternatives.map((a) => el("option", { value: a, text: a })));
  if (!$("ab-b").value) $("ab-b").value = `${$("price-prefix").value}${res.alternatives[0]}=-10%`;
  $("ab-form").hidden = false;
});

$("ab-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  say("ab-error", "");
  try {
    const r = await api("POST", `/api/models/${S.get("model")}/abtest`, {
      choice: $("choice-col").value, price_prefix: $("price-prefix").value,
      variants: ["A:", "B:" + $("ab-b").value], focal: $("ab-focal").value });
    const pct = (v) => (100 * v).toFixed(1) + "%";
    const lift = Object.fromEntries(r.lift.map((l) => [l.variant, l]));
    const rows = r.conversion.filter((c) => c.group === "all").map((c) => el("tr", {},
      el("th", { scope: "row", text: c.variant }), el("td", { text: pct(c.conversion) }),
      el("td", { text: `${pct(c.low)} to ${pct(c.high)}` }),
      el("td", { text: lift[c.variant] ? `${lift[c.variant].diff_pts.toFixed(2)} pts, ` +
        `P(better) ${lift[c.variant].p_better.toFixed(2)}, ` +
        `${lift[c.variant].n_per_arm.toLocaleString()} per arm for a real test` : "control" }),
      el("td", { text: c.extrapolation ? "yes: outside the prices the model saw" : "no" })));
    $("ab-result").replaceChildren(el("table", { id: "ab-table" },
      el("caption", { text: `Conversion to ${r.conversion.length ? $("ab-focal").value : ""}: ` +
        r.method }),
      el("tr", {}, ...["Variant", "Conversion", "95% interval", "Against A", "Extrapolation"]
        .map((h) => el("th", { scope: "col", text: h }))), ...rows));
  } catch (e) { say("ab-error", e.message, true); }
});

function currentPrices() {
  const out = {};
  for (const s of $("sliders").querySelectorAll("input[type=range]")) {
    out[s.dataset.alt] = Number(s.value);
  }
  return out;
}

async function runScenario(price) {
  say("scenario-error", "");
  try {
    const res = await api("POST", `/api/models/${S.get("model")}/scenario`, {
      choice: $("choice-col").value, price_prefix: $("price-prefix").value, price });
    drawShares(res);
    return res;
  } catch (e) { say("scenario-error", e.message, true); return null; }
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

function drawShares(res) {
  const rows = res.shares, W = 560, rowH = 44, left = 120, top = 28;
  const H = top + rows.length * rowH + 24;
  const x = (v) => left + v * (W - left - 60);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    "aria-labelledby": "shares-title", id: "shares-svg" });
  root.append(svg("title", { id: "shares-title" },
    "Choice shares per alternative, baseline vs scenario: " + rows.map((r) =>
      `${r.alternative} ${(100 * r.base).toFixed(1)}% to ${(100 * r.scenario).toFixed(1)}%`)
      .join("; ")));
  root.append(svg("rect", { x: left, y: 6, width: 12, height: 12, fill: "#5f6b7a" }));
  root.append(svg("text", { x: left + 16, y: 16 }, "baseline"));
  root.append(svg("rect", { x: left + 90, y: 6, width: 12, height: 12, fill: "#b3461f" }));
  root.append(svg("text", { x: left + 106, y: 16 }, "scenario (95% interval)"));
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    root.append(svg("text", { x: left - 8, y: y + 20, "text-anchor": "end" }, r.alternative));
    root.append(svg("rect", { x: left, y: y + 4, width: x(r.base) - left, height: 14,
      fill: "#5f6b7a", class: "bar-base" }));
    root.append(svg("rect", { x: left, y: y + 20, width: x(r.scenario) - left, height: 14,
      fill: "#b3461f", class: "bar-scenario", "data-alt": r.alternative }));
    root.append(svg("line", { x1: x(r.low), x2: x(r.high), y1: y + 27, y2: y + 27,
      stroke: "#000", "stroke-width": 1.5 }));
    root.append(svg("text", { x: x(Math.max(r.base, r.high)) + 6, y: y + 24 },
      `${(100 * r.base).toFixed(1)}% → ${(100 * r.scenario).toFixed(1)}%`));
  });
  $("shares-chart").replaceChildren(root);
  $("shares-caption").textContent = `${res.description}. ${res.method}; ` +
    `${res.n_customers.toLocaleString()} synthetic customers.`;
  $("shares-figure").hidden = false;
}

// ------------------------------------------------------------------ interview
async function interviewStatus() {
  try {
    const st = await api("GET", "/api/interview/status");
    if (st.available) { $("interview-form").hidden = false; say("interview-status", ""); }
    else { $("interview-form").hidden = true; say("interview-status", st.reason); }
  } catch (e) { say("interview-status", e.message, true); }
}

$("interview-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const q = $("question").value;
  try {
    const a = await api("POST", `/api/personas/${S.get("personasjob")}/interview`,
      { persona: $("persona-select").value, question: q });
    $("answers").prepend(el("div", { class: "answer" },
      el("p", {}, el("strong", { text: "Q: " }), q),
      el("p", {}, el("strong", { text: "A: " }), a.answer),
      el("p", { class: "share", text: "Evidence records: " +
        ((a.citations || []).join(", ") || "none matched the question") })));
  } catch (e) { say("interview-status", e.message, true); }
});

// ------------------------------------------------------------------ resume after reload
async function resume() {
  const fit = S.get("fitjob"), ev = S.get("evaljob"), pj = S.get("personasjob");
  const tasks = [];
  if (fit) tasks.push(followFit(fit));
  if (ev) { show("report-section"); tasks.push(followEval(ev)); }
  if (pj) tasks.push(followPersonas(pj));
  await Promise.all(tasks);
}

if (token) { $("token").value = token; start(); }
