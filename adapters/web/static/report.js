// The incident report form of the web chat: a modal dialog posted to /api/escalations for the
// council chosen at the top. A refusal names the field at fault; its message is shown beside it.
"use strict";

// The server's field names (pydantic's, dotted for the reporter) and the inputs that hold them.
const REPORT_INPUTS = {
  kind: "report-kind",
  what: "report-what",
  where: "report-where",
  when: "report-when",
  involved: "report-involved",
  evidence: "report-evidence",
  "reporter.name": "report-name",
  "reporter.job_title": "report-job-title",
  "reporter.area": "report-area",
  "reporter.phone": "report-phone",
  manager_involved: "report-manager",
};

const reportField = (id) => document.getElementById(id);

function reportBody() {
  const value = (name) => reportField(REPORT_INPUTS[name]).value.trim();
  return {
    org: document.getElementById("org").value,
    kind: value("kind") || null,
    what: value("what"),
    where: value("where"),
    when: value("when"),
    involved: value("involved"),
    evidence: value("evidence").split("\n").map((line) => line.trim()).filter(Boolean),
    reporter: {
      name: value("reporter.name"),
      job_title: value("reporter.job_title"),
      area: value("reporter.area"),
      phone: value("reporter.phone"),
    },
    manager_involved: reportField(REPORT_INPUTS.manager_involved).checked,
  };
}

function clearReportErrors() {
  for (const node of document.querySelectorAll("#report-form .error")) node.textContent = "";
  for (const id of Object.values(REPORT_INPUTS)) reportField(id).removeAttribute("aria-invalid");
}

