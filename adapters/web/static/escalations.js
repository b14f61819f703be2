// The admin page: sign in with the admin token, list cases by council, status and team, open
// one to read its facts and timeline, and acknowledge, assign, note or resolve it.
// The token lives in sessionStorage (gone when the tab closes) and travels only as the
// Authorization header: no cookie, so no other site can make this browser act on a case.
"use strict";

const TOKEN_KEY = "policybot.admin.token";
const NAME_KEY = "policybot.admin.name";
let selectedReference = null;

const byId = (id) => document.getElementById(id);
const when = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "");

// Who /api/me says is signed in through the council's identity provider (null until asked).
let me = null;
const signedInPerson = () => Boolean(me && me.signed_in && me.admin);

// Signed in through the identity provider, the session cookie is the credential; otherwise
// the admin token is sent (on this machine only: a public server wants sign-in).
function adminJSON(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = !signedInPerson() && token ? { Authorization: `Bearer ${token}` } : {};
  return requestJSON(path, { ...options, headers });
}

function showSignedIn(signedIn) {
  byId("login-form").hidden = signedIn;
  byId("cases-section").hidden = !signedIn;
  if (!signedIn) byId("case-detail").hidden = true;
}

// A refused token (401) or a switched-off API (404 on the list) sends the person back to sign in.
function signOut(message = "") {
  if (signedInPerson()) {
    requestJSON("/auth/logout", { method: "POST", body: {} }).finally(() => window.location.reload());
    return;
  }
  sessionStorage.removeItem(TOKEN_KEY);
  selectedReference = null;
  showSignedIn(false);
  byId("login-error").textContent = message;
  byId("token").focus();
}

function handleAdminError(error, showIn) {
  if (error.status === 401) signOut("That token was not accepted. Check it and sign in again.");
  else showIn(error.message);
}

// The list comes a page at a time, newest first; "Show older cases" adds the next page.
let nextPage = null;

async function loadCases({ older = false } = {}) {
  const filters = new URLSearchParams();
  for (const name of ["org", "status", "route"]) {
    const value = byId(`filter-${name}`).value;
    if (value) filters.set(name, value);
  }
  if (older && nextPage) filters.set("before", nextPage);
  byId("list-status").textContent = "Loading…";
  const data = await adminJSON(`/api/escalations?${filters}`);
  nextPage = data.next;
  byId("older-cases").hidden = !data.next;
  const rows = data.cases.map((item) => {
    const open = el("button", { type: "button", class: "link", text: item.reference, "aria-label": `Open case ${item.reference}` });
    open.addEventListener("click", () => openCase(item.reference));
    const row = el("tr", { "data-reference": item.reference },
      el("td", {}, open),
      el("td", { text: item.council }),
      el("td", { text: item.kind_label }),
      el("td", { text: item.route_names.join(", ") }),
      el("td", {}, el("span", { class: `status status-${item.status}`, text: item.status }),
        ...(item.not_yet_delivered.length ? [el("span", { class: "undelivered", text: ` not yet delivered to ${item.not_yet_delivered.join(" and ")}` })] : [])),
      el("td", {}, el("time", { datetime: item.created_at, text: when(item.created_at) })));
    if (item.reference === selectedReference) row.classList.add("selected");
    return row;
  });
  const body = byId("cases").tBodies[0];
  if (older) body.append(...rows); else body.replaceChildren(...rows);
  const shown = body.rows.length;
  byId("list-status").textContent = shown ? `${shown} case(s)${data.next ? ", and older ones" : ""}` : "No cases match.";
}

function fact(term, value) {
  return [el("dt", { text: term }), el("dd", { text: value || "—" })];
}

// Where each alert stands; a team whose channel cannot be reached is said first and plainly.
function deliveryText(item) {
  const each = item.alerts.map((alert) => `${alert.platform} ${alert.address}: ${alert.state}` +
    (alert.error ? ` (${alert.attempts} attempts, last error ${alert.error})` : ""));
  const unreached = item.not_yet_delivered.length
    ? [`Not yet delivered to ${item.not_yet_delivered.join(" and ")}; policybot keeps trying while the case is open.`]
    : [];
  return [...unreached, ...each].join("\n");
}

function renderCase(item, timeline) {
  const report = item.report;
  const reporter = report.reporter;
  byId("case-title").textContent = `${item.reference}: ${item.kind_label}`;
  const evidence = el("dd");
  if (report.evidence.length) {
    const list = el("ul");
    // Shown as text, not as links: a reported link may be hostile, and a person copies it on purpose.
    for (const link of report.evidence) list.append(el("li", { text: link }));
    evidence.append(list);
  } else {
    evidence.textContent = "—";
  }
  byId("case-facts").replaceChildren(
    ...fact("Council", item.council),
    ...fact("Status", item.outcome_label ? `${item.status}: ${item.outcome_label}` : item.status),
    ...fact("Sent to", item.route_names.join(" and ")),
    ...fact("Delivery", deliveryText(item)),
    ...fact("Assigned to", item.assigned_to),
    ...fact("What happened", report.what),
    ...fact("Where", report.where),
    ...fact("When", report.when),
    ...fact("Who is involved", report.involved),
    el("dt", { text: "Evidence" }), evidence,
    ...fact("Line manager involved", report.manager_involved ? "Yes" : "No"),
    ...fact("Reported by", [reporter.name, reporter.job_title, reporter.area].filter(Boolean).join(", ")),
    ...fact("Phone", reporter.phone),
    ...fact("Reported", when(item.created_at)),
    ...fact("Legal hold", item.legal_hold ? "Yes: kept whatever the retention period" : "No"),
  );
  byId("case-timeline").replaceChildren(...timeline.map((event) => el("li", {},
    el("time", { datetime: event.at, text: when(event.at) }),
    el("span", { class: "event-text", text: ` ${event.text}` }),
    el("span", { class: "muted", text: ` (${event.by})` }))));
  const resolved = item.status === "resolved";
  for (const id of ["acknowledge", "assign", "resolve"]) byId(id).disabled = resolved;
  byId("acknowledge").disabled = item.status !== "open";
  const hold = byId("legal-hold");
  hold.textContent = item.legal_hold ? "Release legal hold" : "Place legal hold";
  hold.dataset.action = item.legal_hold ? "release" : "hold";
}

