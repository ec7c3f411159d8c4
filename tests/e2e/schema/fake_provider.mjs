// A tiny fake OpenAI-compatible streaming provider for the schema e2e (validate.mjs): only
// POST /v1/chat/completions, always answered as `text/event-stream` (or an HTTP error).
//
// The reply is chosen from the request itself, so extra or reordered model calls cannot shift a
// script out of step:
//   * last message has role "tool"            → a text reply ("Wrote a.txt.") after the tool round trip
//   * last user message contains "use the tool" → a `write` tool call (finish_reason "tool_calls")
//   * last user message contains "go slowly"    → a slow text stream (one chunk per 100 ms, ~10 s),
//                                                 ended early when the gateway hangs up (chat.abort)
//   * last user message contains "please fail"  → HTTP 401 with an OpenAI-style error body
//   * anything else                             → "Hello from the fake model." in three chunks
// Every streamed reply ends with a finish chunk carrying `usage` and then `data: [DONE]`.
import http from "node:http";

const textOf = (content) => typeof content === "string" ? content
  : Array.isArray(content) ? content.map((p) => (typeof p?.text === "string" ? p.text : "")).join("") : "";

export async function startFakeProvider() {
  const requests = []; // {path, auth, body (parsed JSON or null), kind}
  let openStreams = 0;

  const chunk = (delta) => `data: ${JSON.stringify({
    id: "chatcmpl-fake", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "fake-model",
    choices: [{ index: 0, delta, finish_reason: null }],
  })}\n\n`;
  const finish = (reason, completionTokens) => `data: ${JSON.stringify({
    id: "chatcmpl-fake", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "fake-model",
    choices: [{ index: 0, delta: {}, finish_reason: reason }],
    usage: { prompt_tokens: 12, completion_tokens: completionTokens, total_tokens: 12 + completionTokens },
  })}\n\ndata: [DONE]\n\n`;

  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (d) => { raw += d; });
    req.on("end", () => {
      let body = null;
      try { body = JSON.parse(raw); } catch { /* recorded as null */ }
      const entry = { path: req.url, auth: req.headers.authorization, body, kind: "?" };
      requests.push(entry);
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        entry.kind = "404";
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      const messages = Array.isArray(body?.messages) ? body.messages : [];
      const last = messages[messages.length - 1];
      const lastUser = [...messages].reverse().find((m) => m?.role === "user");
      const said = textOf(lastUser?.content);

      if (last?.role !== "tool" && said.includes("please fail")) {
        entry.kind = "401";
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "Incorrect API key provided: k", type: "invalid_request_error",
          code: "invalid_api_key" } }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      openStreams++;
      res.on("close", () => { openStreams--; });
      if (last?.role === "tool") {
        entry.kind = "text-after-tool";
        res.write(chunk({ role: "assistant", content: "Wrote " }));
        res.write(chunk({ content: "a.txt." }));
        res.end(finish("stop", 3));
      } else if (said.includes("use the tool")) {
        entry.kind = "tool-call";
        res.write(chunk({ role: "assistant", content: "Writing it." }));
        res.write(chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function",
          function: { name: "write", arguments: "{\"path\":\"a.txt\",\"content\":\"x\"}" } }] }));
        res.end(finish("tool_calls", 9));
      } else if (said.includes("go slowly")) {
        entry.kind = "slow";
        res.write(chunk({ role: "assistant", content: "one" }));
        let n = 1;
        const timer = setInterval(() => {
          if (res.destroyed || res.writableEnded) { clearInterval(timer); return; }
          if (++n > 100) { clearInterval(timer); res.end(finish("stop", n)); return; }
          res.write(chunk({ content: ` ${n}` }));
        }, 100);
        res.on("close", () => clearInterval(timer));
      } else {
        entry.kind = "text";
        res.write(chunk({ role: "assistant", content: "Hello " }));
        res.write(chunk({ content: "from the " }));
        res.write(chunk({ content: "fake model." }));
        res.end(finish("stop", 5));
      }
    });
  });
  await new Promise((resolve, reject) => { server.once("error", reject); server.listen(0, "127.0.0.1", resolve); });
  return {
    port: server.address().port,
    requests,
    openStreams: () => openStreams,
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
