// The Compare page: pick a topic, see each council's clauses on it side by side (verdict,
// section, the quote in the policy's own words) and which councils are silent on it.
"use strict";

const byId = (id) => document.getElementById(id);
const VERDICTS = { yes: "Yes", no: "No", depends: "It depends" };

function render(data) {
  byId("topic-title").textContent = data.title;
  byId("topic-asks").textContent = data.asks;
  byId("councils").replaceChildren(...data.councils.map((council) => el("article", { class: "council", "aria-label": council.council },
    el("h3", { text: council.council }),
    el("p", { class: "muted", text: council.policy }),
    ...council.clauses.flatMap((clause) => [
      ...(clause.verdict ? [el("p", {}, el("span", { class: `verdict verdict-${clause.verdict}`, text: VERDICTS[clause.verdict] }), clause.asks ? ` ${clause.asks}` : "")] : []),
      el("p", { class: "answer", text: clause.answer }),
      el("blockquote", { text: clause.quote }),
      el("p", { class: "source", text: clause.section }),
    ]))));
  byId("silent").textContent = data.silent.length ? `Silent on this: ${data.silent.join(", ")}.` : "Every council here addresses this.";
  byId("comparison").hidden = false;
  byId("status").textContent = `${data.councils.length} councils address this.`;
}

async function show(topic) {
  byId("status").textContent = "Loading…";
  render(await requestJSON(`/api/compare/${encodeURIComponent(topic)}`));
  const url = new URL(window.location);
  url.searchParams.set("topic", topic);
  history.replaceState(null, "", url);
}

async function start() {
  const data = await requestJSON("/api/topics");
  const select = byId("topic");
  select.replaceChildren(...data.topics.map((topic) => el("option", { value: topic.topic, text: `${topic.title} (${topic.councils.length} councils)` })));
  const wanted = new URLSearchParams(window.location.search).get("topic");
  if (wanted && data.topics.some((topic) => topic.topic === wanted)) select.value = wanted;
  select.addEventListener("change", () => show(select.value).catch((error) => { byId("status").textContent = error.message; }));
  if (select.value) await show(select.value);
  else byId("status").textContent = "No topics are set up yet (knowledge/topics.yaml).";
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((error) => { byId("status").textContent = error.message; });
});