async function openCase(reference) {
  selectedReference = reference;
  for (const row of byId("cases").tBodies[0].rows) row.classList.toggle("selected", row.dataset.reference === reference);
  byId("action-status").textContent = "";
  try {
    const data = await adminJSON(`/api/escalations/${encodeURIComponent(reference)}`);
    renderCase(data.case, data.timeline);
    byId("case-detail").hidden = false;
    byId("case-title").focus();
  } catch (error) {
    handleAdminError(error, (message) => { byId("list-status").textContent = message; });
  }
}

function clearActionErrors() {
  for (const name of ["by", "text", "outcome"]) byId(`error-${name}`).textContent = "";
}

async function act(action) {
  clearActionErrors();
  const body = { action };
  if (!signedInPerson()) {  // signed in, the server records who: nothing to type
    const by = byId("acting-name").value.trim();
    if (!by) { byId("error-by").textContent = "Give your name: it goes on the case's record."; byId("acting-name").focus(); return; }
    sessionStorage.setItem(NAME_KEY, by);
    body.by = by;
  }
  if (action === "note" || action === "resolve" || action === "hold") body.text = byId("note-text").value.trim();
  if (action === "resolve") body.outcome = byId("outcome").value;
  const reference = selectedReference;
  try {
    const data = await adminJSON(`/api/escalations/${encodeURIComponent(reference)}/actions`, { method: "POST", body });
    byId("action-status").textContent = data.message;
    if (data.changed && body.text) byId("note-text").value = "";
    renderCase(data.case, data.timeline);
    await loadCases();
  } catch (error) {
    handleAdminError(error, (message) => {
      const slot = byId(`error-${error.field}`);
      if (slot) slot.textContent = message;
      else byId("action-status").textContent = message;
    });
  }
}

async function fillFilters() {
  const [orgs, choices] = await Promise.all([requestJSON("/api/orgs"), requestJSON("/api/escalation-choices")]);
  for (const org of orgs.orgs) byId("filter-org").append(el("option", { value: org.org, text: org.council }));
  for (const status of choices.statuses) byId("filter-status").append(el("option", { value: status.value, text: status.label }));
  for (const route of choices.routes) byId("filter-route").append(el("option", { value: route.value, text: route.label }));
  for (const outcome of choices.outcomes) byId("outcome").append(el("option", { value: outcome.value, text: outcome.label }));
}

async function signIn(event) {
  event?.preventDefault();
  const typed = byId("token").value.trim();
  if (typed) sessionStorage.setItem(TOKEN_KEY, typed);
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  byId("login-error").textContent = "";
  try {
    await loadCases();
    byId("token").value = "";
    showSignedIn(true);
  } catch (error) {
    signOut(error.status === 401 ? "That token was not accepted." : error.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  byId("case-title").setAttribute("tabindex", "-1");
  byId("acting-name").value = sessionStorage.getItem(NAME_KEY) || "";
  byId("login-form").addEventListener("submit", signIn);
  byId("sign-out").addEventListener("click", () => signOut());
  byId("older-cases").addEventListener("click", () => loadCases({ older: true }).catch((error) => handleAdminError(error, (m) => { byId("list-status").textContent = m; })));
  byId("filters").addEventListener("submit", (event) => { event.preventDefault(); loadCases().catch((error) => handleAdminError(error, (m) => { byId("list-status").textContent = m; })); });
  for (const name of ["org", "status", "route"]) {
    byId(`filter-${name}`).addEventListener("change", () => byId("filters").requestSubmit());
  }
  byId("acknowledge").addEventListener("click", () => act("acknowledge"));
  byId("assign").addEventListener("click", () => act("assign"));
  byId("add-note").addEventListener("click", () => act("note"));
  byId("resolve").addEventListener("click", () => act("resolve"));
  byId("legal-hold").addEventListener("click", (event) => act(event.currentTarget.dataset.action));
  fillFilters().catch(() => { byId("login-error").textContent = "Could not load the councils; is the server running?"; });
  startSession().catch(() => { if (sessionStorage.getItem(TOKEN_KEY)) signIn(); });
});

// A server with sign-in offers it; one reachable beyond this machine takes nothing else from
// a page. Signed in as an administrator, the cases show at once, acted on in their name.
async function startSession() {
  me = await requestJSON("/api/me");
  byId("sso").hidden = !me.sign_in || signedInPerson();
  byId("login-form").hidden = me.sign_in_required;
  if (me.signed_in && !me.admin) byId("sso-status").textContent = `Signed in as ${me.name}, who is not an administrator of cases.`;
  if (signedInPerson()) {
    byId("acting-name-row").hidden = true;
    byId("acting-as").hidden = false;
    byId("acting-as").textContent = `Acting as ${me.name}: your actions are recorded under your council account.`;
    showSignedIn(true);
    byId("login-form").hidden = true;
    await loadCases();
  } else if (!me.sign_in_required && sessionStorage.getItem(TOKEN_KEY)) {
    await signIn();
  }
}
