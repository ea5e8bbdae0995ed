#!/usr/bin/env node
// Runs seek-tiny-v3.gguf in llama.cpp (node-llama-cpp@3.21.1 prebuilt, llama.cpp v0.4.0) and prints ONE JSON:
//  - tokenization of --file (whole text, and line by line) -> compared by check_llamacpp.py with ours
//  - greedy continuations of --prompt (repeatable)
//  - perplexity exactly like llama-perplexity (BOS-tokenized text, chunks of --ctx, first token of each chunk
//    replaced by BOS, positions ctx/2 .. ctx-2 scored), from per-position probabilities (controlledEvaluate).
// usage: node tools/train/check_llamacpp.mjs --model M.gguf --file heldout.txt [--ctx 256] [--chunks N]
//        [--prompt TEXT]... [--n 48] [--threads 1] [--out result.json] [--nlc DIR (dir containing node_modules/node-llama-cpp)]
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

const log = console.log; console.log = (...a) => console.error(...a); console.info = console.log;
const args = { ctx: 256, chunks: -1, n: 48, threads: 1, prompt: [] };
const av = process.argv.slice(2);
for (let i = 0; i < av.length; i++) {
    const k = av[i].replace(/^--/, "");
    if (k === "prompt") args.prompt.push(av[++i]);
    else args[k] = av[++i];
}
for (const k of ["ctx", "chunks", "n", "threads"]) args[k] = Number(args[k]);
if (!args.model || !args.file) { process.stderr.write("need --model and --file\n"); process.exit(2); }
const here = path.dirname(fileURLToPath(import.meta.url));
const cands = [args.nlc, path.join(here, "..", "oracle"), "/tmp/nlc"].filter(Boolean)
    .map((d) => path.join(d, "node_modules", "node-llama-cpp", "dist", "index.js"));
const found = cands.find((p) => fs.existsSync(p));
if (!found) { process.stderr.write(`node-llama-cpp not found in: ${cands.join(", ")}\n`); process.exit(2); }
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(found).href);

const llama = await getLlama({ build: "never", gpu: false, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: args.model });
const bos = model.tokens.bos;
let text = fs.readFileSync(args.file, "utf8");
if (text.endsWith("\n")) text = text.slice(0, -1);     // like llama.cpp -f

const out = { model: path.basename(args.model), bos, add_bos: model.tokens.shouldPrependBosToken,
              n_vocab: model.fileInfo.metadata.tokenizer.ggml.tokens.length };
// tokenization (no special-token parsing, no BOS)
const whole = Array.from(model.tokenize(text, false));
out.tokens = whole;
out.line_tokens = text.split("\n").map((l) => Array.from(model.tokenize(l, false)));

// a context one slot larger than ctx so that filling ctx positions never triggers a context shift
const context = await model.createContext({ contextSize: args.ctx + 1, batchSize: args.ctx, sequences: 1,
                                            threads: args.threads, ignoreMemorySafetyChecks: true });
const seq = context.getSequence();

// greedy continuations
out.greedy = [];
for (const p of args.prompt) {
    await seq.clearHistory();
    const inp = [bos, ...model.tokenize(p, false)];
    const gen = [];
    for await (const t of seq.evaluate(inp, { temperature: 0 })) {
        gen.push(t);
        if (gen.length >= args.n || model.isEogToken(t)) break;
    }
    out.greedy.push({ prompt: p, prompt_tokens: inp, tokens: gen, text: model.detokenize(gen) });
}

// perplexity
const toks = [bos, ...whole];
const nCtx = args.ctx, first = Math.floor(nCtx / 2);
const nMax = Math.floor(toks.length / nCtx);
const nChunk = args.chunks < 0 ? nMax : Math.min(args.chunks, nMax);
let nll = 0, count = 0, maxSumErr = 0;
const want = { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } };
for (let c = 0; c < nChunk; c++) {
    const chunk = toks.slice(c * nCtx, (c + 1) * nCtx);
    chunk[0] = bos;
    await seq.clearHistory();
    const res = await seq.controlledEvaluate(chunk.map((t, k) => (k >= first && k < nCtx - 1 ? [t, want] : t)));
    for (let k = first; k < nCtx - 1; k++) {
        const probs = res[k].next.probabilities;
        let s = 0; for (const v of probs.values()) s += v;
        maxSumErr = Math.max(maxSumErr, Math.abs(s - 1));
        const p = probs.get(chunk[k + 1]) ?? 0;
        nll += -Math.log(Math.max(p, 1e-30));
        count++;
    }
}
Object.assign(out, { ctx: nCtx, n_tokens: toks.length, n_chunks: nChunk, n_scored: count, nll_sum: nll,
                     ppl: Math.exp(nll / count), max_prob_sum_err: maxSumErr });
if (args.out) fs.writeFileSync(args.out, JSON.stringify(out));
else fs.writeSync(1, JSON.stringify(out) + "\n");
process.exit(0);
