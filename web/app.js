// seek's web chat page: conversations kept in localStorage, replies streamed from /v1/chat/completions (SSE),
// R1's reasoning in a collapsible block, a stop button (AbortController), settings for the request.
"use strict";

const $ = (id) => document.getElementById(id);
const store = {
  get(key, fallback) {
    try { const v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); } catch { return fallback; }
  },
  set(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { setStatus("could not save: " + e.message); }
  },
};

let conversations = store.get("seek.conversations", []);
let currentId = store.get("seek.current", null);
let settings = Object.assign({ system: "", temperature: 0.6, max_tokens: "", api_key: "", show_reasoning: true },
                             store.get("seek.settings", {}));
let controller = null;  // the AbortController of the reply being streamed

function setStatus(text) { $("status").textContent = text; }
function current() { return conversations.find((c) => c.id === currentId) || null; }
function save() { store.set("seek.conversations", conversations); store.set("seek.current", currentId); }
function headers() {
  const h = { "Content-Type": "application/json" };
  if (settings.api_key) h["Authorization"] = "Bearer " + settings.api_key;
  return h;
}

function newConversation() {
  const c = { id: Date.now().toString(36) + Math.random().toString(36).slice(2, 6), title: "New chat", messages: [],
              updated: Date.now() };
  conversations.unshift(c);
  currentId = c.id;
  save();
  render();
  $("input").focus();
}

function renderList() {
  const ul = $("conversations");
  ul.replaceChildren();
  for (const c of conversations) {
    const li = document.createElement("li");
    if (c.id === currentId) li.className = "active";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.textContent = c.title;
    open.title = c.title;
    open.onclick = () => { if (controller) return; currentId = c.id; save(); render(); $("sidebar").classList.remove("open"); };
    const del = document.createElement("button");
    del.type = "button";
    del.className = "delete";
    del.textContent = "\u00d7";
    del.setAttribute("aria-label", "Delete " + c.title);
    del.onclick = () => {
      if (controller && c.id === currentId) return;
      conversations = conversations.filter((x) => x.id !== c.id);
      if (currentId === c.id) currentId = conversations.length ? conversations[0].id : null;
      save();
      render();
    };
    li.append(open, del);
    ul.append(li);
  }
}

// One message's element: the reasoning block (assistant), the text, a line of details.
function messageView(m) {
  const div = document.createElement("div");
  div.className = "msg " + m.role;
  const reasoning = document.createElement("details");
  reasoning.className = "reasoning";
  const summary = document.createElement("summary");
  const rtext = document.createElement("div");
  rtext.className = "text";
  reasoning.append(summary, rtext);
  const content = document.createElement("div");
  content.className = "content";
  const meta = document.createElement("div");
  meta.className = "meta";
  div.append(reasoning, content, meta);
  const view = {
    div,
    update(streaming) {
      reasoning.hidden = !m.reasoning;
      rtext.textContent = m.reasoning || "";
      summary.textContent = streaming && !m.content ? "Thinking\u2026" : "Reasoning";
      content.textContent = m.content || (streaming && !m.reasoning ? "\u2026" : "");
      meta.textContent = m.meta || "";
    },
    reasoning,
  };
  view.update(false);
  return view;
}

function renderMessages() {
  const box = $("messages");
  box.replaceChildren();
  const c = current();
  if (!c || !c.messages.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "Ask anything. Everything runs on this machine.";
    box.append(p);
    return;
  }
  for (const m of c.messages) box.append(messageView(m).div);
  box.scrollTop = box.scrollHeight;
}

function render() { renderList(); renderMessages(); }

function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 80; }

// Reads server-sent events from a fetch response, calling onData with each parsed "data:" JSON.
async function readEvents(response, onData) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        onData(JSON.parse(data));
      }
    }
  }
}

