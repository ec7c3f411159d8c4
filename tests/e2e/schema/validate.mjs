// Validates every frame a real Pincer gateway sends against the published protocol schema of the
// pinned npm package @openclaw/gateway-protocol (protocol.schema.json, draft-07), with ajv.
//
// Usage: node validate.mjs <path-to-pincer>      (run.sh installs the pinned packages first)
//
// Starts `pincer gateway run --port 0` with a temp state dir and {gateway:{tickIntervalMs:1000}},
// connects a v4 client ([4,4]) and a v3 client ([3,3]) as gateway-client/backend operators with
// all 8 operator scopes, calls health, status, system-presence, system-event (plain, then with
// presence fields so a `presence` event is broadcast), config.get,
// config.schema, logs.tail, an unknown method and a request without `method`, waits for a `tick`,
// sends SIGTERM and records the `shutdown` event. Then every recorded server frame is checked
// (see CHECKS in the summary). Exit 0 = all valid; 1 = a validation failure (ajv errors printed)
// or a harness failure (timeout, gateway died, ...). PINCER_SCHEMA_DUMP=1 prints every frame.
//
// Known deviations: where the pinned schema is stricter than what the reference server itself
// sends on the wire (../../../../shared/protocol/wire-notes.md wins over the schema), the exact
// ajv error is listed in KNOWN_DEVIATIONS with its justification. Each one is matched exactly
// (definition, instancePath, keyword, offending property, protocol) and printed in the summary;
// any other error fails the run.
import fs from "node:fs";
import WebSocket from "ws";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { startGateway, withTimeout, WAIT_MS } from "./gateway.mjs";

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
  return { found, tried };
}

// ---------------------------------------------------------------------------------------------
// Check bookkeeping.
const checks = new Map(); // name -> {n, failures: [{label, errors, value}], known: Map(why -> count)}
function record(name) {
  if (!checks.has(name)) checks.set(name, { n: 0, failures: [], known: new Map(), notes: [] });
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
  for (const e of v.errors) {
    const k = KNOWN_DEVIATIONS.find((d) => d.def === def && d.instancePath === e.instancePath &&
      d.keyword === e.keyword && (d.property === undefined || d.property === e.params?.additionalProperty) &&
      (d.protocol === undefined || d.protocol === protocol) && (!d.valueIsNull || at(value, e.instancePath) === null));
    if (k) c.known.set(k, (c.known.get(k) || 0) + 1);
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
  constructor(label, port, protocol) {
    this.label = label;
    this.protocol = protocol;
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
        const { found, tried } = resultDefsFor(method);
        for (const def of found) check(`${method} result as ${def}`, def, fr.payload, label, p);
        if (!found.length) {
          const n = record(`${method} result`);
          const note = `no definition in the pinned schema (tried ${tried.join(", ")})`;
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
        default: break;
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

function printSummary() {
  let failed = false;
  console.log(`\n@openclaw/gateway-protocol ${schemaPkg.version} (${schema.$id}), ajv ${ajvVersion}`);
  console.log("CHECKS");
  for (const [name, c] of checks) {
    const status = c.failures.length ? "FAIL" : c.n === 0 ? "SKIP" : c.known.size ? "PASS*" : "PASS";
    if (c.failures.length) failed = true;
    console.log(`  ${status.padEnd(5)} ${name}${c.n ? ` (${c.n} checked)` : ""}${c.notes.length ? ` — ${c.notes.join("; ")}` : ""}`);
  }
  const used = [...checks.values()].flatMap((c) => [...c.known.entries()]);
  if (used.length) {
    console.log("\nKNOWN DEVIATIONS (PASS*: the schema is stricter than the reference wire; matched exactly)");
    const seen = new Map();
    for (const [k, n] of used) seen.set(k, (seen.get(k) || 0) + n);
    for (const [k, n] of seen) {
      console.log(`  ${k.def} ${k.instancePath} ${k.keyword}${k.property ? ` '${k.property}'` : ""}` +
        `${k.valueIsNull ? " (null)" : ""}${k.protocol ? ` (v${k.protocol})` : ""} ×${n}: ${k.why}`);
    }
  }
  for (const k of KNOWN_DEVIATIONS) {
    if (!used.some(([u]) => u === k)) console.log(`  note: known deviation no longer seen: ${k.def} ${k.instancePath} ${k.keyword}`);
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
  const gw = await startGateway(binary, { gateway: { tickIntervalMs: 1000 } });
  const clients = [new Client("v4", gw.port, 4), new Client("v3", gw.port, 3)];
  try {
    for (const c of clients) await exercise(c, gw.token);
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
    gw.cleanup();
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
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(`FAIL (harness): ${e.stack || e}`); process.exit(1); });
