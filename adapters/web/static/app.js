// The web chat: pick a council (remembered), ask, see the quoted clause, pick "did you mean"
// options, and rate answers. All text from the server or the user is set with textContent, so
// nothing a user types is ever interpreted as HTML.
"use strict";

const ORG_KEY = "policybot.org";
// The councils as /api/orgs describes them; the report form reads whether each takes reports.
let COUNCILS = [];
const ASKER_KEY = "policybot.asker";
// The clause the last answer quoted: what "how do other councils handle this?" is about.
let lastClause = null;

function asker() {
  let id = localStorage.getItem(ASKER_KEY);
  if (!id) {
    id = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    localStorage.setItem(ASKER_KEY, id);
  }
  return id;
}

function postJSON(path, body) {
  return requestJSON(path, { method: "POST", body });
}

const conversation = () => document.getElementById("conversation");
const status = (text) => { document.getElementById("status").textContent = text; };

function addTurn(node) {
  conversation().append(node);
  node.scrollIntoView({ block: "end", behavior: "smooth" });
}

function feedbackRow(id) {
  const row = el("div", { class: "feedback" }, el("span", { class: "muted", text: "Was this helpful?" }));
  for (const [label, helpful] of [["Yes", true], ["No", false]]) {
    const button = el("button", { type: "button", class: "secondary", "aria-label": helpful ? "Helpful" : "Not helpful", text: label });
    button.addEventListener("click", async () => {
      row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        await postJSON("/api/feedback", { id, helpful });
        row.replaceChildren(el("span", { class: "muted", text: "Thank you for the feedback." }));
      } catch (error) {
        row.append(el("span", { class: "error", text: error.message }));
      }
    });
    row.append(button);
  }
  return row;
}

function quoteBlock(match, policy) {
  return [
    el("blockquote", { text: match.quote }),
    el("p", { class: "source", text: `${match.section} · ${policy.council}, ${policy.title}` }),
  ];
}

// The answer under the question its verdict answers: "No." is only ever read as the answer to
// this question, never to one the user asked the other way round.
function answerBlock(asks, answer) {
  const nodes = [];
  if (asks) nodes.push(el("p", { class: "asks", text: asks }));
  nodes.push(el("p", { class: "answer", text: answer }));
  return nodes;
}

// The other clauses that apply, each under the question it answers.
function alsoBlock(also, policy) {
  const block = el("div", { class: "also", role: "group", "aria-label": "Also relevant" },
    el("p", { class: "also-heading", text: "Also relevant:" }));
  for (const match of also) {
    if (match.asks) block.append(el("p", { class: "asks", text: match.asks }));
    block.append(...quoteBlock(match, policy));
  }
  return block;
}

function renderReply(reply) {
  const turn = el("li", { class: "bot" });
  turn.append(...answerBlock(reply.kind === "answer" ? reply.asks : null, reply.answer));
  if (reply.kind === "answer" && reply.matches.length) {
    turn.append(...quoteBlock(reply.matches[0], reply.policy));
  }
  if (reply.also.length) turn.append(alsoBlock(reply.also, reply.policy));
  if (reply.kind === "answer" && reply.matches.length) lastClause = reply.matches[0].clause;
  if (reply.compare) {
    turn.append(el("p", { class: "compare" },
      el("a", { href: reply.compare.path, text: `How other councils handle this: ${reply.compare.title}` })));
  }
  if (reply.kind === "clarify") {
    const options = el("div", { class: "options", role: "group", "aria-label": "Did you mean" });
    for (const match of reply.matches.slice(0, 3)) {
      const button = el("button", { type: "button", class: "secondary option" },
        el("span", { class: "option-label", text: match.label }),
        el("span", { class: "option-section", text: match.section }));
      button.addEventListener("click", () => {
        const chosen = el("li", { class: "bot" },
          ...answerBlock(match.asks, match.answer), ...quoteBlock(match, reply.policy));
        lastClause = match.clause;
        addTurn(chosen);
      });
      options.append(button);
    }
    turn.append(options);
  }
  if (reply.route && reply.contact) {
    const route = el("div", { class: "route" }, el("p", { text: `To report this (${reply.route.toUpperCase()}): ${reply.contact}` }));
    const report = el("button", { type: "button", class: "secondary", text: "Report an incident" });
    report.addEventListener("click", openReport);  // from report.js
    route.append(report);
    turn.append(route);
  }
  turn.append(feedbackRow(reply.id));
  addTurn(turn);
}

async function ask(event) {
  event.preventDefault();
  const box = document.getElementById("question");
  const question = box.value.trim();
  const org = document.getElementById("org").value;
  if (!question) { status("Type a question first."); box.focus(); return; }
  addTurn(el("li", { class: "you" }, el("p", { text: question })));
  box.value = "";
  const button = document.getElementById("ask-button");
  button.disabled = true;
  status("Looking in the policy…");
  try {
    renderReply(await postJSON("/api/ask", { org, question, asker: asker(), ...(lastClause ? { follows: lastClause } : {}) }));
    status("");
  } catch (error) {
    addTurn(el("li", { class: "bot error", text: error.message }));
    status("");
  } finally {
    button.disabled = false;
    box.focus();
  }
}

async function loadOrgs() {
  const select = document.getElementById("org");
  const response = await fetch("/api/orgs");
  const data = await response.json();
  COUNCILS = data.orgs;
  for (const org of data.orgs) select.append(el("option", { value: org.org, text: org.council }));
  const remembered = localStorage.getItem(ORG_KEY);
  const known = data.orgs.map((o) => o.org);
  select.value = known.includes(remembered) ? remembered : (data.default && known.includes(data.default) ? data.default : known[0]);
  const describe = () => {
    const org = data.orgs.find((o) => o.org === select.value);
    document.getElementById("org-title").textContent = org ? `${org.title} (${org.date})` : "";
  };
  select.addEventListener("change", () => { localStorage.setItem(ORG_KEY, select.value); lastClause = null; describe(); });
  describe();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("ask-form").addEventListener("submit", ask);
  document.getElementById("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); document.getElementById("ask-form").requestSubmit(); }
  });
  loadOrgs().catch(() => status("Could not load the list of councils; is the server running?"));
});
