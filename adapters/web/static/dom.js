// Shared by the chat and the admin page. `el` sets text only through textContent, so nothing a
// user typed, nor anything the server echoes back, is ever interpreted as HTML.
"use strict";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// The server's JSON, or an Error carrying its message, status and the field at fault.
async function requestJSON(path, { method = "GET", body, headers = {} } = {}) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: "The server sent an unreadable reply." }));
  if (!response.ok) {
    const error = new Error(data.error || `The server answered ${response.status}.`);
    error.status = response.status;
    error.field = data.field;
    throw error;
  }
  return data;
}
