// Greedy continuation + full next-token probabilities from llama.cpp (via node-llama-cpp 3.21.1).
//
// usage: node tools/ref/llamacpp_greedy.mjs MODEL.gguf 286,72,101 N [--force 1,2,3]
//   env NLC_DIR: folder whose node_modules holds node-llama-cpp (default /tmp/nlc)
// Prints JSON: {greedy_tokens, probs: [[p_0..p_{V-1}] per step]}.
// Step 0's distribution is at the last prompt token; step i>0 after feeding token i-1
// (llama.cpp's own greedy choice, or the --force list when given: teacher forcing).
// CPU only, flash attention off, F32 KV cache: tight comparisons.
import path from "node:path";
import {pathToFileURL} from "node:url";

const nlcDir = process.env.NLC_DIR ?? "/tmp/nlc";
const {getLlama, LlamaLogLevel} = await import(
    pathToFileURL(path.join(nlcDir, "node_modules/node-llama-cpp/dist/index.js")).href);

const args = process.argv.slice(2);
const modelPath = args[0];
const prompt = args[1].split(",").filter((s) => s !== "").map(Number);
const n = Number(args[2] ?? 16);
const fi = args.indexOf("--force");
const force = fi >= 0 ? args[fi + 1].split(",").map(Number) : null;

const llama = await getLlama({build: "never", gpu: false, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({
    contextSize: 512,
    batchSize: 512,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
    threads: 1,
});
const seq = context.getSequence();

function dense(map) {
    let maxId = 0;
    for (const k of map.keys()) maxId = Math.max(maxId, k);
    const out = new Array(maxId + 1).fill(0);
    for (const [k, v] of map) out[k] = v;
    return out;
}

const greedy = [];
const probs = [];
let input = prompt.slice(0, -1);
input.push([prompt[prompt.length - 1], {generateNext: {probabilities: true}}]);
for (let step = 0; step < n; step++) {
    const res = await seq.controlledEvaluate(input);
    const out = res[input.length - 1];
    const p = out.next.probabilities;
    const first = p.entries().next().value;       // sorted: highest first
    greedy.push(first[0]);
    probs.push(dense(p));
    const nextTok = force ? force[step] : first[0];
    input = [[nextTok, {generateNext: {probabilities: true}}]];
}
process.stdout.write(JSON.stringify({greedy_tokens: greedy, probs}) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
