// Validates every frame a real Pincer gateway sends against the published protocol schema of the
// pinned npm package @openclaw/gateway-protocol (protocol.schema.json, draft-07), with ajv.
//
// Usage: node validate.mjs <path-to-pincer>      (run.sh installs the pinned packages first)
//
// Starts a fake OpenAI-compatible streaming provider (fake_provider.mjs) and
// `pincer gateway run --port 0` with a temp state dir and a config pointing the default agent at it
// ({gateway:{tickIntervalMs:1000}, models.providers.fake (openai-completions), agents.defaults.model
// "fake/fake-model"}), connects a v4 client ([4,4], caps ["tool-events"]) and a v3 client ([3,3])
// as gateway-client/backend operators with all 8 operator scopes, and on each:
//   * calls health, status, system-presence, system-event (plain, then with presence fields so a
//     `presence` event is broadcast), config.get, config.schema, logs.tail, sessions.subscribe (so
//     the targeted `sessions.changed` events reach it), an unknown method and a request without
//     `method`;
//   * chat traffic: chat.send "hi" → `chat` final; a tool-call run (the model calls `write`, then
//     answers) → final; chat.history; a slow run aborted with chat.abort {sessionKey:"main"} →
//     `chat` aborted; `agent` (two responses under one id: "accepted", then the final); agent.wait;
//     sessions.list, sessions.describe, sessions.preview, sessions.usage; a run whose provider answers 401 → `chat`
//     error.
// Then it waits for a `tick`, sends SIGTERM and records the `shutdown` event. Every recorded server
// frame is checked (see CHECKS in the summary): responses by the schema's <Method>Result/Response
// definition, or, where the pinned schema has none, by an inline shape written from
// ../../../../shared/protocol/methods.md (named "(inline, methods.md §n)" in the summary); events
// `chat` by the ChatEvent union and its per-state branch (ChatDeltaEvent, ChatFinalEvent, ...),
// `agent` by AgentEvent, `sessions.changed` by an inline shape whose fields reuse SessionRow's.
// Our own request params are checked against the schema's <Method>Params too (sanity).
// Exit 0 = all valid; 1 = a validation failure (ajv errors printed) or a harness failure (timeout,
// gateway died, ...). PINCER_SCHEMA_DUMP=1 prints every frame.
//
// Known deviations: where the pinned schema is stricter than what the reference server itself
// sends on the wire (../../../../shared/protocol/wire-notes.md wins over the schema), the exact
// ajv error is listed in KNOWN_DEVIATIONS with its justification. Each one is matched exactly
// (definition, instancePath, keyword, offending property, protocol) and printed in the summary;
// any other error fails the run.
//
// Pending fixes: a violation that is a real Pincer bug, already reported but not yet fixed in src/,
// is listed in PENDING_FIXES (matched the same way) with the bug's description. It does not fail
// the run but is printed loudly; remove the entry once the fix lands (a "no longer seen" note says so).
import fs from "node:fs";
import WebSocket from "ws";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { startGateway, withTimeout, WAIT_MS } from "./gateway.mjs";
import { startFakeProvider } from "./fake_provider.mjs";

const PKG_DIR = new URL("./node_modules/@openclaw/gateway-protocol/", import.meta.url);
const schema = JSON.parse(fs.readFileSync(new URL("protocol.schema.json", PKG_DIR), "utf8"));
const schemaPkg = JSON.parse(fs.readFileSync(new URL("package.json", PKG_DIR), "utf8"));
const ajvVersion = JSON.parse(fs.readFileSync(new URL("./node_modules/ajv/package.json", import.meta.url), "utf8")).version;

const OPERATOR_SCOPES = [
  "operator.read", "operator.write", "operator.admin", "operator.approvals",
  "operator.questions", "operator.pairing", "operator.talk", "operator.talk.secrets",
];

// ---------------------------------------------------------------------------------------------
// Known, justified differences between the pinned schema (2026.9.1) and the reference wire.
const KNOWN_DEVIATIONS = [
  {
    def: "HelloOk", protocol: 4, instancePath: "/auth", keyword: "additionalProperties", property: "method",
    why: "the 2026.9.6 reference sends hello-ok.auth.method on v4 (wire-notes.md §2, captures/openclaw-2026.9.6-v4); " +
         "the pinned 2026.9.1 schema's HelloOk.auth is closed and predates it",
  },
  {
    def: "ShutdownEvent", instancePath: "/restartExpectedMs", keyword: "type", valueIsNull: true,
    why: "the reference sends restartExpectedMs:null when no restart is planned, although the schema says " +
         "optional integer (core.md §5.3)",
  },
  {
    def: "AgentEvent", instancePath: "", keyword: "additionalProperties", property: "sessionKey",
    why: "the reference always sends sessionKey in `agent` event payloads although AgentEventSchema does not " +
         "list it; outbound payloads are not validated upstream (methods.md §0.2, §1.2, §12; seen in " +
         "captures/openclaw-2026.5.7-v3 and -2026.9.6-v4 session1.jsonl)",
  },
  {
    def: "ChatDeltaEvent", protocol: 3, instancePath: "", keyword: "required", property: "deltaText",
    why: "v3 `chat` deltas carry only the cumulative message; deltaText (and replace) arrived with protocol 4 " +
         "(\"require v4 chat deltas\", methods.md §1.2 and §12); the pinned schema describes v4",
  },
];

