// Writes the expected outputs that seek's tokenizer tests compare against, computed by the npm implementations:
//   OUT/corpus.json              the seeded test strings (JSON array)
//   OUT/<variant>/tokenizer.json, tokenizer_config.json   the tokenizer files (so seek loads exactly the same)
//   OUT/<variant>/ids.txt        one line per string: ids of encode(s, {add_special_tokens: false}) (the base
//                                Qwen/Llama tokenizers: the first quarter of the strings)
//   OUT/<variant>/ids_bos.txt    the same with add_special_tokens: true, for the first 300 strings
//   OUT/chat.json                chat conversations rendered by the models' Jinja templates (@huggingface/jinja), with ids
//   OUT/nfc.json                 [[s, s.normalize('NFC')], ...] for decomposed characters and random mark sequences
//   OUT/fingerprint              inputs' hash: a later run with the same inputs returns at once
//
//   node tools/tokenizer/oracle.mjs --data ../shared/data --out build/tokenizer-oracle [--count 20000] [--seed N]
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus, rng } from './corpus.mjs';
import { chatCases } from './chat.mjs';
import { loadOracle, variants } from './variants.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const a = { data: path.join(here, '../../../shared/data'), out: '', count: 20000, seed: 20250601 };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in a)) throw new Error(`unknown option --${k}`);
    a[k] = typeof a[k] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!a.out) throw new Error('--out DIR is required');
  return a;
}

function fingerprint(args) {
  const h = crypto.createHash('sha256');
  for (const f of ['oracle.mjs', 'corpus.mjs', 'variants.mjs', 'chat.mjs', 'package-lock.json']) {
    const p = path.join(here, f);
    if (fs.existsSync(p)) h.update(fs.readFileSync(p));
  }
  h.update(JSON.stringify([args.count, args.seed, path.resolve(args.data), process.versions.node]));
  return h.digest('hex');
}

function nfcCases(seed) {
  const r = rng(seed);
  const cases = [];
  for (let c = 0xa0; c < 0x30000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const s = String.fromCodePoint(c);
    const d = s.normalize('NFD');
    if (d !== s) cases.push(d, s);
  }
  const marks = [0x300, 0x301, 0x308, 0x323, 0x327, 0x328, 0x345, 0x35c, 0x5b0, 0x5b4, 0x64b, 0x651, 0x93c, 0x94d,
    0x9be, 0x9d7, 0xb3e, 0xb56, 0xb57, 0xbbe, 0xcd5, 0xd3e, 0xdcf, 0xfb2, 0x102e, 0x1d165, 0x3099, 0x309a, 0x1161,
    0x1175, 0x11a8, 0x11c2];
  const bases = ['a', 'e', 'u', 'A', 'ω', 'ι', 'ᾳ', 'ὠ', 'ا', 'ক', 'ୈ', 'ொ', 'か', 'ハ', '\u1100', '\u1112', '가', '각', '1', ' '];
  for (let i = 0; i < 4000; i++) {
    let s = '';
    for (let k = r.range(1, 4); k > 0; k--) {
      s += r.pick(bases);
      for (let m = r.range(0, 4); m > 0; m--) s += String.fromCodePoint(r.pick(marks));
    }
    cases.push(s);
  }
  return cases.map((s) => [s, s.normalize('NFC')]);
}

// Runs fn holding OUT.lock, so that test processes started in parallel (ctest -j) generate the outputs once.
function withLock(lockPath, fn) {
  const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const deadline = Date.now() + 10 * 60 * 1000;
  for (;;) {
    try {
      fs.mkdirSync(lockPath);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    try {  // a lock left by a killed run
      if (Date.now() - fs.statSync(lockPath).mtimeMs > 10 * 60 * 1000) fs.rmSync(lockPath, { recursive: true, force: true });
    } catch {}
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath}`);
    sleep(200);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockPath, { recursive: true, force: true });
  }
}

function main() {
  const args = parseArgs(process.argv);
  fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
  withLock(`${args.out}.lock`, () => generate(args));
}

function generate(args) {
  const fp = fingerprint(args);
  const fpFile = path.join(args.out, 'fingerprint');
  if (fs.existsSync(fpFile) && fs.readFileSync(fpFile, 'utf8') === fp) {
    console.log(`oracle: ${args.out} is up to date`);
    return;
  }
  const tmp = `${args.out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });

  const t0 = Date.now();
  const corpus = generateCorpus({ seed: args.seed, count: args.count, dataDir: args.data });
  fs.writeFileSync(path.join(tmp, 'corpus.json'), JSON.stringify(corpus));
  const bytes = corpus.reduce((n, s) => n + Buffer.byteLength(s), 0);
  console.log(`oracle: corpus of ${corpus.length} strings, ${(bytes / 1e6).toFixed(2)} MB`);
  fs.writeFileSync(path.join(tmp, 'nfc.json'), JSON.stringify(nfcCases(args.seed)));

  const chatTokenizers = {};
  for (const [name, v] of Object.entries(variants(args.data))) {
    const t1 = Date.now();
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(v.json));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(v.config));
    const tok = loadOracle(v);
    // The base Qwen/Llama tokenizers share their BPE with the distills, so a quarter of the corpus is enough there.
    const n = name.startsWith('deepseek-') || name.startsWith('r1-') ? corpus.length : Math.ceil(corpus.length / 4);
    const lines = corpus.slice(0, n).map((s) => tok.encode(s, { add_special_tokens: false }).join(' '));
    fs.writeFileSync(path.join(dir, 'ids.txt'), lines.join('\n') + '\n');
    const bos = corpus.slice(0, 300).map((s) => tok.encode(s, { add_special_tokens: true }).join(' '));
    fs.writeFileSync(path.join(dir, 'ids_bos.txt'), bos.join('\n') + '\n');
    console.log(`oracle: ${name}: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    if (name.startsWith('deepseek-') || name.startsWith('r1-')) chatTokenizers[name] = tok;
  }
  const chat = chatCases({ dataDir: args.data, seed: args.seed, count: 300, corpus, tokenizers: chatTokenizers });
  fs.writeFileSync(path.join(tmp, 'chat.json'), JSON.stringify(chat));
  console.log(`oracle: ${chat.cases.length} chat renders`);
  fs.writeFileSync(path.join(tmp, 'fingerprint'), fp);
  fs.rmSync(args.out, { recursive: true, force: true });
  fs.renameSync(tmp, args.out);
  console.log(`oracle: wrote ${args.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main();
