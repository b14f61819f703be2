// The Insights page: a council's questions per day by outcome and platform, the clauses asked
// most and marked not helpful, and the unanswered questions grouped into themes.
// Signed in through the council's identity provider, policy owners see their own council;
// on this machine an administrator may use the admin token instead (as on the escalations page).
"use strict";

const TOKEN_KEY = "policybot.admin.token";
const byId = (id) => document.getElementById(id);
const COLOURS = {
  answer: "#00703c", clarify: "#b58105", fallback: "#b10e1e",
  web: "#1d4f91", slack: "#611f69", teams: "#4b53bc",
};
const OUTCOMES = [["answer", "Answered"], ["clarify", "Offered options"], ["fallback", "Not covered"]];
const PLATFORMS = [["web", "Web chat"], ["slack", "Slack"], ["teams", "Teams"]];
const charts = {};
let me = null;

function insightsJSON(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const signedIn = me && me.signed_in && (me.admin || me.policy_owner);
  return requestJSON(path, { headers: !signedIn && token ? { Authorization: `Bearer ${token}` } : {} });
}

function shortDay(iso) {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
}

// One chart per canvas: drawn again, the old one is destroyed first (Chart.js keeps state).
function draw(id, config, summary) {
  if (charts[id]) charts[id].destroy();
  const canvas = byId(id);
  canvas.setAttribute("aria-label", summary);
  charts[id] = new Chart(canvas, {
    ...config,
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: "bottom" } },
      ...config.options,
    },
  });
}

function stackedByDay(id, days, series, field) {
  const labels = days.map((day) => shortDay(day.day));
  const datasets = series.map(([key, label]) => ({
    label, backgroundColor: COLOURS[key], data: days.map((day) => day[field][key] || 0),
  })).filter((set) => set.data.some(Boolean));
  const totals = datasets.map((set) => `${set.label} ${set.data.reduce((a, b) => a + b, 0)}`);
  draw(id, {
    type: "bar",
    data: { labels, datasets },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  }, totals.length ? totals.join(", ") : "No questions in this period");
}

function render(data) {
  const found = data.insights;
  const total = (label, value, note = "") => el("li", {}, el("span", { class: "tile-value", text: value }), el("span", { class: "tile-label", text: label }), note ? el("span", { class: "muted", text: note }) : null);
  byId("totals").replaceChildren(
    total("questions asked", String(found.asked)),
    total("answered", `${Math.round(found.answer_rate * 100)}%`, `${found.answered} of ${found.asked}`),
    total("offered options", String(found.clarified)),
    total("not covered", String(found.not_covered)));
  byId("status").textContent = `${found.council}, ${shortDay(found.since)} to ${shortDay(found.until)}.`;

  stackedByDay("chart-outcomes", found.days, OUTCOMES, "kinds");
  stackedByDay("chart-platforms", found.days, PLATFORMS, "platforms");
  const top = found.top_clauses;
  // A bar's height stays the same however many clauses there are.
  byId("chart-clauses").parentElement.style.height = `${4 + 2.25 * Math.max(top.length, 1)}rem`;
  draw("chart-clauses", {
    type: "bar",
    data: {
      labels: top.map((use) => `${use.section}: ${use.label}`.slice(0, 60)),
      datasets: [{ label: "Answers", backgroundColor: COLOURS.web, data: top.map((use) => use.answered) }],
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  }, top.length ? top.map((use) => `${use.label}: ${use.answered}`).join("; ") : "No answers in this period");

  byId("themes").replaceChildren(...(found.themes.length ? found.themes.map((theme) => {
    const who = theme.people === 1 ? "1 person" : `${theme.people} people`;
    const unhelpful = theme.not_helpful ? ` (${theme.not_helpful} marked an answer not helpful)` : "";
    return el("li", {},
      el("p", { class: "theme-head" }, el("strong", { text: `${who} asked about ${theme.label}` }), unhelpful),
      el("details", {},
        el("summary", { text: `“${theme.example}”` }),
        el("ul", {}, ...theme.questions.map((question) => el("li", { text: question })))));
  }) : [el("li", { class: "muted", text: "Nothing went unanswered in this period." })]));

  byId("unhelpful").tBodies[0].replaceChildren(...(found.unhelpful_clauses.length ? found.unhelpful_clauses.map((use) => el("tr", {},
    el("td", { text: `${use.section}: ${use.label}` }),
    el("td", { text: String(use.not_helpful) }),
    el("td", { text: String(use.answered) }))) : [el("tr", {}, el("td", { colspan: "3", class: "muted", text: "No answer was marked not helpful." }))]));
}

async function load() {
  const query = new URLSearchParams();
  if (byId("org").value) query.set("org", byId("org").value);
  query.set("days", byId("days").value || "30");
  byId("status").textContent = "Loading…";
  const data = await insightsJSON(`/api/insights?${query}`);
  if (!byId("org").options.length) {
    byId("org").replaceChildren(...data.councils.map((each) => el("option", { value: each.org, text: each.council })));
    byId("days").replaceChildren(...data.periods.map((days) => el("option", { value: String(days), text: `Last ${days} days` })));
    byId("days").value = "30";
  }
  byId("insights").hidden = false;
  byId("login-form").hidden = true;
  render(data);
}

function showError(error) {
  if (error.status === 401 && !me.sign_in_required) {
    sessionStorage.removeItem(TOKEN_KEY);
    byId("insights").hidden = true;
    byId("login-form").hidden = false;
    byId("login-error").textContent = "That token was not accepted.";
  } else {
    byId("status").textContent = error.message;
  }
}

async function start() {
  me = await requestJSON("/api/me");
  const owner = me.signed_in && (me.admin || me.policy_owner);
  byId("sso").hidden = !me.sign_in || owner;
  if (me.signed_in && !owner) byId("sso-status").textContent = `Signed in as ${me.name}, who owns no council's policy here.`;
  byId("login-form").hidden = me.sign_in_required || owner;
  if (owner || (!me.sign_in_required && sessionStorage.getItem(TOKEN_KEY))) await load();
}

document.addEventListener("DOMContentLoaded", () => {
  byId("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, byId("token").value);
    byId("token").value = "";
    load().catch(showError);
  });
  byId("org").addEventListener("change", () => load().catch(showError));
  byId("days").addEventListener("change", () => load().catch(showError));
  byId("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    if (me && me.signed_in) requestJSON("/auth/logout", { method: "POST", body: {} }).finally(() => window.location.reload());
    else window.location.reload();
  });
  start().catch(showError);
});
