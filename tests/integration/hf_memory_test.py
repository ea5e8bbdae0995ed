"""Memory of a Hugging Face FP8 folder run directly: the shards are mapped, not converted or copied.

A DeepSeek-V3-shaped FP8 folder of ~215 MiB (hidden 1024, 32 experts, 4 layers + the MTP layer; written by
tools/hf/make_hf_model.py) is run on a prompt long enough that every routed expert is chosen at least once, so
every weight of the main model is read. Checks, from `seek run --json`'s memory report (/proc/self/status):
  1. after load, resident memory is below a quarter of the folder's tensor bytes: nothing was dequantised or
     copied up front (only norms, block scales and the tokenizer are read at load);
  2. at the end, the peak resident memory is within 10% of the tensor bytes the model holds (FP8 weights read
     as stored, plus the process's own few MiB, the KV cache and the activations): a compute path that widened
     FP8 to BF16 in memory would need about twice as much;
  3. every weight was touched: the end figure exceeds the main model's weight bytes (so check 2 measured
     something).
"""
import os
import sys

import harness

SETTINGS = ["hidden_size=1024", "moe_intermediate_size=512", "intermediate_size=2048", "n_routed_experts=32",
            "n_group=8", "topk_group=4", "num_experts_per_tok=4", "num_hidden_layers=4"]


def main():
    folder = os.path.join(harness.tmpdir(), "v3-fp8-mem")
    gen = [sys.executable, os.path.join(harness.REPO, "tools", "hf", "make_hf_model.py"), "v3-fp8", folder]
    for s in SETTINGS:
        gen += ["--set", s]
    harness.run(gen)
    tensor_bytes = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                       if f.endswith(".safetensors"))

    # 200 tokens from the whole vocabulary: with 4 of 32 experts per token every expert is chosen.
    ids = harness.prompt_ids(7, 200, 340)
    out = harness.seek_run_tokens(folder, ids, 8)
    mem = out["memory"]
    c = harness.Checks()
    mib = 1 << 20
    c.check(mem["rss_after_load_bytes"] < tensor_bytes / 4, "after load: shards mapped, nothing converted",
            f"(resident {mem['rss_after_load_bytes'] / mib:.1f} MiB, folder {tensor_bytes / mib:.1f} MiB)")
    c.check(mem["rss_peak_bytes"] <= 1.10 * tensor_bytes, "peak resident within 10% of the model's tensor bytes",
            f"(peak {mem['rss_peak_bytes'] / mib:.1f} MiB = {mem['rss_peak_bytes'] / tensor_bytes:.3f} x "
            f"{tensor_bytes / mib:.1f} MiB)")
    c.check(mem["rss_end_bytes"] >= mem["weight_bytes"], "every main-model weight was read",
            f"(resident {mem['rss_end_bytes'] / mib:.1f} MiB, main-model weights {mem['weight_bytes'] / mib:.1f} MiB)")
    c.finish()


if __name__ == "__main__":
    main()
