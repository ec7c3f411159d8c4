#!/usr/bin/python3
"""Runs the hosted docs' Python example (issue 2) as written against a freshly started gateway.

Usage: hosted_example_test.py <path-to-pincer>

The example is kept verbatim below; only the two things a reader would edit are substituted:
the URL's port (the gateway picks a free one with --port 0) and YOUR_GATEWAY_TOKEN. It runs in
its own /usr/bin/python3 process (Debian's python3-websockets), exactly as a user would run it.
The test asserts that it prints a connect.challenge event first and then a hello-ok response.
Exit status 0 on success, 1 on failure.
"""
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EXAMPLE = '''\
import asyncio, json, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:18789/") as ws:
        await ws.send(json.dumps({"type": "req", "id": "1", "method": "connect",
            "params": {"minProtocol": 3, "maxProtocol": 3,
                "client": {"id": "my-script", "mode": "backend", "version": "1.0", "platform": "python"},
                "auth": {"token": "YOUR_GATEWAY_TOKEN"}}}))
        print(await ws.recv())
        await ws.send(json.dumps({"type": "req", "id": "2", "method": "chat.send",
            "params": {"message": "What's on my schedule today?"}}))
        print(await ws.recv())
asyncio.run(main())
'''

LISTENING = re.compile(r"pincer: listening on 127\.0\.0\.1:(\d+)")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    return 1


def start_gateway(binary, state_dir, token):
    env = dict(os.environ)
    env["PINCER_STATE_DIR"] = state_dir
    for k in ("PINCER_CONFIG_PATH", "PINCER_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_STATE_DIR",
              "OPENCLAW_CONFIG_PATH", "OPENCLAW_GATEWAY_PORT"):
        env.pop(k, None)
    # stderr goes to a file so a chatty log can never fill a pipe nobody drains.
    err_path = os.path.join(state_dir, "gateway-stderr.log")
    with open(err_path, "w") as err_file:
        proc = subprocess.Popen([binary, "gateway", "run", "--port", "0", "--token", token], env=env,
                                stdout=subprocess.PIPE, stderr=err_file, text=True)
    deadline = time.monotonic() + 15
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            break  # stdout closed: the process exited
        seen.append(line)
        m = LISTENING.search(line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    out, _ = proc.communicate(timeout=5)
    with open(err_path) as f:
        err = f.read()
    raise RuntimeError("gateway did not report its port; stdout=%r stderr=%r" % ("".join(seen) + out, err))


def stop_gateway(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(argv[1])
    state_dir = tempfile.mkdtemp(prefix="pincer-hosted-example-")
    token = "hosted-example-" + secrets.token_hex(16)
    proc = None
    try:
        proc, port = start_gateway(binary, state_dir, token)
        script = EXAMPLE.replace("ws://127.0.0.1:18789/", "ws://127.0.0.1:%d/" % port)
        script = script.replace("YOUR_GATEWAY_TOKEN", token)
        try:
            run = subprocess.run(["/usr/bin/python3", "-c", script], capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            return fail("the example did not finish within 30 s")
        if run.returncode != 0:
            return fail("the example exited %d\nstdout:\n%s\nstderr:\n%s" % (run.returncode, run.stdout, run.stderr))
        lines = [l for l in run.stdout.splitlines() if l.strip()]
        if len(lines) != 2:
            return fail("expected 2 printed frames, got %d:\n%s" % (len(lines), run.stdout))
        first, second = (json.loads(l) for l in lines)

        if first.get("type") != "event" or first.get("event") != "connect.challenge":
            return fail("first frame is not a connect.challenge event: %s" % lines[0])
        payload = first.get("payload") or {}
        if not isinstance(payload.get("nonce"), str) or not payload["nonce"] or not isinstance(payload.get("ts"), int):
            return fail("challenge payload lacks nonce/ts: %s" % lines[0])
        if "seq" in first:
            return fail("the challenge must carry no seq: %s" % lines[0])

        if second.get("type") != "res" or second.get("id") != "1" or second.get("ok") is not True:
            return fail("second frame is not the ok response to connect: %s" % lines[1][:500])
        hello = second.get("payload") or {}
        if hello.get("type") != "hello-ok":
            return fail("second frame's payload.type is not hello-ok: %s" % lines[1][:500])
        if hello.get("protocol") != 3:
            return fail("a 3..3 client must get protocol 3, got %r" % hello.get("protocol"))
        auth = hello.get("auth") or {}
        if auth.get("role") != "operator" or "operator.write" not in (auth.get("scopes") or []):
            return fail("a client naming no role/scopes gets operator with the default scopes: %r" % auth)
        print("ok: the hosted example printed a connect.challenge and then hello-ok (protocol 3)")
        return 0
    finally:
        if proc is not None:
            stop_gateway(proc)
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
