// The dashboard's pages, drawn in the browser from /dashboard/api (docs/dashboard.md). Plain DOM, no
// framework: three views routed on the path, kept live by the /dashboard/api/events feed.
const API = "/dashboard/api";
const STATUSES = ["PENDING", "SUCCESS", "FAILURE", "TERMINATED", "TIMEOUT", "INIT_FAILURE", "EXPIRED"];
const view = document.getElementById("view");
/** What the view on screen wants from the feed. */
let current = { onStats() {}, onCalls() {} };

/** An element with attributes (`text` sets its text) and children. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === "text") el.textContent = String(v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children) if (child !== null && child !== undefined) el.append(child);
  return el;
}

function showMessage(text) {
  const box = document.getElementById("message");
  box.textContent = text ?? "";
  box.hidden = !text;
}

/** A JSON request; a failure throws an Error whose message says what failed, for the page to show. */
async function api(path, init) {
  let res;
  try {
    res = await fetch(API + path, init);
  } catch (err) {
    throw new Error(`The dashboard server cannot be reached (${err.message}).`);
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.error ?? res.statusText}`);
  return body;
}

const post = (path, body) =>
  api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) });

/** Runs an action, showing its failure on the page. */
async function attempt(action) {
  try {
    showMessage("");
    await action();
  } catch (err) {
    showMessage(err.message);
  }
}

const status = (s) => h("span", { class: `status st-${s}`, text: s });
const when = (ms) => (ms ? new Date(ms).toLocaleString() : "");
const duration = (ms) => (ms === null || ms === undefined ? "—" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`);
const fnPath = (r) => `/dashboard/functions/${[r.env, r.app, r.fn].map(encodeURIComponent).join("/")}`;
/** The function's routes in the API (its page is fnPath). */
const fnApi = (r) => `/apps/${[r.env, r.app, r.fn].map(encodeURIComponent).join("/")}`;
const callPath = (id) => `/dashboard/calls/${encodeURIComponent(id)}`;
const link = (href, text) => h("a", { href, "data-nav": true, text });

// ---- apps and functions ----------------------------------------------------------------------

function autoscalerText(a) {
  return (
    "min " +
    a.minContainers +
    " · max " +
    (a.maxContainers ?? "∞") +
    " · buffer " +
    a.bufferContainers +
    " · scaledown " +
    a.scaledownWindowMs / 1000 +
    " s"
  );
}

function functionCard(app, fn) {
  const ref = { env: app.env, app: app.app, fn: fn.name };
  const id = `fn-${[app.env, app.app, fn.name].join("-")}`;
  const stat = (key, label) => h("div", {}, h("dt", { text: label }), h("dd", { "data-stat": key, text: "…" }));
  const auto = h("p", { class: "autoscaler", text: autoscalerText(fn.autoscaler) });
  const input = h("input", { type: "number", min: 0, max: 1000, value: fn.autoscaler.minContainers, id: `${id}-n` });
  const form = h(
    "form",
    {
      class: "keep-warm",
      onsubmit: (e) => {
        e.preventDefault();
        attempt(async () => {
          const { autoscaler } = await post(`${fnApi(ref)}/keep-warm`, { n: Number(input.value) });
          auto.textContent = autoscalerText(autoscaler);
        });
      },
    },
    h("label", { for: `${id}-n`, text: "Min containers" }),
    input,
    h("button", { type: "submit", text: "Keep warm" }),
  );
  const card = h(
    "article",
    { class: "card", "aria-labelledby": id, "data-fn": [app.env, app.app, fn.name].join("/") },
    h("h3", { id }, link(fnPath(ref), fn.name), fn.web ? h("small", { text: " web" }) : null),
    h(
      "dl",
      { class: "stats" },
      stat("backlog", "backlog"),
      stat("numTotalRunners", "runners"),
      stat("numRunningInputs", "running"),
    ),
    auto,
    form,
  );
  return card;
}

