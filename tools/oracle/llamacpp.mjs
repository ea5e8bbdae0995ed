#!/usr/bin/env node
// llama.cpp test oracle for seek.
//
// Runs llama.cpp (the prebuilt v0.4.0 binaries shipped with node-llama-cpp@3.21.1)
// and prints exactly ONE JSON object on stdout. Everything else goes to stderr.
// See README.md in this folder for the subcommands and their caveats.
//
// Exit codes: 0 ok, 1 runtime failure, 2 bad arguments.

import fs from "node:fs";
import path from "node:path";

// ---------------------------------------------------------------------------
// stdout hygiene: keep a private handle on stdout for the final JSON and send
// every console.log/info (ours or a library's) to stderr instead.
const writeStdout = process.stdout.write.bind(process.stdout);
console.log = (...a) => console.error(...a);
console.info = (...a) => console.error(...a);
console.debug = (...a) => console.error(...a);

const USAGE = `usage: node tools/oracle/llamacpp.mjs <command> --model F.gguf [options]

commands:
  greedy      (--tokens 0,15,27 | --prompt TEXT [--special]) -n N [--ctx N] [--stop-at-eog]
              -> {"tokens":[...]}   (+ "prompt_tokens" with --prompt)
  tokenize    (--text S | --file PATH) [--special] [--no-bos]
              -> {"tokens":[...]}
  perplexity  --file TEXT --ctx N [--chunks K] [--batch B] [--verify]
              -> {"ppl","n_tokens","n_chunks","n_scored","nll_sum",...}
  logits      (--tokens ... | --prompt TEXT [--special])
              -> {"n_vocab":V,"last_logprobs":[...V numbers...]}
  bench       -p 512 -n 128 [-r 3]
              -> {"pp":{"n","tokens_per_s"},"tg":{"n","tokens_per_s"},...}

common options:
  --threads N, -t N      CPU threads (default: llama's cpuMathCores)
  --kv-type T            KV cache type for K and V: f32 | f16 | bf16 | q8_0
                         (default f32; bench defaults to f16 like llama-bench)
  --flash-attn M         off | on | auto (default off; bench defaults to auto like llama-bench)
  --verbose              forward llama.cpp info logs to stderr
`;

class UsageError extends Error {}

function die(msg, code) {
    process.stderr.write(`llamacpp.mjs: ${msg}\n`);
    if (code === 2) process.stderr.write(`(run with --help for usage)\n`);
    process.exit(code);
}

// ---------------------------------------------------------------------------
// argument parsing

const COMMANDS = ["greedy", "tokenize", "perplexity", "logits", "bench"];

// option name -> [canonical key, takes value]
const OPTION_DEFS = {
    "--model": ["model", true], "-m": ["model", true],
    "--tokens": ["tokens", true],
    "--prompt": ["prompt", true],
    "--text": ["text", true],
    "--file": ["file", true], "-f": ["file", true],
    "--special": ["special", false],
    "--no-bos": ["noBos", false],
    "-n": ["n", true], "--n-predict": ["n", true], "--n-gen": ["n", true],
    "-p": ["p", true], "--n-prompt": ["p", true],
    "-r": ["reps", true], "--repetitions": ["reps", true],
    "--ctx": ["ctx", true], "-c": ["ctx", true], "--ctx-size": ["ctx", true],
    "--chunks": ["chunks", true],
    "--batch": ["batch", true], "-b": ["batch", true],
    "--threads": ["threads", true], "-t": ["threads", true],
    "--kv-type": ["kvType", true],
    "--flash-attn": ["flashAttn", true], "-fa": ["flashAttn", true],
    "--stop-at-eog": ["stopAtEog", false],
    "--verify": ["verify", false],
    "--verbose": ["verbose", false],
    "--help": ["help", false], "-h": ["help", false]
};

