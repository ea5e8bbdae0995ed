#!/usr/bin/env bash
# seek against llama.cpp on the same GGUF, same threads, same run: prompt processing and generation tokens/s,
# their ratios, and decode GB/s as a fraction of this machine's measured memory bandwidth.
#
#   bench/compare_llamacpp.sh [MODEL.gguf] [THREADS] [PP] [TG] [REPS]
#
# Defaults: a generated V3-shaped model (seek gen-model v3-bench, 2.1B parameters, Q8_0), 2 threads, pp 512,
# tg 128, 3 repetitions. Needs build/ (scripts/build.sh) and tools/oracle/node_modules (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-}
threads=${2:-2}; pp=${3:-512}; tg=${4:-128}; reps=${5:-3}
if [ -z "$model" ]; then
  model=${TMPDIR:-/tmp}/seek-v3-bench.gguf
  [ -f "$model" ] || SEEK_QUIET=1 build/seek gen-model v3-bench "$model"
fi
# This machine's bandwidth can change between runs (a VM on a shared host), so it is measured right before and
# right after seek's run and decode is compared with both.
membw() {
  build/membw_bench --benchmark_filter="read_bandwidth/$threads/" --benchmark_format=json 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["benchmarks"][0]["bytes_per_second"]/1e9)'
}
bw_before=$(membw)
seek=$(build/seek bench -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" --json)
bw_after=$(membw)
bw="$bw_before $bw_after"
llama=$(node tools/oracle/llamacpp.mjs bench --model "$model" -p "$pp" -n "$tg" --threads "$threads" -r "$reps" 2>/dev/null)
/usr/bin/python3 - "$seek" "$llama" "$bw" "$model" <<'PY'
import json, sys
s, l, model = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[4]
bws = [float(x) for x in sys.argv[3].split()]
print(f"model {model}: {s['weight_bytes']/1e9:.2f} GB of weights, {s['active_bytes_per_token']/1e6:.1f} MB read per decoded token")
print(f"threads {s['threads']}, medians of {s['repetitions']}; memory read bandwidth {bws[0]:.1f} GB/s before seek's "
      f"run, {bws[1]:.1f} GB/s after")
print(f"{'':10}{'seek':>12}{'llama.cpp':>12}{'ratio':>8}")
for k in ("pp", "tg"):
    a, b = s[k]["tokens_per_s"], l[k]["tokens_per_s"]
    print(f"{k} {s[k]['n']:<7}{a:12.1f}{b:12.1f}{a / b:8.2f}x")
g = s['tg']['gb_per_s']
print(f"decode reads {g:.1f} GB/s of weights = {100 * g / bws[0]:.0f}% / {100 * g / bws[1]:.0f}% of the bandwidth "
      f"measured before / after")
PY