async function appsView() {
  const { apps } = await api("/apps");
  view.replaceChildren(h("h1", { text: "Apps" }));
  if (apps.length === 0) view.append(h("p", { text: "No app is deployed." }));
  for (const app of apps) {
    view.append(
      h(
        "section",
        { class: "app" },
        h("h2", { text: `${app.app} ` }, h("small", { text: `env ${app.env} · deployed ${when(app.deployedAt)}` })),
        h("div", { class: "cards" }, ...app.functions.map((fn) => functionCard(app, fn))),
      ),
    );
  }
  const draw = (stats) => {
    for (const s of stats) {
      const card = view.querySelector(`[data-fn="${CSS.escape([s.env, s.app, s.fn].join("/"))}"]`);
      if (!card) continue;
      for (const key of ["backlog", "numTotalRunners", "numRunningInputs"]) {
        card.querySelector(`[data-stat="${key}"]`).textContent = String(s[key]);
      }
    }
  };
  draw((await api("/stats")).stats);
  current = { onStats: draw, onCalls() {} };
}

// ---- a function's calls ----------------------------------------------------------------------

function callRow(c) {
  return h(
    "tr",
    { "data-call": c.functionCallId, "data-started": c.startedAt },
    h("td", {}, link(callPath(c.functionCallId), c.functionCallId)),
    h("td", {}, status(c.status)),
    h("td", { text: when(c.startedAt) }),
    h("td", { text: duration(c.durationMs) }),
    h("td", { text: c.attempt }),
  );
}

async function callsView(env, app, fn) {
  const ref = { env, app, fn };
  const base = `${fnApi(ref)}/calls`;
  const select = h("select", { id: "status-filter" }, h("option", { value: "", text: "All" }));
  for (const s of STATUSES) select.append(h("option", { value: s, text: s }));
  const body = h("tbody");
  const older = h("button", { type: "button", text: "Older", hidden: true });
  let next = null;
  const load = async (append) => {
    const q = new URLSearchParams({ limit: "50" });
    if (select.value) q.set("status", select.value);
    if (append && next) q.set("before", next);
    const page = await api(`${base}?${q}`);
    if (!append) body.replaceChildren();
    const shown = (c) => body.querySelector(`[data-call="${CSS.escape(c.functionCallId)}"]`) !== null;
    body.append(...page.calls.filter((c) => !shown(c)).map(callRow)); // a live row may be on this page too
    next = page.next;
    older.hidden = next === null;
  };
  select.addEventListener("change", () => attempt(() => load(false)));
  older.addEventListener("click", () => attempt(() => load(true)));
  view.replaceChildren(
    h("p", {}, link("/dashboard", "Apps"), h("span", { text: ` / ${app} (${env})` })),
    h("h1", { text: fn }),
    h("p", {}, h("label", { for: "status-filter", text: "Status " }), select),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        {},
        h("caption", { text: "Recent calls, newest first" }),
        h("thead", {}, h("tr", {}, ...["Call", "Status", "Started", "Duration", "Attempt"].map((t) => h("th", { text: t })))),
        body,
      ),
    ),
    older,
  );
  // A list the source cannot give (a cloud that cannot list calls says why) leaves the page, with the reason shown.
  await attempt(() => load(false));
  current = {
    onStats() {},
    onCalls(calls) {
      for (const c of calls) {
        if (c.env !== env || c.app !== app || c.fn !== fn) continue;
        const row = body.querySelector(`[data-call="${CSS.escape(c.functionCallId)}"]`);
        const fits = !select.value || select.value === c.status;
        if (row && fits) row.replaceWith(callRow(c));
        else if (row) row.remove();
        else if (fits && c.startedAt >= Number(body.firstElementChild?.dataset.started ?? 0)) body.prepend(callRow(c));
        // (an older call not shown changed: it is on a later page, where Older finds it)
      }
    },
  };
}

// ---- a call ----------------------------------------------------------------------------------

function graphTree(nodes) {
  if (!nodes || nodes.length === 0) return null;
  return h(
    "ul",
    { class: "tree" },
    ...nodes.map((n) =>
      h(
        "li",
        { class: `node st-${n.status}` },
        link(callPath(n.functionCallId), n.functionName),
        " ",
        status(n.status),
        graphTree(n.children),
      ),
    ),
  );
}

function field(label, value) {
  return h("div", {}, h("dt", { text: label }), h("dd", {}, value));
}

function outcome(call) {
  if (call.error) {
    const e = call.error;
    return h(
      "section",
      { class: "error" },
      h("h2", { text: "Error" }),
      h("p", {}, h("strong", { text: e.class }), `: ${e.message}`),
      e.remote ? h("p", { text: `Thrown: ${e.remote.name}: ${e.remote.message}` }) : null,
      e.remote?.stack ? h("pre", { text: e.remote.stack }) : null,
    );
  }
  if ("result" in call)
    return h("section", {}, h("h2", { text: "Result" }), h("pre", { text: JSON.stringify(call.result, null, 2) }));
  return null;
}

