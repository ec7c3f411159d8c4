// Shared helpers for the schema e2e scripts: start a real `pincer gateway run --port 0` with a
// throw-away state directory, wait (bounded) for its "listening" line, and stop it on exit.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const WAIT_MS = 5000; // every single wait in these scripts is bounded by this

const LISTENING = /pincer: listening on 127\.0\.0\.1:(\d+)/;

// Env vars that would make the gateway read someone else's state, config, token or port.
const FOREIGN_ENV = [
  "PINCER_CONFIG_PATH", "PINCER_GATEWAY_TOKEN", "PINCER_GATEWAY_PORT", "PINCER_GATEWAY_PASSWORD",
  "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PORT",
  "OPENCLAW_GATEWAY_PASSWORD",
];

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Starts the gateway; `config` is written to <state>/pincer.json. Returns
// {proc, port, token, stateDir, stderr(), exited, stop()}.
export async function startGateway(binary, config = {}) {
  if (!binary || !fs.existsSync(binary)) throw new Error(`pincer binary not found: ${binary}`);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pincer-schema-"));
  fs.writeFileSync(path.join(stateDir, "pincer.json"), JSON.stringify(config) + "\n");
  const token = crypto.randomBytes(24).toString("hex");
  const env = { ...process.env, PINCER_STATE_DIR: stateDir };
  for (const k of FOREIGN_ENV) delete env[k];

  const proc = spawn(binary, ["gateway", "run", "--port", "0", "--token", token], {
    env, stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));

  const cleanup = () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      try { proc.kill("SIGKILL"); } catch { /* already gone */ }
    }
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  process.on("exit", cleanup);

  const port = await withTimeout(new Promise((resolve, reject) => {
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (d) => {
      stdout += d;
      const m = LISTENING.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    proc.on("exit", (code, signal) =>
      reject(new Error(`gateway exited (code ${code}, signal ${signal}) before listening; stderr:\n${stderr}`)));
    proc.on("error", reject);
  }), WAIT_MS, "the gateway's 'listening' line").catch((e) => {
    cleanup();
    throw new Error(`${e.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
  });

  return {
    proc, port, token, stateDir, exited,
    stderr: () => stderr,
    // SIGTERM, then SIGKILL if it has not exited within WAIT_MS. Resolves to {code, signal}.
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill("SIGTERM");
      try {
        return await withTimeout(exited, WAIT_MS, "the gateway to exit after SIGTERM");
      } catch (e) {
        proc.kill("SIGKILL");
        await exited;
        throw e;
      }
    },
    cleanup,
  };
}
