#!/usr/bin/env python3
"""Writes the deterministic train/held-out split (last 5% of each corpus file = held-out) to --out."""
import argparse, os
import common

ap = argparse.ArgumentParser()
ap.add_argument("--data", default=None, help="shared data dir (default ../shared/data from repo root)")
ap.add_argument("--out", default=common.DEFAULT_OUT)
a = ap.parse_args()
data = common.data_dir(a.data)
os.makedirs(a.out, exist_ok=True)
train, held = common.load_splits(data)
for (n, t), (_, h) in zip(train, held):
    print(f"{n}: train {len(t)} chars, held-out {len(h)} chars")
with open(os.path.join(a.out, "heldout.txt"), "w", encoding="utf-8") as f:
    f.write(common.heldout_text(data))
print("wrote", os.path.join(a.out, "heldout.txt"))