const ALLOWED = {
    greedy: ["model", "tokens", "prompt", "special", "n", "ctx", "batch", "threads", "kvType", "flashAttn", "stopAtEog", "verbose"],
    tokenize: ["model", "text", "file", "special", "noBos", "verbose"],
    perplexity: ["model", "file", "ctx", "chunks", "batch", "threads", "kvType", "flashAttn", "verify", "verbose"],
    logits: ["model", "tokens", "prompt", "special", "ctx", "batch", "threads", "kvType", "flashAttn", "verbose"],
    bench: ["model", "p", "n", "reps", "threads", "kvType", "flashAttn", "batch", "verbose"]
};

function parseArgs(argv) {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
        process.stderr.write(USAGE);
        process.exit(argv.length === 0 ? 2 : 0);
    }
    const command = argv[0];
    if (!COMMANDS.includes(command))
        throw new UsageError(`unknown command '${command}' (expected one of: ${COMMANDS.join(", ")})`);
    const opts = {};
    for (let i = 1; i < argv.length; i++) {
        let arg = argv[i];
        let inlineValue;
        const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
        if (eq > 0) {
            inlineValue = arg.slice(eq + 1);
            arg = arg.slice(0, eq);
        }
        const def = OPTION_DEFS[arg];
        if (def == null)
            throw new UsageError(`unknown option '${arg}' for '${command}'`);
        const [key, takesValue] = def;
        if (key === "help") {
            process.stderr.write(USAGE);
            process.exit(0);
        }
        if (!ALLOWED[command].includes(key))
            throw new UsageError(`option '${arg}' is not valid for '${command}'`);
        if (Object.hasOwn(opts, key))
            throw new UsageError(`option '${arg}' given more than once`);
        if (takesValue) {
            let value = inlineValue;
            if (value === undefined) {
                if (i + 1 >= argv.length)
                    throw new UsageError(`option '${arg}' needs a value`);
                value = argv[++i];
            }
            opts[key] = value;
        } else {
            if (inlineValue !== undefined)
                throw new UsageError(`option '${arg}' takes no value`);
            opts[key] = true;
        }
    }
    return { command, opts };
}

function parseIntOpt(opts, key, name, { min = -Infinity, def } = {}) {
    if (opts[key] === undefined) {
        if (def === undefined)
            throw new UsageError(`missing required option ${name}`);
        return def;
    }
    const s = String(opts[key]).trim();
    if (!/^-?\d+$/.test(s))
        throw new UsageError(`${name} must be an integer, got '${opts[key]}'`);
    const v = Number(s);
    if (!Number.isSafeInteger(v) || v < min)
        throw new UsageError(`${name} must be an integer >= ${min}, got '${opts[key]}'`);
    return v;
}

function parseTokenList(s) {
    const parts = String(s).split(",").map((x) => x.trim()).filter((x) => x !== "");
    if (parts.length === 0)
        throw new UsageError("--tokens must be a non-empty comma-separated list of token ids");
    return parts.map((p) => {
        if (!/^\d+$/.test(p))
            throw new UsageError(`--tokens: '${p}' is not a non-negative integer token id`);
        return Number(p);
    });
}

const KV_TYPES = { f32: "F32", f16: "F16", bf16: "BF16", q8_0: "Q8_0", q4_0: "Q4_0" };
const FA_MODES = { off: false, on: true, auto: "auto" };

