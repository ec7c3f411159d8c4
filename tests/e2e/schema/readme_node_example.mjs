// Runs README.md's Node example as written against a freshly started gateway.
//
// Usage: node readme_node_example.mjs <path-to-pincer>   (run.sh installs the pinned `ws` first)
//
// The example is taken verbatim from README.md (the ```js block after "Node (`npm install ws`):")
// into a temp .cjs file; only what a reader would change is changed: the URL's port (the gateway
// picks a free one with --port 0), and PINCER_GATEWAY_TOKEN is set in its environment. `require("ws")`
// resolves to this directory's pinned ws via NODE_PATH. The test asserts that it exits 0 and prints
// "connected, protocol <n>" followed by the status result as JSON. Exit 0 on success, 1 on failure.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startGateway, withTimeout, WAIT_MS } from "./gateway.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const readmePath = path.resolve(here, "../../../README.md");

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exitCode = 1;
}

function extractExample(readme) {
  const marker = readme.indexOf("Node (`npm install ws`):");
  if (marker < 0) throw new Error("README.md has no 'Node (`npm install ws`):' section");
  const m = /```js\n([\s\S]*?)\n```/.exec(readme.slice(marker));
  if (!m) throw new Error("no ```js block after README.md's Node heading");
  return m[1] + "\n";
}

async function main() {
  const binary = process.argv[2];
  if (!binary) { console.error("usage: node readme_node_example.mjs <path-to-pincer>"); process.exit(2); }
  const example = extractExample(fs.readFileSync(readmePath, "utf8"));
  const URL_IN_README = "ws://127.0.0.1:18789/";
  if (!example.includes(URL_IN_README)) throw new Error(`the README example no longer uses ${URL_IN_README}`);

  const gw = await startGateway(binary, {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pincer-readme-node-"));
  try {
    const file = path.join(dir, "example.cjs");
    fs.writeFileSync(file, example.replace(URL_IN_README, `ws://127.0.0.1:${gw.port}/`));
    const env = { ...process.env, PINCER_GATEWAY_TOKEN: gw.token, NODE_PATH: path.join(here, "node_modules") };
    const child = spawn(process.execPath, [file], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    const exit = await withTimeout(new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
      WAIT_MS, "the README example to finish").catch((e) => { child.kill("SIGKILL"); throw e; });

    const m = /^connected, protocol (\d+)\n([\s\S]*)$/.exec(out);
    if (exit.code !== 0) fail(`example exited ${JSON.stringify(exit)}`);
    if (!m) {
      fail(`expected "connected, protocol <n>" then the status JSON; got:\n${out}`);
    } else {
      if (m[1] !== "4") fail(`example offers [3,4], expected protocol 4, got ${m[1]}`);
      let status;
      try { status = JSON.parse(m[2]); } catch (e) { fail(`status output is not JSON (${e.message}):\n${m[2]}`); }
      if (status !== undefined && (typeof status !== "object" || status === null || !("runtimeVersion" in status))) {
        fail(`status output is not a status result: ${m[2].slice(0, 500)}`);
      }
    }
    if (process.exitCode) {
      console.error(`example stdout:\n${out}\nexample stderr:\n${err}\ngateway stderr:\n${gw.stderr().slice(-3000)}`);
    } else {
      console.log(`OK: README Node example printed "connected, protocol ${m[1]}" and the status JSON (${m[2].length} bytes)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await gw.stop().catch((e) => fail(e.message));
    gw.cleanup();
  }
}

main().catch((e) => { console.error(`FAIL (harness): ${e.stack || e}`); process.exit(1); });