// Real Pincer bugs found by this test and reported to be fixed in src/. Matched like
// KNOWN_DEVIATIONS (def, instancePath, keyword, property, protocol); `bug` says what is wrong.
// They do not fail the run, but are printed loudly. Empty = none outstanding.
const PENDING_FIXES = [
];

// ---------------------------------------------------------------------------------------------
// ajv: the whole published schema is added once; definitions compile lazily on first use.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(schema);
const ref = (pointer) => `${schema.$id}#/definitions/${pointer}`;
const hasDef = (name) => Object.prototype.hasOwnProperty.call(schema.definitions, name);
const validators = new Map();
function validator(key) {
  if (!validators.has(key)) {
    let v;
    if (INLINE[key]) v = ajv.compile(INLINE[key]);
    else v = ajv.getSchema(ref(key));
    if (!v) throw new Error(`no definition ${key} in the pinned schema`);
    validators.set(key, v);
  }
  return validators.get(key);
}

// Shapes the schema has no definition for, written from core.md §2.2 / wire-notes.md §2 and
// methods.md §8.7, reusing the schema's own definitions where they exist.
const INLINE = {
  // The challenge goes out before the client's protocol range is known, so one shape serves both
  // versions: v4's {nonce, ts, capabilities} (wire-notes.md §2); v3 clients read only nonce/ts.
  "connect.challenge": {
    type: "object", required: ["nonce", "ts"], additionalProperties: false,
    properties: {
      nonce: { type: "string", format: "uuid" }, ts: { type: "integer", minimum: 0 },
      capabilities: { type: "array", items: { type: "string", minLength: 1 } },
    },
  },
  "presence event payload {presence: PresenceEntry[]}": {
    type: "object", required: ["presence"], additionalProperties: false,
    properties: { presence: { type: "array", items: { $ref: ref("PresenceEntry") } } },
  },
  "PresenceEntry[]": { type: "array", items: { $ref: ref("PresenceEntry") } },
};

