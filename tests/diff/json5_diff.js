#!/usr/bin/env node
// Differential test: runs every tests/diff/json5_corpus/*.json5 file through the pinned reference
// json5 package and through Pincer's parser (the json5_driver binary given as argv[2]), and fails
// when they disagree on accept/reject, on the parsed value, or on the error message.
// File names state the expectation (valid_* / invalid_*), which is checked against json5 too, so
// a corpus mistake cannot make both sides agree on the wrong thing.
// Known, documented differences are normalised here, not hidden: unpaired surrogates become U+FFFD
// (Pincer keeps strings valid UTF-8). The corpus stays within Pincer's depth and size limits.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const JSON5 = require('json5');

console.warn = () => {};  // json5 warns about raw U+2028/U+2029 in strings; irrelevant here

const driver = process.argv[2];
const corpusDir = process.argv[3] || path.join(__dirname, 'json5_corpus');
// Extra mutated inputs derived from the corpus (deterministic seed): cheap coverage of odd corners.
const mutations = Number(process.env.JSON5_DIFF_MUTATIONS ?? 400);
const files = fs.readdirSync(corpusDir).filter((f) => f.endsWith('.json5')).sort();

function escapeString(s) {
    let out = '"';
    for (let i = 0; i < s.length; i++) {
        let u = s.charCodeAt(i);
        const high = u >= 0xd800 && u <= 0xdbff;
        const low = u >= 0xdc00 && u <= 0xdfff;
        if (high && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
            out += '\\u' + u.toString(16).padStart(4, '0');
            u = s.charCodeAt(++i);
        } else if (high || low) {
            u = 0xfffd;  // documented difference: lone surrogate -> U+FFFD
        }
        if (u === 0x22 || u === 0x5c) out += '\\' + String.fromCharCode(u);
        else if (u < 0x20 || u > 0x7e) out += '\\u' + u.toString(16).padStart(4, '0');
        else out += String.fromCharCode(u);
    }
    return out + '"';
}

function compareCodePoints(a, b) {
    const x = Array.from(a, (c) => c.codePointAt(0));
    const y = Array.from(b, (c) => c.codePointAt(0));
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
}

function canonical(v) {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'number') {
        if (Number.isNaN(v)) return 'NaN';
        if (v === Infinity) return 'Infinity';
        if (v === -Infinity) return '-Infinity';
        return Object.is(v, -0) ? '0' : String(v);
    }
    if (typeof v === 'string') return escapeString(v);
    if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
    const keys = Object.keys(v).sort(compareCodePoints);
    return '{' + keys.map((k) => escapeString(k) + ':' + canonical(v[k])).join(',') + '}';
}

const paths = files.map((f) => path.join(corpusDir, f));
const mutated = new Set();
if (mutations > 0) {
    const tmp = fs.mkdtempSync(path.join(require('os').tmpdir(), 'json5-diff-'));
    process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
    const alphabet = Array.from('{}[]:,\'"\\/*+-.0123456789eExXaIN_$ \n\r\t\u00a0\u2028\ufeffé😀u');
    let seed = 12345;
    const rand = (n) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
    };
    const sources = files.map((f) => Array.from(fs.readFileSync(path.join(corpusDir, f), 'utf8')));
    for (let i = 0; i < mutations; i++) {
        const chars = sources[rand(sources.length)].slice();
        for (let edits = 1 + rand(3); edits > 0; edits--) {
            const at = rand(chars.length + 1);
            const op = rand(3);
            if (op === 0) chars.splice(at, 1);
            else if (op === 1) chars.splice(at, 0, alphabet[rand(alphabet.length)]);
            else chars.splice(at, 1, alphabet[rand(alphabet.length)]);
        }
        const p = path.join(tmp, `mutant_${String(i).padStart(4, '0')}.json5`);
        fs.writeFileSync(p, chars.join(''));
        paths.push(p);
        mutated.add(p);
    }
}
const ours = new Map();
for (let i = 0; i < paths.length; i += 500) {
    const out = execFileSync(driver, paths.slice(i, i + 500), { encoding: 'utf8', maxBuffer: 256 << 20 });
    for (const line of out.split('\n')) {
        if (!line) continue;
        const tab = line.indexOf('\t');
        ours.set(line.slice(0, tab), line.slice(tab + 1));
    }
}

let failures = 0;
for (const p of paths) {
    let reference;
    try {
        reference = 'OK ' + canonical(JSON5.parse(fs.readFileSync(p, 'utf8')));
    } catch (e) {
        reference = 'ERR ' + e.message;
    }
    const name = path.basename(p);
    const expectOk = name.startsWith('valid_');
    if (!mutated.has(p) && reference.startsWith('OK') !== expectOk) {
        console.log(`CORPUS ${name}: json5 says ${reference}`);
        failures++;
    }
    const mine = ours.get(p);
    if (mine !== reference) {
        const input = mutated.has(p) ? `\n  input:  ${JSON.stringify(fs.readFileSync(p, 'utf8'))}` : '';
        console.log(`DIFF ${name}${input}\n  json5:  ${reference}\n  pincer: ${mine}`);
        failures++;
    }
}
console.log(`${paths.length} inputs, ${failures} mismatches`);
process.exit(failures === 0 ? 0 : 1);
