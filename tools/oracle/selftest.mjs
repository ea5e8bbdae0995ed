#!/usr/bin/env node
// Self-test of the oracle against the tiny random llama GGUF.
// Expected values were cross-checked against llama.cpp's own tools built from the
// same v0.4.0 source and linked to the same prebuilt libraries (see README.md).
//
//   node tools/oracle/selftest.mjs [MODEL.gguf] [TEXT]
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, "llamacpp.mjs");
const model = process.argv[2] ?? "/work/shared/data/models/llama-2-tiny-random/llama-2-tiny-random.gguf";
const text = process.argv[3] ?? "/work/shared/data/corpora/devils-dictionary.dict.txt";

let failures = 0;
function run(args) {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
    return { rc: r.status, out: r.stdout, err: r.stderr };
}
function json(args) {
    const r = run(args);
    if (r.rc !== 0) throw new Error(`exit ${r.rc}: ${r.err}`);
    return JSON.parse(r.out);
}
function check(name, ok, detail = "") {
    console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? "  " + detail : ""}`);
    if (!ok) failures++;
}
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

const M = ["--model", model];
const T = ["--threads", "2"];

check("tokenize", eq(json(["tokenize", ...M, "--text", "Hello world"]).tokens, [1, 15043, 3186]));
check("tokenize --special", eq(json(["tokenize", ...M, "--text", "<s>Hello</s> world", "--special"]).tokens,
    [1, 1, 15043, 2, 29871, 3186]));

const g = json(["greedy", ...M, "--tokens", "0,15,27", "-n", "32", ...T]).tokens;
check("greedy", eq(g, [889, 29182, 9645, 20945, 16138, 2451, 19209, 19982, 16038, 2611, 30211, 24077, 18579,
    28435, 21432, 22856, 21748, 29280, 3852, 26270, 16404, 9069, 21352, 25997, 9645, 20945, 16138, 2451, 19209,
    19982, 8317, 15492]), JSON.stringify(g.slice(0, 6)));

const gp = json(["greedy", ...M, "--prompt", "The Devil's Dictionary, by Ambrose Bierce", "-n", "4", ...T]);
check("greedy --prompt", eq(gp.prompt_tokens.slice(0, 3), [1, 450, 9481]) && eq(gp.tokens, [7035, 16138, 2451, 19209]));

const l = json(["logits", ...M, "--tokens", "0,15,27", ...T]).last_logprobs;
const lse = Math.log(l.reduce((s, v) => s + Math.exp(v), 0));
const argmax = l.indexOf(Math.max(...l));
check("logits", l.length === 32000 && argmax === 889 && Math.abs(lse) < 1e-9, `argmax=${argmax} logsumexp=${lse}`);

// llama-perplexity -c 128 --chunks 4 -ctk f32 -ctv f32 -fa off: [1]32348.8858 ... PPL = 32125.6810 +/- 110.65140
const p = json(["perplexity", ...M, "--file", text, "--ctx", "128", "--chunks", "4", ...T]);
check("perplexity", Math.abs(p.ppl - 32125.6810) < 1e-3 && p.n_tokens === 108951 && p.n_chunks === 4 &&
    p.n_scored === 252 && Math.abs(p.ppl_stderr - 110.65140) < 1e-4, `ppl=${p.ppl}`);

const pv = json(["perplexity", ...M, "--file", text, "--ctx", "64", "--chunks", "1", "--verify", ...T]);
check("perplexity --verify (batch vs token-by-token)", pv.verify.rel_diff_tokenwise < 1e-5 &&
    pv.verify.max_abs_nll_diff < 1e-4, JSON.stringify(pv.verify));

const b = json(["bench", ...M, "-p", "64", "-n", "8", "-r", "1", ...T]);
check("bench", b.pp.n === 64 && b.pp.tokens_per_s > 0 && b.tg.n === 8 && b.tg.tokens_per_s > 0);

check("bad args -> exit 2", run(["greedy", ...M, "--tokens", "1,x", "-n", "2"]).rc === 2 &&
    run(["nosuchcommand"]).rc === 2 && run(["perplexity", ...M, "--file", text]).rc === 2);

console.log(failures === 0 ? "all ok" : `${failures} failure(s)`);
process.exit(failures === 0 ? 0 : 1);
