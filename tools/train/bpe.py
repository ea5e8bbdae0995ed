#!/usr/bin/env python3
"""Byte-level BPE tokenizer for seek-tiny-v3.

Pre-tokenisation is exactly DeepSeek-V3's tokenizer.json pre_tokenizer (= llama.cpp pre "deepseek-v3"):
  Split(\\p{N}{1,3}, Isolated) -> Split(CJK/kana runs, Isolated) -> Split(main regex, Isolated) -> ByteLevel
  (GPT-2 byte-to-unicode mapping, no prefix space).
Training uses only the training split (common.load_splits). Output: JSON with tokens, types, merges, ids.

  python3 tools/train/bpe.py [--data ../shared/data] [--vocab 4000] [--out tools/train/out/tokenizer.json]
"""
import argparse
import heapq
import json
import os
import sys
from collections import Counter

import regex

import common

PRE_PATTERNS = [
    r"\p{N}{1,3}",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
]
PRE_RE = [regex.compile(p) for p in PRE_PATTERNS]

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
PAD = "<｜▁pad▁｜>"
TAIL_SPECIALS = ["<｜User｜>", "<｜Assistant｜>", "<think>", "</think>"]

TYPE_NORMAL, TYPE_CONTROL = 1, 3


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def _split_isolated(pieces, pat):
    out = []
    for p in pieces:
        pos = 0
        for m in pat.finditer(p):
            if m.start() > pos:
                out.append(p[pos:m.start()])
            if m.end() > m.start():
                out.append(m.group())
            pos = m.end()
        if pos < len(p):
            out.append(p[pos:])
    return out


def pretokenize(text):
    """Returns the list of pre-tokens (byte-level unicode strings)."""
    pieces = [text]
    for pat in PRE_RE:
        pieces = _split_isolated(pieces, pat)
    return ["".join(B2U[b] for b in p.encode("utf-8")) for p in pieces]


def train_bpe(word_counts, n_merges, log=None):
    words = list(word_counts.keys())
    counts = [word_counts[w] for w in words]
    syms = [list(w) for w in words]
    pair_counts = Counter()
    where = {}
    for i, s in enumerate(syms):
        c = counts[i]
        for a, b in zip(s, s[1:]):
            pair_counts[(a, b)] += c
            where.setdefault((a, b), set()).add(i)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        cur = pair_counts.get(pair, 0)
        if cur <= 0:
            continue
        if -negc != cur:
            heapq.heappush(heap, (-cur, pair))
            continue
        merges.append(pair)
        a, b = pair
        new = a + b
        changed = set()
        for i in list(where.get(pair, ())):
            s = syms[i]
            c = counts[i]
            # remove old pairs
            for x, y in zip(s, s[1:]):
                pair_counts[(x, y)] -= c
            j, out = 0, []
            while j < len(s):
                if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            syms[i] = out
            for x, y in zip(out, out[1:]):
                pair_counts[(x, y)] += c
                where.setdefault((x, y), set()).add(i)
                changed.add((x, y))
        pair_counts.pop(pair, None)
        where.pop(pair, None)
        for p in changed:
            if pair_counts.get(p, 0) > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
        if log and len(merges) % 500 == 0:
            log(f"  {len(merges)} merges, last {new!r} x{cur}")
    return merges


class Tokenizer:
    def __init__(self, path_or_dict):
        if isinstance(path_or_dict, dict):
            d = path_or_dict
        else:
            with open(path_or_dict, "r", encoding="utf-8") as f:
                d = json.load(f)
        self.tokens = d["tokens"]
        self.types = d["token_types"]
        self.merges = [tuple(m.split(" ")) for m in d["merges"]]
        self.bos_id, self.eos_id, self.pad_id = d["bos_id"], d["eos_id"], d["pad_id"]
        self.tok2id = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self.specials = {t: i for i, t in enumerate(self.tokens) if self.types[i] == TYPE_CONTROL}
        self._cache = {}
        self._special_re = regex.compile("|".join(regex.escape(s) for s in sorted(self.specials, key=len, reverse=True)))

    def _bpe(self, word):
        r = self._cache.get(word)
        if r is not None:
            return r
        s = list(word)
        ranks = self.ranks
        while len(s) > 1:
            best, bi = None, -1
            for i in range(len(s) - 1):
                rk = ranks.get((s[i], s[i + 1]))
                if rk is not None and (best is None or rk < best):
                    best, bi = rk, i
            if best is None:
                break
            a, b = s[bi], s[bi + 1]
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            s = out
        r = [self.tok2id[t] for t in s]
        self._cache[word] = r
        return r

    def encode(self, text, add_bos=False, parse_special=True):
        ids = [self.bos_id] if add_bos else []
        segments = [(False, text)]
        if parse_special and self.specials:
            segments, pos = [], 0
            for m in self._special_re.finditer(text):
                if m.start() > pos:
                    segments.append((False, text[pos:m.start()]))
                segments.append((True, m.group()))
                pos = m.end()
            if pos < len(text):
                segments.append((False, text[pos:]))
        for is_sp, seg in segments:
            if is_sp:
                ids.append(self.specials[seg])
            else:
                for w in pretokenize(seg):
                    ids.extend(self._bpe(w))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            if self.types[i] == TYPE_CONTROL:
                continue
            out.extend(U2B[c] for c in self.tokens[i])
        return out.decode("utf-8", errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--vocab", type=int, default=4000, help="total vocabulary size incl. specials")
    ap.add_argument("--out", default=os.path.join(common.DEFAULT_OUT, "tokenizer.json"))
    a = ap.parse_args()
    data = common.data_dir(a.data)
    train, _ = common.load_splits(data)
    wc = Counter()
    for _, t in train:
        wc.update(pretokenize(t))
    print(f"{len(wc)} distinct pre-tokens", file=sys.stderr)
    head = [BOS, EOS, PAD]
    byte_toks = [B2U[b] for b in range(256)]
    n_merges = a.vocab - len(head) - 256 - len(TAIL_SPECIALS)
    merges = train_bpe(wc, n_merges, log=lambda s: print(s, file=sys.stderr))
    tokens = head + byte_toks + [x + y for x, y in merges] + TAIL_SPECIALS
    assert len(set(tokens)) == len(tokens), "duplicate token"
    types = [TYPE_CONTROL] * 3 + [TYPE_NORMAL] * (256 + len(merges)) + [TYPE_CONTROL] * len(TAIL_SPECIALS)
    d = {
        "pre_tokenizer": "deepseek-v3",
        "pre_patterns": PRE_PATTERNS,
        "tokens": tokens,
        "token_types": types,
        "merges": [f"{x} {y}" for x, y in merges],
        "bos_id": 0, "eos_id": 1, "pad_id": 2,
        "user_id": tokens.index(TAIL_SPECIALS[0]), "assistant_id": tokens.index(TAIL_SPECIALS[1]),
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(d, f, ensure_ascii=False)
    os.replace(tmp, a.out)
    print(f"wrote {a.out}: {len(tokens)} tokens, {len(merges)} merges", file=sys.stderr)


if __name__ == "__main__":
    main()