// Results of the chat/agent/session methods, which the pinned schema has no <Method>Result for
// (it has ChatHistoryCursorResult, but only for cursor-paged chat.history calls). Written from
// methods.md: the fields it gives as always present are required, the optional ones typed, and
// every object stays open ("result schemas are documentation of the minimum", methods.md §0.2).
// Schema definitions are reused wherever one fits (SessionRow). The shapes were checked to accept
// the reference's own responses in ../../../../shared/protocol/captures/*/session1.jsonl
// (sessions.list, chat.history, chat.send, sessions.changed; v3 and v4).
const str1 = { type: "string", minLength: 1 };
const int0 = { type: "integer", minimum: 0 };
const nullable = (t) => ({ anyOf: [t, { type: "null" }] });
const ymd = { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$" };
const INLINE_RESULTS = {
  "chat.send": ["chat.send result (inline, methods.md §1.1)", {
    anyOf: [
      { type: "object", required: ["runId", "status"],
        properties: { runId: str1, status: { enum: ["started", "in_flight", "ok", "error"] }, summary: { type: "string" } } },
      // a stop phrase: acts like chat.abort
      { type: "object", required: ["ok", "aborted", "runIds"],
        properties: { ok: { const: true }, aborted: { type: "boolean" }, runIds: { type: "array", items: str1 } } },
    ],
  }],
  "chat.history": ["chat.history result (inline, methods.md §1.3)", {
    type: "object", required: ["sessionKey", "messages"],
    properties: {
      sessionKey: str1, sessionId: str1, thinkingLevel: { type: "string" }, fastMode: { type: "boolean" },
      verboseLevel: { type: "string" },
      messages: { type: "array", items: {
        type: "object", required: ["role", "content", "__openclaw"],
        properties: {
          // "custom": the 2026.9.6 reference's run-failed-before-reply rows (captures/…-v4/session1.jsonl)
          role: { enum: ["user", "assistant", "toolResult", "system", "custom"] },
          content: { anyOf: [{ type: "string" }, { type: "array", items: { type: "object", required: ["type"],
            properties: { type: { enum: ["text", "image", "thinking", "toolCall"] } } } }] },
          timestamp: int0, stopReason: { enum: ["stop", "length", "toolUse", "error", "aborted"] },
          toolCallId: str1, toolName: str1, isError: { type: "boolean" },
          __openclaw: { type: "object", required: ["seq"], properties: { id: str1, seq: { type: "integer", minimum: 1 } } },
        },
      } },
    },
  }],
  "chat.abort": ["chat.abort result (inline, methods.md §1.5)", {
    type: "object", required: ["ok", "aborted", "runIds"],
    properties: { ok: { const: true }, aborted: { type: "boolean" }, runIds: { type: "array", items: str1 } },
  }],
  "agent": ["agent result (inline, methods.md §2.1: accepted | ok | timeout | error)", {
    anyOf: [
      { type: "object", required: ["runId", "status", "acceptedAt"],
        properties: { runId: str1, status: { const: "accepted" }, acceptedAt: int0 } },
      { type: "object", required: ["runId", "status", "summary", "result"],
        properties: { runId: str1, status: { const: "ok" }, summary: { type: "string" },
          result: { type: "object", required: ["payloads", "meta"], properties: {
            payloads: { type: "array", items: { type: "object", properties: {
              text: { type: "string" }, mediaUrl: { type: "string" }, mediaUrls: { type: "array", items: { type: "string" } },
              isError: { type: "boolean" }, isReasoning: { type: "boolean" } } } },
            meta: { type: "object", required: ["durationMs"], properties: {
              durationMs: int0, aborted: { type: "boolean" }, stopReason: { type: "string" },
              agentMeta: { type: "object", required: ["sessionId", "provider", "model"],
                properties: { sessionId: str1, provider: str1, model: str1 } } } },
          } } } },
      { type: "object", required: ["runId", "status", "summary"],
        properties: { runId: str1, status: { const: "timeout" }, summary: { type: "string" }, stopReason: { type: "string" } } },
      { type: "object", required: ["runId", "status", "summary"],
        properties: { runId: str1, status: { const: "error" }, summary: { type: "string" } } },
    ],
  }],
  "agent.wait": ["agent.wait result (inline, methods.md §2.2)", {
    type: "object", required: ["runId", "status"],
    properties: { runId: str1, status: { enum: ["ok", "error", "timeout"] }, startedAt: int0, endedAt: int0,
      error: { type: "string" }, stopReason: { type: "string" }, livenessState: { type: "string" }, yielded: { type: "boolean" } },
  }],
  "sessions.list": ["sessions.list result (inline, methods.md §4.4; rows as SessionRow)", {
    type: "object", required: ["ts", "path", "count", "defaults", "sessions"],
    properties: {
      ts: int0, path: { type: "string" }, count: int0, totalCount: int0, limitApplied: int0, hasMore: { type: "boolean" },
      defaults: { type: "object", required: ["modelProvider", "model", "contextTokens"], properties: {
        modelProvider: nullable({ type: "string" }), model: nullable({ type: "string" }), contextTokens: nullable(int0) } },
      sessions: { type: "array", items: { $ref: ref("SessionRow") } },
    },
  }],
  "sessions.subscribe": ["sessions.subscribe result (inline, methods.md §4.11: {subscribed, list?})", {
    type: "object", required: ["subscribed"], properties: { subscribed: { type: "boolean" } },
  }],
  "sessions.describe": ["sessions.describe result (inline, methods.md §4.11: {session: SessionRow | null})", {
    type: "object", required: ["session"], properties: { session: nullable({ $ref: ref("SessionRow") }) },
  }],
  "sessions.preview": ["sessions.preview result (inline, methods.md §4.5)", {
    type: "object", required: ["ts", "previews"],
    properties: { ts: int0, previews: { type: "array", items: {
      type: "object", required: ["key", "status", "items"],
      properties: { key: str1, status: { enum: ["ok", "empty", "missing", "error"] }, items: { type: "array", items: {
        type: "object", required: ["role", "text"],
        properties: { role: { enum: ["user", "assistant", "tool", "system", "other"] }, text: { type: "string" } } } } },
    } } },
  }],
  "sessions.usage": ["sessions.usage result (inline, methods.md §4.12)", {
    type: "object", required: ["updatedAt", "startDate", "endDate", "sessions", "totals", "aggregates"],
    properties: {
      updatedAt: int0, startDate: ymd, endDate: ymd, totals: { type: "object" },
      sessions: { type: "array", items: { type: "object", required: ["key", "sessionId", "updatedAt", "agentId", "usage"],
        properties: { key: str1, sessionId: str1, updatedAt: nullable({ type: "number" }), agentId: str1,
          usage: nullable({ type: "object" }) } } },
      aggregates: { type: "object", required: ["messages", "tools", "byModel", "byProvider", "byAgent", "byChannel", "daily"],
        properties: {
          tools: { type: "object", required: ["totalCalls", "uniqueTools", "tools"] },
          byAgent: { type: "array", items: { type: "object", required: ["agentId", "totals"] } },
          byChannel: { type: "array", items: { type: "object", required: ["channel", "totals"] } },
          daily: { type: "array", items: { type: "object", required: ["date", "tokens", "cost", "messages", "toolCalls", "errors"],
            properties: { date: ymd } } },
        } },
    },
  }],
};
for (const [name, shape] of Object.values(INLINE_RESULTS)) INLINE[name] = shape;

// `sessions.changed` (methods.md §4.11): {sessionKey?, reason?, phase?, runId?, ts, …snapshot}, where
// the snapshot repeats SessionRow fields (so each is checked against SessionRow's own property
// schema) and lifecycle-driven events may carry `session: <SessionRow>`. The schema has no
// definition for this event.
// The 2026.9.6 reference sends the snapshot's unset fields as null (captures/openclaw-2026.9.6-v4/
// session1.jsonl), and its "activity-summary" events carry no `ts`; both are accepted here.
INLINE["sessions.changed payload (inline, methods.md §4.11; fields as SessionRow's)"] = {
  type: "object",
  properties: {
    ...Object.fromEntries(Object.keys(schema.definitions.SessionRow.properties)
      .map((k) => [k, nullable({ $ref: ref(`SessionRow/properties/${k}`) })])),
    sessionKey: str1, runId: str1, ts: int0, messageId: str1, messageSeq: int0, compacted: { type: "boolean" },
    reason: { enum: ["create", "send", "steer", "abort", "patch", "plugin-patch", "new", "reset", "delete", "compact",
      "cleanup", "activity-summary"] },
    phase: { enum: ["start", "end", "error", "message"] },
    session: { $ref: ref("SessionRow") },
  },
};
const SESSIONS_CHANGED = "sessions.changed payload (inline, methods.md §4.11; fields as SessionRow's)";

// The `chat` event payload: the schema's ChatEvent is a union whose branches are told apart by
// `state`; each branch also exists as its own definition.
const CHAT_STATE_DEFS = {
  status: "ChatStatusEvent", delta: "ChatDeltaEvent", final: "ChatFinalEvent", aborted: "ChatAbortedEvent", error: "ChatErrorEvent",
};

// Result definitions per method: the schema's <Method>Result / <Method>Response when present;
// health uses the snapshot's health summary (same object as the health result and event).
const pascal = (method) => method.split(/[.\-_]/).map((p) => p[0].toUpperCase() + p.slice(1)).join("");
function resultDefsFor(method) {
  const special = {
    "health": ["Snapshot/properties/health"],
    "system-presence": ["PresenceEntry[]"],
  };
  const found = (special[method] || []).slice();
  const tried = [];
  for (const suffix of ["Result", "Response"]) {
    const name = pascal(method) + suffix;
    tried.push(name);
    if (hasDef(name)) found.push(name);
  }
  const inline = !found.length && INLINE_RESULTS[method] ? INLINE_RESULTS[method][0] : null;
  if (inline) found.push(inline);
  return { found, tried, inline };
}

// ---------------------------------------------------------------------------------------------
// Check bookkeeping.
const checks = new Map(); // name -> {n, failures: [{label, errors, value}], known: Map(why -> count)}
function record(name) {
  if (!checks.has(name)) checks.set(name, { n: 0, failures: [], known: new Map(), pending: new Map(), notes: [] });
  return checks.get(name);
}
// The value an ajv instancePath (JSON pointer) points at.
const at = (value, pointer) => pointer.split("/").slice(1)
  .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~")).reduce((v, t) => (v == null ? undefined : v[t]), value);
function check(name, def, value, label, protocol) {
  const c = record(name);
  c.n++;
  const v = validator(def);
  if (v(value)) return true;
  const unexplained = [];
  // `property` names the offending property: additionalProperties' extra one or required's missing one.
  const matches = (d, e) => d.def === def && d.instancePath === e.instancePath && d.keyword === e.keyword &&
    (d.property === undefined || d.property === (e.params?.additionalProperty ?? e.params?.missingProperty)) &&
    (d.protocol === undefined || d.protocol === protocol) && (!d.valueIsNull || at(value, e.instancePath) === null);
  for (const e of v.errors) {
    const k = KNOWN_DEVIATIONS.find((d) => matches(d, e));
    const pf = k ? null : PENDING_FIXES.find((d) => matches(d, e));
    if (k) c.known.set(k, (c.known.get(k) || 0) + 1);
    else if (pf) c.pending.set(pf, [...(c.pending.get(pf) || []), label]);
    else unexplained.push(e);
  }
  if (unexplained.length) c.failures.push({ label, errors: unexplained, value });
  return unexplained.length === 0;
}
function fact(name, ok, label, detail) {
  const c = record(name);
  c.n++;
  if (!ok) c.failures.push({ label, errors: [{ message: detail }] });
}

// ---------------------------------------------------------------------------------------------
// A recording WebSocket client.
class Client {
  constructor(label, port, protocol, caps) {
    this.label = label;
    this.protocol = protocol;
    this.caps = caps;     // connect.params.caps, when set
    this.frames = [];     // every server frame: {text, binary, json, parseError}
    this.methods = {};    // request id -> method (for result validation)
    this.waiters = [];
    this.closed = null;
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    this.ws.on("message", (data, binary) => {
      const text = data.toString("utf8");
      const f = { text, binary };
      try { f.json = JSON.parse(text); } catch (e) { f.parseError = e.message; }
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => !(f.json && w.pred(f.json) && (w.resolve(f.json), true)));
    });
    this.closedPromise = new Promise((resolve) => this.ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      resolve(this.closed);
    }));
    this.opened = new Promise((resolve, reject) => { this.ws.once("open", resolve); this.ws.once("error", reject); });
    this.opened.catch(() => {}); // surfaced by handshake()
  }
  waitFor(pred, what) {
    const hit = this.frames.find((f) => f.json && pred(f.json));
    if (hit) return Promise.resolve(hit.json);
    return withTimeout(new Promise((resolve) => this.waiters.push({ pred, resolve })), WAIT_MS,
      `${what} on the ${this.label} client`);
  }
  send(frame) {
    if (frame.method) this.methods[frame.id] = frame.method;
    // Sanity: our own params must be valid for the reference too, where the schema defines them.
    const paramsDef = frame.method && frame.method !== "connect" && `${pascal(frame.method)}Params`;
    if (paramsDef && hasDef(paramsDef)) {
      check(`client's own ${paramsDef} (sanity)`, paramsDef, frame.params ?? {}, `${this.label} ${frame.method}`);
    }
    this.ws.send(JSON.stringify(frame));
  }
  async request(method, params) {
    const id = `${this.label}-${Object.keys(this.methods).length + 1}-${method}`;
    this.send({ type: "req", id, method, params });
    return this.waitFor((f) => f.type === "res" && f.id === id, `the response to ${method}`);
  }
  async handshake(token) {
    await withTimeout(this.opened, WAIT_MS, `the ${this.label} WebSocket to open`);
    await this.waitFor((f) => f.type === "event" && f.event === "connect.challenge", "connect.challenge");
    const params = {
      minProtocol: this.protocol, maxProtocol: this.protocol,
      client: { id: "gateway-client", mode: "backend", version: "1.0.0", platform: "linux" },
      role: "operator", scopes: OPERATOR_SCOPES, auth: { token },
    };
    if (this.caps) params.caps = this.caps;
    // Sanity: our own connect params must be valid for the reference too.
    check("client's own ConnectParams (sanity)", "ConnectParams", params, `${this.label} connect`);
    const id = `${this.label}-connect`;
    this.send({ type: "req", id, method: "connect", params });
    const res = await this.waitFor((f) => f.type === "res" && f.id === id, "hello-ok");
    if (!res.ok) throw new Error(`${this.label} connect refused: ${JSON.stringify(res.error)}`);
    fact("negotiated protocol", res.payload?.protocol === this.protocol, `${this.label} hello-ok`,
      `expected protocol ${this.protocol}, got ${res.payload?.protocol}`);
    return res.payload;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation of everything one client received.
function validateClient(c) {
  const p = c.protocol;
  for (const [i, f] of c.frames.entries()) {
    const where = `[v${p}] frame #${i}`;
    fact("text frames", !f.binary, where, "server sent a binary frame");
    if (f.parseError) { fact("frames are JSON", false, where, `not JSON (${f.parseError}): ${f.text.slice(0, 200)}`); continue; }
    fact("frames are JSON", true, where);
    const fr = f.json;
    const label = fr.type === "res" ? `${where} res id=${fr.id} (${c.methods[fr.id] ?? "?"})`
      : fr.type === "event" ? `${where} event ${fr.event}` : where;
    check("GatewayFrame", "GatewayFrame", fr, label, p);
    if (fr.type === "res") {
      check("ResponseFrame", "ResponseFrame", fr, label, p);
      if (fr.error !== undefined) check("ErrorShape", "ErrorShape", fr.error, label, p);
      fact("ok:false carries error, ok:true carries no error", fr.ok ? fr.error === undefined : fr.error !== undefined,
        label, `ok=${fr.ok} error=${JSON.stringify(fr.error)}`);
      const method = c.methods[fr.id];
      if (fr.ok && fr.payload?.type === "hello-ok") {
        check(`HelloOk (v${p})`, "HelloOk", fr.payload, label, p);
        const known = (fr.payload.features?.methods || []).filter((m) => !schema.methods[m]);
        fact("advertised methods exist in schema.methods", known.length === 0, label,
          `advertised but unknown to the schema: ${known.join(", ")}`);
        for (const [j, e] of (fr.payload.snapshot?.presence || []).entries()) {
          check("PresenceEntry", "PresenceEntry", e, `${label} snapshot.presence[${j}]`, p);
        }
      } else if (fr.ok && method) {
        const { found, tried, inline } = resultDefsFor(method);
        for (const def of found) check(`${method} result as ${def}`, def, fr.payload, label, p);
        if (inline || !found.length) {
          const note = `no definition in the pinned schema (tried ${tried.join(", ")})`;
          const n = record(inline ? `${method} result as ${inline}` : `${method} result`);
          if (!n.notes.includes(note)) n.notes.push(note);
        }
        if (method === "system-presence" && Array.isArray(fr.payload)) {
          for (const [j, e] of fr.payload.entries()) check("PresenceEntry", "PresenceEntry", e, `${label} [${j}]`, p);
        }
      }
    } else if (fr.type === "event") {
      check("EventFrame", "EventFrame", fr, label, p);
      switch (fr.event) {
        case "connect.challenge":
          check("connect.challenge payload (inline: nonce uuid, ts, capabilities?)", "connect.challenge", fr.payload, label, p);
          fact("connect.challenge has no seq", fr.seq === undefined, label, `seq=${fr.seq}`);
          break;
        case "tick": check("TickEvent", "TickEvent", fr.payload, label, p); break;
        case "shutdown": check("ShutdownEvent", "ShutdownEvent", fr.payload, label, p); break;
        case "presence":
          check("presence event payload (inline)", "presence event payload {presence: PresenceEntry[]}", fr.payload, label, p);
          for (const [j, e] of (fr.payload?.presence || []).entries()) {
            check("PresenceEntry", "PresenceEntry", e, `${label} presence[${j}]`, p);
          }
          break;
        case "health": check("health event as Snapshot.health", "Snapshot/properties/health", fr.payload, label, p); break;
        case "chat": {
          const state = fr.payload?.state;
          const def = CHAT_STATE_DEFS[state];
          fact("chat state is a ChatEvent branch", def !== undefined, label, `state=${JSON.stringify(state)}`);
          if (def) {
            // Errors are reported (and matched against the deviation/pending lists) per branch; the
            // union itself must then agree with the branch, so nothing slips between the two.
            check(`chat ${state} event as ${def} (v${p})`, def, fr.payload, `${label} ${state}`, p);
            const branchOk = validator(def)(fr.payload);
            const unionOk = validator("ChatEvent")(fr.payload);
            fact("ChatEvent (the union) agrees with its per-state branch", unionOk === branchOk, `${label} ${state}`,
              `ChatEvent ${unionOk ? "accepts" : "rejects"} but ${def} ${branchOk ? "accepts" : "rejects"}`);
          }
          break;
        }
        case "agent":
          check(`agent event as AgentEvent [stream ${fr.payload?.stream}]`, "AgentEvent", fr.payload,
            `${label} ${fr.payload?.stream}/${fr.payload?.data?.phase ?? ""}`, p);
          break;
        case "sessions.changed":
          check(SESSIONS_CHANGED, SESSIONS_CHANGED, fr.payload, label, p);
          // Targeted at sessions.subscribe subscribers: no frame seq (methods.md §0.2).
          fact("sessions.changed (targeted) has no seq", fr.seq === undefined, label, `seq=${fr.seq}`);
          break;
        default:
          record(`other events (not validated beyond EventFrame)`).notes.includes(fr.event) ||
            record(`other events (not validated beyond EventFrame)`).notes.push(fr.event);
          break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
async function exercise(c, token) {
  const hello = await c.handshake(token);
  for (const [method, params] of [
    ["health", {}], ["status", {}], ["system-presence", {}], ["system-event", { text: "x" }],
    // With presence fields the reported entry joins the table and a `presence` event goes out.
    ["system-event", { text: "schema test", instanceId: "schema-test", host: "schema-host", mode: "backend", reason: "periodic" }],
    ["config.get", {}], ["config.schema", {}], ["logs.tail", { limit: 5 }],
    // sessions.changed is targeted at subscribers (methods.md §4.11): subscribe to record them.
    ["sessions.subscribe", {}],
  ]) {
    const res = await c.request(method, params);
    fact("called methods succeed", res.ok === true, `[v${c.protocol}] ${method}`, JSON.stringify(res.error));
  }
  const unknown = await c.request("pincer.schema-test.no-such-method", {});
  fact("unknown method is refused", unknown.ok === false, `[v${c.protocol}] unknown method`, JSON.stringify(unknown));
  const id = `${c.label}-missing-method`;
  c.send({ type: "req", id, params: {} });
  const missing = await c.waitFor((f) => f.type === "res" && f.id === id, "the response to a request without method");
  fact("request without method is refused", missing.ok === false, `[v${c.protocol}] missing method`, JSON.stringify(missing));
  return hello;
}

// Chat/agent/session traffic against the fake provider, on one client. Run ids are
// `<label>-<what>` (the idempotencyKey becomes the runId). Both clients see the `chat`/`agent`
// broadcasts of each other's runs, so every event shape is recorded on both protocols.
async function exerciseChat(c) {
  const P = `[v${c.protocol}]`;
  const rid = (what) => `${c.label}-${what}`;
  const chatEv = (runId, states) => (f) => f.type === "event" && f.event === "chat" &&
    f.payload?.runId === runId && states.includes(f.payload?.state);
  const terminal = ["final", "error", "aborted"];
  const succeeded = (what, res) => fact("chat/agent/sessions calls succeed", res.ok === true, `${P} ${what}`,
    JSON.stringify(res.error ?? res));
  const turn = async (what, message, want) => {
    const res = await c.request("chat.send", { sessionKey: "main", message, idempotencyKey: rid(what) });
    succeeded(`chat.send (${what})`, res);
    fact("chat.send acks status started with runId = idempotencyKey",
      res.payload?.status === "started" && res.payload?.runId === rid(what), `${P} chat.send (${what})`, JSON.stringify(res.payload));
    const end = await c.waitFor(chatEv(rid(what), terminal), `the terminal chat event of run ${rid(what)}`);
    fact(`run ends with chat state ${want}`, end.payload.state === want, `${P} ${what}`,
      `got state ${end.payload.state}: ${JSON.stringify(end.payload).slice(0, 400)}`);
    return end;
  };

  // 1. A plain turn, 2. a tool round trip (write a.txt, then a text answer).
  await turn("hi", "hi", "final");
  await turn("tool", "please use the tool to write a.txt", "final");

  // 3. History of the main session.
  succeeded("chat.history", await c.request("chat.history", { sessionKey: "main" }));

  // 4. A slow run, aborted mid-stream by session.
  const slow = await c.request("chat.send", { sessionKey: "main", message: "go slowly", idempotencyKey: rid("slow") });
  succeeded("chat.send (slow)", slow);
  await c.waitFor(chatEv(rid("slow"), ["delta"]), `a chat delta of run ${rid("slow")}`);
  const abort = await c.request("chat.abort", { sessionKey: "main" });
  succeeded("chat.abort", abort);
  fact("chat.abort aborts the running run", abort.payload?.aborted === true &&
    (abort.payload?.runIds || []).includes(rid("slow")), `${P} chat.abort`, JSON.stringify(abort.payload));
  const aborted = await c.waitFor(chatEv(rid("slow"), terminal), `the terminal chat event of run ${rid("slow")}`);
  fact("run ends with chat state aborted", aborted.payload.state === "aborted", `${P} slow`, JSON.stringify(aborted.payload));

  // 5. `agent`: two responses under one request id, "accepted" first; then agent.wait.
  const agentId = `${c.label}-agent-req`;
  c.send({ type: "req", id: agentId, method: "agent", params: { message: "agent says hi", idempotencyKey: rid("agent") } });
  const first = await c.waitFor((f) => f.type === "res" && f.id === agentId, "the first agent response");
  const second = await c.waitFor((f) => f.type === "res" && f.id === agentId && f !== first, "the second agent response");
  fact("agent answers accepted, then the final", first.ok && first.payload?.status === "accepted" &&
    second.ok && second.payload?.status === "ok", `${P} agent`,
    `first ${JSON.stringify(first).slice(0, 300)}; second ${JSON.stringify(second).slice(0, 300)}`);
  const waited = await c.request("agent.wait", { runId: rid("agent") });
  succeeded("agent.wait", waited);
  fact("agent.wait reports the finished run ok", waited.payload?.status === "ok", `${P} agent.wait`, JSON.stringify(waited.payload));

  // 6. Sessions.
  succeeded("sessions.list", await c.request("sessions.list", {}));
  succeeded("sessions.describe", await c.request("sessions.describe", { key: "main" }));
  succeeded("sessions.preview", await c.request("sessions.preview", { keys: ["main"] }));
  succeeded("sessions.usage", await c.request("sessions.usage", {}));

  // 7. A run whose provider answers 401 ends with a `chat` error.
  await turn("fail", "please fail", "error");
}

// What the chat traffic must have done besides its frames' shapes (so the shapes were really seen).
function checkChatSideEffects(clients, provider, gw) {
  const [v4, v3] = clients;
  const toolEvents = (c) => c.frames.filter((f) => f.json?.type === "event" && f.json.event === "agent" &&
    f.json.payload?.stream === "tool");
  const own = toolEvents(v4).filter((f) => f.json.payload.runId === "v4-tool").map((f) => f.json.payload.data?.phase);
  fact("the tool-events client gets its run's tool events", own.includes("start") && own.includes("result"),
    "[v4] v4-tool", `tool phases seen: ${JSON.stringify(own)}`);
  fact("a client without tool-events caps gets no tool events", toolEvents(v3).length === 0, "[v3]",
    `${toolEvents(v3).length} tool events: ${toolEvents(v3).map((f) => f.text.slice(0, 200)).join(" | ")}`);
  let written = null;
  try { written = fs.readFileSync(`${gw.stateDir}/workspace/a.txt`, "utf8"); } catch { /* reported below */ }
  fact("the write tool wrote workspace/a.txt", written === "x", "gateway", `workspace/a.txt = ${JSON.stringify(written)}`);
  for (const c of clients) {
    const n = c.frames.filter((f) => f.json?.type === "res" && f.json.id === `${c.label}-agent-req`).length;
    fact("agent sends exactly two responses under its id", n === 2, `[v${c.protocol}] agent`, `${n} responses`);
  }
  const kinds = provider.requests.map((r) => r.kind);
  fact("the provider got every scripted kind of request",
    ["text", "tool-call", "text-after-tool", "slow", "401"].every((k) => kinds.includes(k)), "fake provider", kinds.join(", "));
  fact("the provider got the configured API key", provider.requests.every((r) => r.auth === "Bearer k"), "fake provider",
    provider.requests.map((r) => r.auth).join(", "));
  for (const c of clients) {
    const events = new Set(c.frames.filter((f) => f.json?.type === "event").map((f) => f.json.event));
    for (const e of ["chat", "agent", "sessions.changed"]) {
      fact("chat/agent/sessions.changed events were recorded", events.has(e), `[v${c.protocol}] ${e}`, "none received");
    }
  }
}

function printSummary() {
  let failed = false;
  console.log(`\n@openclaw/gateway-protocol ${schemaPkg.version} (${schema.$id}), ajv ${ajvVersion}`);
  console.log("CHECKS");
  for (const [name, c] of checks) {
    const status = c.failures.length ? "FAIL" : c.n === 0 ? "SKIP" : c.pending.size ? "BUG!" : c.known.size ? "PASS*" : "PASS";
    if (c.failures.length) failed = true;
    console.log(`  ${status.padEnd(5)} ${name}${c.n ? ` (${c.n} checked)` : ""}${c.notes.length ? ` — ${c.notes.join("; ")}` : ""}`);
  }
  const used = [...checks.values()].flatMap((c) => [...c.known.entries()]);
  if (used.length) {
    console.log("\nKNOWN DEVIATIONS (PASS*: the schema is stricter than the reference wire; matched exactly)");
    const seen = new Map();
    for (const [k, n] of used) seen.set(k, (seen.get(k) || 0) + n);
    for (const [k, n] of seen) {
      console.log(`  ${k.def} ${k.instancePath || "(root)"} ${k.keyword}${k.property ? ` '${k.property}'` : ""}` +
        `${k.valueIsNull ? " (null)" : ""}${k.protocol ? ` (v${k.protocol})` : ""} ×${n}: ${k.why}`);
    }
  }
  for (const k of KNOWN_DEVIATIONS) {
    if (!used.some(([u]) => u === k)) console.log(`  note: known deviation no longer seen: ${k.def} ${k.instancePath} ${k.keyword}`);
  }
  const pending = new Map();
  for (const c of checks.values()) for (const [k, labels] of c.pending) pending.set(k, [...(pending.get(k) || []), ...labels]);
  if (pending.size) {
    const bar = "!".repeat(100);
    console.log(`\n${bar}\nPENDING FIXES (BUG!: real Pincer schema violations, not yet fixed in src/; ` +
      "they do not fail this run — fix them, then remove them from PENDING_FIXES)");
    for (const [k, labels] of pending) {
      console.log(`  ${k.def} ${k.instancePath || "(root)"} ${k.keyword}${k.property ? ` '${k.property}'` : ""}` +
        `${k.protocol ? ` (v${k.protocol})` : ""} ×${labels.length}: ${k.bug}`);
      console.log(`      e.g. ${labels.slice(0, 3).join("; ")}`);
    }
    console.log(bar);
  }
  for (const k of PENDING_FIXES) {
    if (!pending.has(k)) console.log(`  note: pending fix no longer seen (remove it): ${k.def} ${k.instancePath} ${k.keyword}`);
  }
  if (failed) {
    console.log("\nFAILURES");
    for (const [name, c] of checks) {
      for (const f of c.failures) {
        console.log(`\n- ${name}: ${f.label}`);
        console.log(JSON.stringify(f.errors, null, 2).split("\n").map((l) => "    " + l).join("\n"));
        if (f.value !== undefined) console.log(`    value: ${JSON.stringify(f.value).slice(0, 1500)}`);
      }
    }
  }
  return failed;
}

async function main() {
  const binary = process.argv[2];
  if (!binary) { console.error("usage: node validate.mjs <path-to-pincer>"); process.exit(2); }
  const started = Date.now();
  const provider = await startFakeProvider();
  const gw = await startGateway(binary, {
    gateway: { tickIntervalMs: 1000 },
    models: { providers: { fake: { baseUrl: `http://127.0.0.1:${provider.port}/v1`, api: "openai-completions",
      apiKey: "k", models: [{ id: "fake-model" }] } } },
    agents: { defaults: { model: "fake/fake-model" } },
  });
  // The v4 client asks for tool events (caps), so `agent` stream "tool" events are produced too.
  const clients = [new Client("v4", gw.port, 4, ["tool-events"]), new Client("v3", gw.port, 3)];
  try {
    for (const c of clients) await exercise(c, gw.token);
    for (const c of clients) await exerciseChat(c);
    checkChatSideEffects(clients, provider, gw);
    // Presence changes are coalesced (gateway.limits.presenceBroadcastIntervalMs, 1 s), so the
    // entry system-event reported arrives in a trailing `presence` event: wait for it, and a tick.
    const reported = (f) => f.type === "event" && f.event === "presence" &&
      (f.payload?.presence || []).some((e) => e.instanceId === "schema-test");
    await Promise.all(clients.map((c) => c.waitFor(reported, "a presence event with the system-event entry")));
    await Promise.all(clients.map((c) => c.waitFor((f) => f.type === "event" && f.event === "tick", "a tick event")));
    const [exit] = await Promise.all([
      gw.stop(),
      ...clients.map((c) => c.waitFor((f) => f.type === "event" && f.event === "shutdown", "the shutdown event")),
    ]);
    fact("gateway exits 0 on SIGTERM", exit.code === 0, "gateway", `exit ${JSON.stringify(exit)}`);
    await withTimeout(Promise.all(clients.map((c) => c.closedPromise)), WAIT_MS, "the sockets to close");
  } catch (e) {
    console.error(`FAIL (harness): ${e.message}`);
    console.error(`gateway stderr:\n${gw.stderr().slice(-4000)}`);
    console.error(`fake provider requests: ${provider.requests.map((r) => `${r.path} → ${r.kind}`).join(", ")}`);
    if (process.env.PINCER_SCHEMA_DUMP) {
      for (const c of clients) for (const f of c.frames) console.error(`[${c.label}] ${f.text.slice(0, 400)}`);
    }
    gw.cleanup();
    await provider.close();
    process.exit(1);
  }
  for (const c of clients) validateClient(c);
  if (process.env.PINCER_SCHEMA_DUMP) {
    for (const c of clients) for (const f of c.frames) console.log(`[${c.label}] ${f.text.slice(0, 400)}`);
  }
  const failed = printSummary();
  const frames = clients.map((c) => `${c.label}: ${c.frames.length}`).join(", ");
  console.log(`\n${failed ? "FAIL" : "OK"}: server frames recorded ${frames}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  gw.cleanup();
  await provider.close();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(`FAIL (harness): ${e.stack || e}`); process.exit(1); });