// "evidence.2" is the evidence box; "reporter.name" is the name box; anything else is the form's.
function showReportError(field, message) {
  const parts = (field || "").split(".");
  const name = parts[0] === "reporter" ? parts.slice(0, 2).join(".") : parts[0];
  const inputId = REPORT_INPUTS[name];
  if (!inputId) {
    document.getElementById("report-error-org").textContent = message;
    return;
  }
  document.getElementById(`report-error-${name}`).textContent = message;
  const input = reportField(inputId);
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

// Who /api/me says is signed in, and whether this server wants sign-in to report.
let ME = { sign_in_required: false, signed_in: false };

// The form, or instead: sign in first (a server reachable beyond this machine), or who to tell
// (a council whose reports would reach nobody here).
function reportBarrier(chosen) {
  if (ME.sign_in_required && !ME.signed_in) {
    return ME.sign_in
      ? { text: "Sign in with your council account to report an incident, so the team knows who to contact.", signIn: true }
      : { text: `Reports are not taken on this page here. ${chosen ? chosen.report_elsewhere : ""}`, signIn: false };
  }
  if (chosen && !chosen.takes_reports) return { text: chosen.report_elsewhere, signIn: false };
  return null;
}

function openReport() {
  const dialog = document.getElementById("report-dialog");
  const council = document.getElementById("org");
  const chosen = COUNCILS.find((org) => org.org === council.value);
  document.getElementById("report-done").hidden = true;
  const barrier = reportBarrier(chosen);
  if (barrier) {
    document.getElementById("report-form").hidden = true;
    document.getElementById("report-elsewhere").hidden = false;
    document.getElementById("report-elsewhere-text").textContent = barrier.text;
    document.getElementById("report-sign-in").hidden = !barrier.signIn;
    dialog.showModal();
    document.getElementById(barrier.signIn ? "report-sign-in" : "report-elsewhere-close").focus();
    return;
  }
  document.getElementById("report-council").textContent = council.selectedOptions[0]?.textContent || "your council";
  document.getElementById("report-elsewhere").hidden = true;
  document.getElementById("report-form").hidden = false;
  document.getElementById("report-status").textContent = "";
  clearReportErrors();
  dialog.showModal();
  reportField(REPORT_INPUTS.kind).focus();
}

async function sendReport(event) {
  event.preventDefault();
  clearReportErrors();
  const body = reportBody();
  if (!body.what) { showReportError("what", "Say what happened."); return; }
  if (!body.reporter.name) { showReportError("reporter.name", "Give your name, so the team can reach you."); return; }
  const button = document.getElementById("report-send");
  const progress = document.getElementById("report-status");
  button.disabled = true;
  progress.textContent = "Sending…";
  try {
    const receipt = await requestJSON("/api/escalations", { method: "POST", body });
    const words = `Your reference is ${receipt.reference}. It has gone to ${receipt.route_names.join(" and ")}.`;
    document.getElementById("report-receipt").textContent = words;
    document.getElementById("report-form").reset();
    document.getElementById("report-form").hidden = true;
    document.getElementById("report-done").hidden = false;
    document.getElementById("report-close").focus();
    addTurn(el("li", { class: "bot receipt" }, el("p", { class: "answer", text: "Report sent" }), el("p", { text: words })));
    if (receipt.follow) follow(receipt.reference, receipt.follow);  // signed in: followed as you
    showFollowed().catch(() => {});
  } catch (error) {
    showReportError(error.field, error.message);
  } finally {
    button.disabled = false;
    progress.textContent = "";
  }
}

// The reports this browser sent, kept so that their reporter sees what happens to them: the web
// chat has no sign-in, so each report's secret follow token stands in for one.
const FOLLOWED_KEY = "policybot.followed-reports";
const FOLLOW_EVERY_MS = 60_000;

function followed() {
  try { return JSON.parse(localStorage.getItem(FOLLOWED_KEY)) || []; } catch { return []; }
}

function follow(reference, token) {
  const kept = followed().filter((item) => item.follow !== token);
  kept.unshift({ reference, follow: token });
  localStorage.setItem(FOLLOWED_KEY, JSON.stringify(kept.slice(0, 20)));
}

async function showFollowed() {
  const tokens = followed().map((item) => item.follow);
  if (!tokens.length && !ME.signed_in) return;
  const { reports } = await requestJSON("/api/escalations/follow", { method: "POST", body: { tokens } });
  const list = document.getElementById("my-reports-list");
  list.replaceChildren(...reports.map((item) => {
    const status = item.outcome_label ? `${item.status}: ${item.outcome_label}` : item.status;
    return el("li", { "data-reference": item.reference },
      el("p", {}, el("strong", { text: item.reference }), el("span", { class: "muted", text: ` · ${status}` })),
      ...(item.not_yet_delivered.length ? [el("p", { class: "error", text:
        `Not yet delivered to ${item.not_yet_delivered.join(" and ")}: their channel cannot be reached, and policybot keeps trying. If it is urgent, contact them directly.` })] : []),
      el("ul", { class: "updates" }, ...item.updates.map((update) => el("li", {},
        el("time", { datetime: update.at, text: new Date(update.at).toLocaleString() }),
        el("span", { text: ` ${update.text}` })))));
  }));
  document.getElementById("my-reports").hidden = reports.length === 0;
}

async function loadKinds() {
  const choices = await requestJSON("/api/escalation-choices");
  const select = reportField(REPORT_INPUTS.kind);
  for (const kind of choices.kinds) select.append(el("option", { value: kind.value, text: kind.label }));
}

document.addEventListener("DOMContentLoaded", () => {
  const dialog = document.getElementById("report-dialog");
  document.getElementById("report-open").addEventListener("click", openReport);
  document.getElementById("report-form").addEventListener("submit", sendReport);
  document.getElementById("report-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("report-close").addEventListener("click", () => dialog.close());
  document.getElementById("report-elsewhere-close").addEventListener("click", () => dialog.close());
  requestJSON("/api/me").then((me) => { ME = me; }).catch(() => {}).finally(() => showFollowed().catch(() => {}));
  setInterval(() => showFollowed().catch(() => {}), FOLLOW_EVERY_MS);
  loadKinds().catch(() => { document.getElementById("report-error-kind").textContent = "Could not load the kinds of incident; you can still send the report."; });
});