function validate(command, opts) {
    const cfg = { command };
    if (opts.model === undefined)
        throw new UsageError("missing required option --model F.gguf");
    cfg.model = path.resolve(opts.model);
    if (!fs.existsSync(cfg.model) || !fs.statSync(cfg.model).isFile())
        throw new UsageError(`model file not found: ${opts.model}`);

    const isBench = command === "bench";
    const kv = (opts.kvType ?? (isBench ? "f16" : "f32")).toLowerCase();
    if (!Object.hasOwn(KV_TYPES, kv))
        throw new UsageError(`--kv-type must be one of ${Object.keys(KV_TYPES).join(", ")}, got '${opts.kvType}'`);
    cfg.kvType = KV_TYPES[kv];
    const fa = (opts.flashAttn ?? (isBench ? "auto" : "off")).toLowerCase();
    if (!Object.hasOwn(FA_MODES, fa))
        throw new UsageError(`--flash-attn must be one of off, on, auto, got '${opts.flashAttn}'`);
    cfg.flashAttn = FA_MODES[fa];
    cfg.threads = opts.threads === undefined ? undefined : parseIntOpt(opts, "threads", "--threads", { min: 1 });
    cfg.verbose = !!opts.verbose;
    cfg.special = !!opts.special;

    if (command === "greedy" || command === "logits") {
        if ((opts.tokens === undefined) === (opts.prompt === undefined))
            throw new UsageError(`${command} needs exactly one of --tokens or --prompt`);
        if (opts.tokens !== undefined) {
            if (opts.special) throw new UsageError("--special only applies to --prompt");
            cfg.tokens = parseTokenList(opts.tokens);
        } else {
            cfg.prompt = opts.prompt;
            if (cfg.prompt === "") throw new UsageError("--prompt must not be empty");
        }
        if (command === "greedy") {
            cfg.n = parseIntOpt(opts, "n", "-n", { min: 0 });
            cfg.stopAtEog = !!opts.stopAtEog;
        }
        cfg.ctx = opts.ctx === undefined ? undefined : parseIntOpt(opts, "ctx", "--ctx", { min: 1 });
        cfg.batch = opts.batch === undefined ? undefined : parseIntOpt(opts, "batch", "--batch", { min: 1 });
    } else if (command === "tokenize") {
        if ((opts.text === undefined) === (opts.file === undefined))
            throw new UsageError("tokenize needs exactly one of --text or --file");
        if (opts.file !== undefined) {
            if (!fs.existsSync(opts.file)) throw new UsageError(`file not found: ${opts.file}`);
            cfg.text = fs.readFileSync(opts.file, "utf8"); // raw content, like llama-tokenize --file
        } else
            cfg.text = opts.text;
        cfg.noBos = !!opts.noBos;
    } else if (command === "perplexity") {
        if (opts.file === undefined) throw new UsageError("perplexity needs --file TEXT");
        if (!fs.existsSync(opts.file)) throw new UsageError(`file not found: ${opts.file}`);
        cfg.file = opts.file;
        cfg.ctx = parseIntOpt(opts, "ctx", "--ctx", { min: 2 });
        cfg.chunks = parseIntOpt(opts, "chunks", "--chunks", { min: -1, def: -1 });
        if (cfg.chunks === 0) throw new UsageError("--chunks must be >= 1 (or -1 for all)");
        cfg.batch = parseIntOpt(opts, "batch", "--batch", { min: 1, def: Math.min(cfg.ctx, 512) });
        cfg.verify = !!opts.verify;
    } else if (command === "bench") {
        cfg.p = parseIntOpt(opts, "p", "-p", { min: 0, def: 512 });
        cfg.n = parseIntOpt(opts, "n", "-n", { min: 0, def: 128 });
        cfg.reps = parseIntOpt(opts, "reps", "-r", { min: 1, def: 5 });
        if (cfg.p === 0 && cfg.n === 0) throw new UsageError("bench needs -p > 0 or -n > 0");
        cfg.batch = parseIntOpt(opts, "batch", "--batch", { min: 1, def: 512 });
    }
    return cfg;
}

// ---------------------------------------------------------------------------
// llama.cpp setup

const captured = { kvLines: [], faLines: [], backendLines: [], nVocab: undefined };