function drawCall(id, call) {
  const actions = h("p", { class: "actions" });
  if (call.status === "PENDING") {
    actions.append(
      h("button", {
        type: "button",
        text: "Cancel",
        onclick: () =>
          attempt(async () => {
            await post(`/calls/${encodeURIComponent(id)}/cancel`);
            await refreshCall(id);
          }),
      }),
    );
  }
  if (call.stored) {
    actions.append(
      h("button", {
        type: "button",
        text: "Run again",
        onclick: () =>
          attempt(async () => {
            const { functionCallId } = await post(`/calls/${encodeURIComponent(id)}/run-again`);
            navigate(callPath(functionCallId));
          }),
      }),
    );
  }
  const facts = h("dl", { class: "facts" }, field("Status", status(call.status)));
  if (call.stored) {
    facts.append(
      field("Function", link(fnPath(call), `${call.app}.${call.fn}`)),
      field("Attempts", String(call.attempt)),
      field("Started", when(call.startedAt)),
      field("Duration", duration(call.durationMs)),
    );
  } else facts.append(field("Function", call.functionName));
  view.replaceChildren(
    h("p", {}, link("/dashboard", "Apps")),
    h("h1", {}, "Call ", h("code", { text: id })),
    facts,
    actions,
    outcome(call),
    h(
      "section",
      { class: "graph" },
      h("h2", { text: "Call graph" }),
      graphTree(call.graph) ?? h("p", { text: "No inputs recorded yet." }),
    ),
  );
}

async function refreshCall(id) {
  drawCall(id, await api(`/calls/${encodeURIComponent(id)}`));
}

/** Whether any node of the tree is still pending (nested calls change without a summary in the feed). */
const anyPending = (nodes) => nodes.some((n) => n.status === "PENDING" || anyPending(n.children));

async function callView(id) {
  let call = await api(`/calls/${encodeURIComponent(id)}`);
  drawCall(id, call);
  let busy = false;
  const refresh = () => {
    if (busy) return;
    busy = true;
    api(`/calls/${encodeURIComponent(id)}`)
      .then((c) => {
        call = c;
        if (current.id === id) drawCall(id, c);
      })
      .catch((err) => showMessage(err.message))
      .finally(() => {
        busy = false;
      });
  };
  current = {
    id,
    onStats() {
      if (call.status === "PENDING" || anyPending(call.graph)) refresh(); // every second, while it can change
    },
    onCalls: refresh,
  };
}

// ---- routing and the live feed ---------------------------------------------------------------

async function render() {
  current = { onStats() {}, onCalls() {} };
  showMessage("");
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  // Only a function's page lists calls as they change; the others need the stats (a call's page refreshes on them).
  const fnPage = parts[1] === "functions" && parts.length === 5;
  connect(fnPage ? `fn=${encodeURIComponent(parts.slice(2).join("/"))}` : "calls=none");
  try {
    if (parts[1] === "calls" && parts[2]) await callView(parts[2]);
    else if (parts[1] === "functions" && parts.length === 5) await callsView(parts[2], parts[3], parts[4]);
    else await appsView();
  } catch (err) {
    view.replaceChildren(h("p", { text: "This page could not be loaded." }));
    showMessage(err.message);
  }
}

function navigate(path) {
  history.pushState(null, "", path);
  render();
}

document.addEventListener("click", (e) => {
  const a = e.target.closest?.("a[data-nav]");
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  navigate(a.getAttribute("href"));
});
addEventListener("popstate", render);

let feed;
let watching;

/** The live feed, of the calls `watch` names (events.ts): opened again only when that changes. */
function connect(watch) {
  if (feed && watching === watch) return;
  feed?.close();
  watching = watch;
  const live = document.getElementById("live");
  feed = new EventSource(`${API}/events?${watch}`);
  feed.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "on";
  });
  feed.addEventListener("error", () => {
    live.textContent = "live updates lost: reconnecting…";
    live.className = "off";
  });
  feed.addEventListener("stats", (e) => current.onStats(JSON.parse(e.data).stats));
  feed.addEventListener("calls", (e) => current.onCalls(JSON.parse(e.data).calls));
}

render();