async function send(text) {
  if (!current()) newConversation();
  const c = current();
  c.messages.push({ role: "user", content: text });
  if (c.title === "New chat") c.title = text.slice(0, 40).replace(/\s+/g, " ");
  const answer = { role: "assistant", content: "", reasoning: "" };
  c.messages.push(answer);
  c.updated = Date.now();
  save();
  render();
  const box = $("messages");
  box.lastChild.remove();
  const view = messageView(answer);
  box.append(view.div);
  view.reasoning.open = settings.show_reasoning;
  view.update(true);

  const messages = [];
  if (settings.system) messages.push({ role: "system", content: settings.system });
  for (const m of c.messages.slice(0, -1)) messages.push({ role: m.role, content: m.content });
  const body = { model: $("model").textContent, messages, stream: true, stream_options: { include_usage: true },
                 temperature: Number(settings.temperature) };
  if (settings.max_tokens) body.max_tokens = Number(settings.max_tokens);

  controller = new AbortController();
  setBusy(true);
  const t0 = performance.now();
  let first = 0;
  let finish = "";
  try {
    const res = await fetch("v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body),
                                                     signal: controller.signal });
    if (!res.ok) {
      let msg = res.status + " " + res.statusText;
      try { msg = (await res.json()).error.message; } catch {}
      throw new Error(msg);
    }
    await readEvents(res, (chunk) => {
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) {
        const secs = (performance.now() - (first || t0)) / 1000;
        answer.meta = `${chunk.usage.completion_tokens} tokens, ${(chunk.usage.completion_tokens / Math.max(secs, 1e-3)).toFixed(1)} tok/s` +
                      (chunk.usage.prompt_cache_hit_tokens ? `, ${chunk.usage.prompt_cache_hit_tokens} prompt tokens reused` : "");
      }
      const choice = chunk.choices && chunk.choices[0];
      if (!choice) return;
      if (choice.finish_reason) finish = choice.finish_reason;
      const d = choice.delta || {};
      if (!d.reasoning_content && !d.content) return;
      if (!first) first = performance.now();
      const stick = nearBottom(box);
      if (d.reasoning_content) answer.reasoning += d.reasoning_content;
      if (d.content) {
        if (!answer.content && answer.reasoning) view.reasoning.open = false;
        answer.content += d.content;
      }
      view.update(true);
      if (stick) box.scrollTop = box.scrollHeight;
    });
    if (finish === "length") answer.meta = (answer.meta ? answer.meta + " \u2014 " : "") + "cut at the token limit";
  } catch (e) {
    if (e.name === "AbortError") {
      answer.meta = (answer.meta ? answer.meta + " \u2014 " : "") + "stopped";
    } else {
      answer.meta = "error: " + e.message;
      view.div.classList.add("error");
    }
  } finally {
    controller = null;
    setBusy(false);
    view.update(false);
    save();
    renderList();
  }
}

function setBusy(busy) {
  $("send").hidden = busy;
  $("stop").hidden = !busy;
  setStatus(busy ? "generating\u2026" : "");
}

async function loadModel() {
  try {
    const res = await fetch("v1/models", { headers: headers() });
    if (res.status === 401) { setStatus("this server needs an API key (\u2699)"); return; }
    if (res.status === 503) { setStatus("the model is loading\u2026"); setTimeout(loadModel, 2000); return; }
    const j = await res.json();
    const m = j.data && j.data[0];
    if (m) {
      $("model").textContent = m.id;
      $("model").title = m.meta ? `context ${m.meta.n_ctx} tokens, template ${m.meta.chat_template}` : m.id;
    }
  } catch (e) {
    setStatus("server unreachable: " + e.message);
  }
}

function bindSettings() {
  const fields = { system: "set-system", temperature: "set-temperature", max_tokens: "set-max-tokens",
                   api_key: "set-api-key" };
  for (const [key, id] of Object.entries(fields)) {
    $(id).value = settings[key];
    $(id).addEventListener("change", () => {
      settings[key] = $(id).value;
      store.set("seek.settings", settings);
      if (key === "api_key") loadModel();
    });
  }
  $("set-show-reasoning").checked = settings.show_reasoning;
  $("set-show-reasoning").addEventListener("change", () => {
    settings.show_reasoning = $("set-show-reasoning").checked;
    store.set("seek.settings", settings);
  });
}

function init() {
  bindSettings();
  $("new-chat").onclick = () => { if (!controller) newConversation(); };
  $("open-settings").onclick = () => { $("settings").hidden = !$("settings").hidden; };
  $("open-sidebar").onclick = () => $("sidebar").classList.add("open");
  $("close-sidebar").onclick = () => $("sidebar").classList.remove("open");
  $("stop").onclick = () => { if (controller) controller.abort(); };
  const input = $("input");
  const grow = () => { input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight, 240) + "px"; };
  input.addEventListener("input", grow);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    input.value = "";
    grow();
    send(text);
  });
  if (!current()) currentId = conversations.length ? conversations[0].id : null;
  render();
  loadModel();
}

init();