async function loadLlama(cfg) {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const t0 = performance.now();
    const llama = await getLlama({
        build: "never",
        gpu: false,
        usePrebuiltBinaries: true,
        skipDownload: true,
        progressLogs: false,
        // ask for info-level logs so we can confirm KV type / flash attention from
        // llama.cpp's own messages; they are only forwarded with --verbose.
        logLevel: LlamaLogLevel.info,
        logger(level, message) {
            const msg = String(message);
            if (/llama_kv_cache: +size = .*K \(/.test(msg)) captured.kvLines.push(msg.trim());
            if (/flash_attn|Flash Attention/i.test(msg)) captured.faLines.push(msg.trim());
            if (/load_backend|loaded CPU backend/i.test(msg)) captured.backendLines.push(msg.trim());
            const nv = /print_info: n_vocab\s*=\s*(\d+)/.exec(msg);
            if (nv) captured.nVocab = Number(nv[1]);
            if (cfg.verbose || level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
                process.stderr.write(msg.endsWith("\n") ? msg : msg + "\n");
        },
        ...(cfg.threads != null ? { maxThreads: cfg.threads } : {})
    });
    if (cfg.verbose)
        process.stderr.write(`[oracle] llama loaded in ${(performance.now() - t0).toFixed(0)} ms; ` +
            `build=${llama.buildType} release=${llama.llamaCppRelease.release} gpu=${llama.gpu} ` +
            `cpuMathCores=${llama.cpuMathCores}\n[oracle] ${llama.systemInfo}\n`);
    return llama;
}

async function loadModel(llama, cfg, { vocabOnly = false } = {}) {
    const t0 = performance.now();
    const model = await llama.loadModel({
        modelPath: cfg.model,
        gpuLayers: 0,
        vocabOnly,
        ignoreMemorySafetyChecks: true,
        defaultContextFlashAttention: cfg.flashAttn,
        experimentalDefaultContextKvCacheKeyType: cfg.kvType,
        experimentalDefaultContextKvCacheValueType: cfg.kvType
    });
    if (cfg.verbose)
        process.stderr.write(`[oracle] model loaded in ${(performance.now() - t0).toFixed(0)} ms\n`);
    return model;
}

function threadsOf(llama, cfg) {
    return cfg.threads ?? llama.cpuMathCores;
}

async function createContext(llama, model, cfg, { contextSize, batchSize }) {
    const ctx = await model.createContext({
        contextSize,
        batchSize,
        sequences: 1,
        threads: threadsOf(llama, cfg),
        flashAttention: cfg.flashAttn,
        experimentalKvCacheKeyType: cfg.kvType,
        experimentalKvCacheValueType: cfg.kvType,
        swaFullCache: true, // no sliding-window eviction: every position sees its full prefix
        ignoreMemorySafetyChecks: true,
        failedCreationRemedy: false
    });
    // give llama.cpp's async log callbacks a moment to arrive
    await new Promise((r) => setTimeout(r, 20));
    checkContextConfig(cfg);
    return ctx;
}

// Confirm from llama.cpp's own log lines that the requested KV type and flash
// attention mode are what the context actually uses.
function checkContextConfig(cfg) {
    const want = cfg.kvType.toLowerCase();
    const kvLine = captured.kvLines.at(-1);
    if (kvLine == null) {
        process.stderr.write("[oracle] warning: could not confirm KV cache type (no llama_kv_cache log line seen)\n");
    } else {
        const m = /K \(([^)]+)\).*V \(([^)]+)\)/.exec(kvLine);
        if (m == null || m[1] !== want || m[2] !== want)
            throw new Error(`KV cache type mismatch: requested ${want}, llama.cpp reports: ${kvLine}`);
    }
    if (cfg.flashAttn === false) {
        const faLine = captured.faLines.find((l) => /flash_attn\s*=/.test(l));
        if (faLine != null && !/disabled/.test(faLine))
            throw new Error(`flash attention not disabled: ${faLine}`);
        const enabled = captured.faLines.find((l) => /Flash Attention (was auto, set to )?enabled/i.test(l));
        if (enabled != null)
            throw new Error(`flash attention was enabled: ${enabled}`);
    }
}

function kvSummary() {
    return captured.kvLines.at(-1) ?? null;
}

