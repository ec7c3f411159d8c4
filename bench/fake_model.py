#!/usr/bin/env python3
"""A minimal OpenAI-compatible streaming model for the chat benchmarks (bench/chat_bench.sh).

POST /v1/chat/completions answers every request, whatever its messages, with an SSE stream of
--chunks content deltas (each --text), a finish chunk with usage, then `data: [DONE]`; HTTP/1.1,
chunked, keep-alive. No sleeps: the model is never the bottleneck. Prints `listening on PORT` once
bound (port 0 picks a free one). A user message containing `chunks=N` overrides --chunks for
that request.

Usage: fake_model.py [--port 0] [--chunks 1000] [--text x]
"""
import argparse
import time
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
CHUNKS_RE = re.compile(r"chunks=(\d+)")


def sse(obj):
    data = b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        body = json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        chunks = ARGS.chunks
        try:
            req = json.loads(raw or b"{}")
            for m in reversed(req.get("messages") or []):
                if m.get("role") == "user":
                    content = m.get("content")
                    if isinstance(content, list):
                        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
                    found = CHUNKS_RE.search(content or "")
                    if found:
                        chunks = int(found.group(1))
                    break
        except (ValueError, AttributeError):
            pass
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": "fake"}
        delta = sse(dict(base, choices=[{"index": 0, "delta": {"content": ARGS.text}}]))
        # Every delta is its own write (and TCP segment, unless the kernel coalesces): the gateway
        # sees a token stream, not one blob.
        write = self.wfile.write
        write(sse(dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}}])))
        pause = ARGS.interval_ms / 1000.0
        for _ in range(chunks):
            write(delta)
            if pause:
                self.wfile.flush()
                time.sleep(pause)
        write(sse(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}],
                       usage={"prompt_tokens": 10, "completion_tokens": chunks, "total_tokens": 10 + chunks})))
        data = b"data: [DONE]\n\n"
        write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
        self.wfile.flush()


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--chunks", type=int, default=1000)
    p.add_argument("--text", default="x")
    # A model's real pace (e.g. 20 ms per token): each delta then arrives on its own.
    p.add_argument("--interval-ms", type=float, default=0.0)
    ARGS = p.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    print(f"listening on {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