// Tokenize like llama.cpp's common_tokenize(..., add_special, parse_special):
// add_special prepends BOS when the vocab says add_bos (and appends EOS when it
// says add_eos). node-llama-cpp's tokenize() itself never adds them.
function tokenizeText(model, text, { addSpecial, parseSpecial }) {
    const body = text === "" ? [] : model.tokenize(text, parseSpecial);
    const out = [];
    if (addSpecial && model.tokens.shouldPrependBosToken && model.tokens.bos != null)
        out.push(model.tokens.bos);
    for (const t of body) out.push(t);  // spread would overflow the stack on long texts
    if (addSpecial && model.tokens.shouldAppendEosToken && model.tokens.eos != null)
        out.push(model.tokens.eos);
    return out;
}

// n_vocab as llama.cpp reports it ("print_info: n_vocab = N"), cross-checked
// against the GGUF tokenizer.ggml.tokens array length.
function vocabSize(model) {
    const fromGguf = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length;
    const fromLog = captured.nVocab;
    if (Number.isInteger(fromLog) && Number.isInteger(fromGguf) && fromLog !== fromGguf)
        throw new Error(`n_vocab mismatch: llama.cpp says ${fromLog}, GGUF tokens array has ${fromGguf}`);
    const n = fromLog ?? fromGguf;
    if (!Number.isInteger(n)) throw new Error("could not determine vocabulary size");
    return n;
}

function checkTokenIds(tokens, nVocab) {
    for (const t of tokens)
        if (t >= nVocab) throw new UsageError(`token id ${t} is out of range (n_vocab = ${nVocab})`);
}

// Full-vocabulary log-softmax from node-llama-cpp's probability map.
// The addon computes p_i = expf(l_i - max) / S in float32 (S summed in float).
// Renormalising in float64 (log p_i - log sum_j p_j) removes the float32 sum
// error, leaving ~1e-7 absolute error per entry versus logit_i - logsumexp.
function logProbOf(probMap, token, nVocab) {
    if (probMap.size !== nVocab)
        throw new Error(`probability list is truncated: ${probMap.size} entries, n_vocab = ${nVocab}`);
    let sum = 0;
    for (const p of probMap.values()) sum += p;
    const p = probMap.get(token);
    if (p === undefined) throw new Error(`token ${token} missing from probability list`);
    return { logp: Math.log(p) - Math.log(sum), logpRaw: Math.log(p), sum };
}

// ---------------------------------------------------------------------------
// subcommands

async function cmdTokenize(llama, cfg) {
    const model = await loadModel(llama, cfg, { vocabOnly: true });
    const tokens = tokenizeText(model, cfg.text, { addSpecial: !cfg.noBos, parseSpecial: cfg.special });
    return { tokens };
}

async function promptTokens(model, cfg) {
    if (cfg.tokens) return cfg.tokens;
    return tokenizeText(model, cfg.prompt, { addSpecial: true, parseSpecial: cfg.special });
}

async function cmdGreedy(llama, cfg) {
    const model = await loadModel(llama, cfg);
    const nVocab = vocabSize(model);
    const prompt = await promptTokens(model, cfg);
    checkTokenIds(prompt, nVocab);
    const out = {};
    if (cfg.prompt !== undefined) out.prompt_tokens = prompt;
    out.tokens = [];
    if (cfg.n === 0) return out;

    const needed = prompt.length + cfg.n;
    const contextSize = cfg.ctx ?? needed;
    if (contextSize < needed)
        throw new UsageError(`--ctx ${contextSize} is too small for ${prompt.length} prompt + ${cfg.n} generated tokens`);
    const ctx = await createContext(llama, model, cfg, {
        contextSize,
        batchSize: cfg.batch ?? Math.min(512, Math.max(prompt.length, 1))
    });
    const seq = ctx.getSequence();
    const gen = { generateNext: { token: true } }; // temperature 0 => llama.cpp greedy sampler (argmax)

    const input = prompt.map((t, i) => (i === prompt.length - 1 ? [t, gen] : t));
    let res = await seq.controlledEvaluate(input);
    let tok = res[prompt.length - 1]?.next?.token;
    const eog = (t) => model.isEogToken(t);
    for (let i = 0; ; i++) {
        if (tok == null || tok < 0) throw new Error("llama.cpp produced no token");
        out.tokens.push(tok);
        if (out.tokens.length >= cfg.n || (cfg.stopAtEog && eog(tok))) break;
        res = await seq.controlledEvaluate([[tok, gen]]);
        tok = res[0]?.next?.token;
    }
    if (seq.nextTokenIndex !== prompt.length + out.tokens.length - 1)
        throw new Error(`unexpected sequence length ${seq.nextTokenIndex} (context shift?)`);
    return out;
}

async function cmdLogits(llama, cfg) {
    const model = await loadModel(llama, cfg);
    const nVocab = vocabSize(model);
    const prompt = await promptTokens(model, cfg);
    checkTokenIds(prompt, nVocab);
    const contextSize = cfg.ctx ?? prompt.length;
    if (contextSize < prompt.length) throw new UsageError(`--ctx ${contextSize} is smaller than the prompt (${prompt.length})`);
    const ctx = await createContext(llama, model, cfg, {
        contextSize,
        batchSize: cfg.batch ?? Math.min(512, prompt.length)
    });
    const seq = ctx.getSequence();
    const input = prompt.map((t, i) => (i === prompt.length - 1 ? [t, { generateNext: { probabilities: true } }] : t));
    const res = await seq.controlledEvaluate(input);
    const probs = res[prompt.length - 1]?.next?.probabilities;
    if (probs == null || probs.size !== nVocab)
        throw new Error(`expected ${nVocab} probabilities, got ${probs?.size}`);
    let sum = 0;
    for (const p of probs.values()) sum += p;
    const logSum = Math.log(sum);
    const lp = new Array(nVocab);
    let nUnderflow = 0;
    for (const [t, p] of probs) {
        if (p > 0) lp[t] = Math.log(p) - logSum;
        else { lp[t] = null; nUnderflow++; }
    }
    const out = { n_vocab: nVocab };
    if (cfg.prompt !== undefined) out.prompt_tokens = prompt;
    if (nUnderflow > 0) out.n_underflow = nUnderflow;
    out.last_logprobs = lp;
    return out;
}

async function cmdPerplexity(llama, cfg) {
    const model = await loadModel(llama, cfg);
    const nVocab = vocabSize(model);
    if (model.tokens.shouldAppendEosToken)
        throw new Error("vocab adds EOS; llama-perplexity asserts !add_eos");

    // llama.cpp's -f reads the file and drops ONE trailing '\n'
    let text = fs.readFileSync(cfg.file, "utf8");
    if (text.endsWith("\n")) text = text.slice(0, -1);
    const tokens = tokenizeText(model, text, { addSpecial: true, parseSpecial: false });
    const nCtx = cfg.ctx;
    if (tokens.length < 2 * nCtx)
        throw new UsageError(`need at least ${2 * nCtx} tokens for --ctx ${nCtx}, the file tokenizes to ${tokens.length}`);
    const nChunkMax = Math.floor(tokens.length / nCtx);
    const nChunk = cfg.chunks < 0 ? nChunkMax : Math.min(cfg.chunks, nChunkMax);
    const first = Math.floor(nCtx / 2);
    const addBos = model.tokens.shouldPrependBosToken;
    const bos = model.tokens.bos;

    // One spare cell: node-llama-cpp shifts a context that is exactly full, which would drop the chunk's last
    // position; the extra cell changes no result (each chunk starts from an empty cache).
    const ctx = await createContext(llama, model, cfg, { contextSize: nCtx + 1, batchSize: Math.min(cfg.batch, nCtx) });
    const seq = ctx.getSequence();

    let nll = 0, nll2 = 0, count = 0, nllRaw = 0;
    const perChunkPpl = [];
    const verify = cfg.verify ? { max_abs_nll_diff: 0, nll_sum_tokenwise: 0, max_abs_prob_sum_err: 0, nll_sum_float32_norm: 0 } : null;

    const t0 = performance.now();
    for (let i = 0; i < nChunk; i++) {
        const start = i * nCtx;
        const chunk = tokens.slice(start, start + nCtx);
        if (addBos) chunk[0] = bos; // first token of every chunk replaced by BOS

        // positions first .. nCtx-2 predict tokens first+1 .. nCtx-1
        const chunkNll = new Float64Array(nCtx).fill(NaN);
        const want = { generateNext: { probabilities: true } };
        let cbError = null, nResults = 0;
        await seq.clearHistory(); // fresh KV cache for every chunk
        await seq.controlledEvaluate(
            chunk.map((t, k) => (k >= first && k < nCtx - 1 ? [t, want] : t)),
            {
                // node-llama-cpp swallows exceptions thrown here, so record them
                onTokenResult(k, result) {
                    try {
                        const { logp, logpRaw, sum } = logProbOf(result.next.probabilities, chunk[k + 1], nVocab);
                        chunkNll[k] = -logp;
                        nllRaw += -logpRaw;
                        nResults++;
                        if (verify) verify.max_abs_prob_sum_err = Math.max(verify.max_abs_prob_sum_err, Math.abs(sum - 1));
                        result.next.probabilities = undefined; // free the big map early
                    } catch (e) {
                        cbError ??= e;
                    }
                }
            }
        );
        if (cbError) throw cbError;
        if (nResults !== nCtx - 1 - first || seq.nextTokenIndex !== nCtx)
            throw new Error(`chunk ${i}: expected ${nCtx - 1 - first} scored positions, got ${nResults} (sequence length ${seq.nextTokenIndex})`);
        for (let k = first; k < nCtx - 1; k++) {
            nll += chunkNll[k];
            nll2 += chunkNll[k] * chunkNll[k];
            count++;
        }
        perChunkPpl.push(Math.exp(nll / count));

        if (verify) {
            // independent path: same chunk evaluated one token per decode
            await seq.clearHistory();
            for (let k = 0; k < nCtx - 1; k++) {
                const item = k >= first ? [chunk[k], want] : chunk[k];
                const [r] = await seq.controlledEvaluate([item]);
                if (k >= first) {
                    const { logp } = logProbOf(r.next.probabilities, chunk[k + 1], nVocab);
                    verify.nll_sum_tokenwise += -logp;
                    verify.max_abs_nll_diff = Math.max(verify.max_abs_nll_diff, Math.abs(-logp - chunkNll[k]));
                }
            }
        }
        if (cfg.verbose)
            process.stderr.write(`[oracle] chunk ${i + 1}/${nChunk}: running ppl ${perChunkPpl.at(-1).toFixed(4)} ` +
                `(${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }

    const avg = nll / count;
    let sd = nll2 / count - avg * avg;
    sd = sd > 0 ? Math.sqrt(sd / (count - 1)) : NaN;
    const ppl = Math.exp(avg);
    const out = {
        ppl,
        ppl_stderr: ppl * sd, // llama-perplexity's "+/-"
        n_tokens: tokens.length,
        n_chunks: nChunk,
        n_ctx: nCtx,
        n_scored: count,
        nll_sum: nll,
        chunk_ppl: perChunkPpl // running values, like llama-perplexity's [i]ppl printout
    };
    if (verify) {
        verify.ppl_tokenwise = Math.exp(verify.nll_sum_tokenwise / count);
        verify.ppl_float32_norm = Math.exp(nllRaw / count); // without float64 renormalisation
        verify.rel_diff_tokenwise = Math.abs(verify.ppl_tokenwise - ppl) / ppl;
        delete verify.nll_sum_float32_norm;
        out.verify = verify;
    }
    return out;
}

// which ggml CPU variant (libggml-cpu-<variant>.so) ggml's backend loader picked
function loadedCpuBackend() {
    try {
        const maps = fs.readFileSync("/proc/self/maps", "utf8");
        const libs = new Set([...maps.matchAll(/libggml-cpu-?([\w.-]*)\.so/g)].map((m) => m[1] || "cpu"));
        return [...libs].join(",") || null;
    } catch {
        return null;
    }
}

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function cmdBench(llama, cfg) {
    const model = await loadModel(llama, cfg);
    const nVocab = vocabSize(model);
    const addBos = model.tokens.shouldPrependBosToken;
    const bos = model.tokens.bos;
    const ctx = await createContext(llama, model, cfg, {
        contextSize: Math.max(cfg.p + cfg.n, 1),
        batchSize: Math.max(1, Math.min(cfg.batch, Math.max(cfg.p, 1)))
    });
    const seq = ctx.getSequence();
    let rng = 12345;
    const rand = () => ((rng = (Math.imul(rng, 1103515245) + 12345) >>> 0) >>> 8) % nVocab;
    const gen = { generateNext: { token: true } };

    // like llama-bench: prompt of random tokens (BOS first), logits for the last one
    async function runPrompt(n) {
        const toks = Array.from({ length: n }, (_, i) => (i === 0 && addBos ? bos : rand()));
        await seq.controlledEvaluate(toks.map((t, i) => (i === n - 1 ? [t, gen] : t)));
    }
    // like llama-bench: n single-token decodes starting from an empty cache
    async function runGen(n) {
        let t = addBos ? bos : rand();
        for (let i = 0; i < n; i++) {
            await seq.controlledEvaluate([[t, gen]]);
            t = rand();
        }
    }

    // warmup (llama-bench: one full prompt run and a 1-token generation run)
    if (cfg.p > 0) { await seq.clearHistory(); await runPrompt(cfg.p); }
    if (cfg.n > 0) { await seq.clearHistory(); await runGen(1); }

    const ppTimes = [], tgTimes = [];
    for (let r = 0; r < cfg.reps; r++) {
        if (cfg.p > 0) {
            await seq.clearHistory();
            const t0 = process.hrtime.bigint();
            await runPrompt(cfg.p);
            ppTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
        }
        if (cfg.n > 0) {
            await seq.clearHistory();
            const t0 = process.hrtime.bigint();
            await runGen(cfg.n);
            tgTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
        }
    }
    const summary = (n, ts) => ({
        n,
        tokens_per_s: n / median(ts),
        median_s: median(ts),
        samples_s: ts
    });
    const out = {};
    if (cfg.p > 0) out.pp = summary(cfg.p, ppTimes);
    if (cfg.n > 0) out.tg = summary(cfg.n, tgTimes);
    out.config = {
        threads: threadsOf(llama, cfg),
        reps: cfg.reps,
        batch: Math.min(cfg.batch, Math.max(cfg.p, 1)),
        kv_type: cfg.kvType.toLowerCase(),
        flash_attn: cfg.flashAttn === "auto" ? "auto" : cfg.flashAttn ? "on" : "off",
        flash_attn_log: captured.faLines,
        kv_cache_log: kvSummary(),
        cpu_backend: loadedCpuBackend(),
        system_info: llama.systemInfo,
        llama_cpp: llama.llamaCppRelease.release
    };
    return out;
}

// ---------------------------------------------------------------------------

async function main() {
    let cfg;
    try {
        const { command, opts } = parseArgs(process.argv.slice(2));
        cfg = validate(command, opts);
    } catch (e) {
        if (e instanceof UsageError) die(e.message, 2);
        throw e;
    }
    const llama = await loadLlama(cfg);
    let result;
    try {
        switch (cfg.command) {
            case "tokenize": result = await cmdTokenize(llama, cfg); break;
            case "greedy": result = await cmdGreedy(llama, cfg); break;
            case "logits": result = await cmdLogits(llama, cfg); break;
            case "perplexity": result = await cmdPerplexity(llama, cfg); break;
            case "bench": result = await cmdBench(llama, cfg); break;
        }
    } catch (e) {
        if (e instanceof UsageError) die(e.message, 2);
        throw e;
    }
    const json = JSON.stringify(result) + "\n";
    await new Promise((resolve) => writeStdout(json, resolve));
    // node-llama-cpp keeps native handles alive; exit explicitly once stdout is flushed
    process.exit(0);
}

main().catch((e) => {
    process.stderr.write(`llamacpp.mjs: error: ${e?.stack ?? e}\n`);
    process.exit(1);
});
