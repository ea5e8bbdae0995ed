// Generates src/tokenizer/unicode_tables.cpp: the Unicode facts seek's tokenizer needs, taken from this Node's ICU
// so that seek agrees with the JavaScript oracle (transformers.js regexes and String.prototype.normalize).
//
//   node tools/tokenizer/gen_unicode_tables.mjs > src/tokenizer/unicode_tables.cpp
//
// Tables written:
//   kFlagRuns      runs of code points sharing category flags (L, N, M, P, S, JS \s, "needs NFC work")
//   kCccRuns       canonical combining class *ranks* of non-starters (order-preserving; the real CCC values are not
//                  exposed by JS, and NFC only compares them and tests them against zero)
//   kDecomp*       full canonical decompositions (Hangul syllables excluded: they are algorithmic)
//   kCompose       primary composites: (first, second) -> composite (Hangul excluded)

const MAX = 0x110000;
const isSurrogate = (cp) => cp >= 0xd800 && cp <= 0xdfff;
const str = (...cps) => String.fromCodePoint(...cps);
const cpsOf = (s) => Array.from(s, (c) => c.codePointAt(0));
const isHangulSyllable = (cp) => cp >= 0xac00 && cp < 0xac00 + 11172;

const kL = 1, kN = 2, kM = 4, kP = 8, kS = 16, kWS = 32, kNfc = 64;
const reL = /\p{L}/u, reN = /\p{N}/u, reM = /\p{M}/u, reP = /\p{P}/u, reS = /\p{S}/u, reWS = /\s/u;

// --- canonical combining class ranks -------------------------------------------------------------------------
// A non-decomposable non-starter m reorders before U+0345 (ccc 240, the largest class but one used by a single
// character): NFD(U+0345 m) == m U+0345 exactly when 0 < ccc(m) < 240.
const nonStarters = [0x0345];
for (let cp = 0; cp < MAX; cp++) {
  if (isSurrogate(cp) || cp === 0x0345) continue;
  const c = str(cp);
  if (c.normalize('NFD') !== c) continue;
  const s = str(0x0345, cp);
  if (s.normalize('NFD') !== s) nonStarters.push(cp);
}
// ccc(a) > ccc(b) (both non-zero) exactly when NFD(a b) == b a.
const cmp = (a, b) => {
  if (str(a, b).normalize('NFD') === str(b, a)) return 1;
  if (str(b, a).normalize('NFD') === str(a, b)) return -1;
  return 0;
};
nonStarters.sort((a, b) => cmp(a, b) || a - b);
const cccRank = new Map();
let rank = 1;
for (let i = 0; i < nonStarters.length; i++) {
  if (i > 0 && cmp(nonStarters[i - 1], nonStarters[i]) !== 0) rank++;
  cccRank.set(nonStarters[i], rank);
}
if (rank > 255) throw new Error(`too many combining classes: ${rank}`);

// --- decompositions and compositions -------------------------------------------------------------------------
const decomp = new Map();     // cp -> full canonical decomposition (array), only where it differs from cp
const compose = [];           // [first, second, composite]
const secondOfPair = new Set();
for (let cp = 0; cp < MAX; cp++) {
  if (isSurrogate(cp) || isHangulSyllable(cp)) continue;
  const c = str(cp);
  const d = c.normalize('NFD');
  if (d === c) continue;
  const dc = cpsOf(d);
  decomp.set(cp, dc);
  if (c.normalize('NFC') !== c || dc.length < 2) continue;  // excluded from composition, or a singleton
  const first = cpsOf(str(...dc.slice(0, -1)).normalize('NFC'));
  const second = dc[dc.length - 1];
  if (first.length !== 1) throw new Error(`U+${cp.toString(16)}: first part of the pair is not one code point`);
  if (str(first[0], second).normalize('NFC') !== c) throw new Error(`U+${cp.toString(16)}: pair does not compose`);
  compose.push([first[0], second, cp]);
  secondOfPair.add(second);
}
compose.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

// --- flags ---------------------------------------------------------------------------------------------------
const flagsOf = (cp) => {
  if (isSurrogate(cp)) return 0;
  const c = str(cp);
  let f = 0;
  if (reL.test(c)) f |= kL;
  if (reN.test(c)) f |= kN;
  if (reM.test(c)) f |= kM;
  if (reP.test(c)) f |= kP;
  if (reS.test(c)) f |= kS;
  if (reWS.test(c)) f |= kWS;
  // Text made only of characters without this flag is already in NFC.
  const hangulVT = (cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11a8 && cp <= 0x11c2);
  if (cccRank.has(cp) || c.normalize('NFC') !== c || secondOfPair.has(cp) || hangulVT) f |= kNfc;
  return f;
};
const flagRuns = [];
let prev = -1;
for (let cp = 0; cp < MAX; cp++) {
  const f = flagsOf(cp);
  if (f !== prev) { flagRuns.push([cp, f]); prev = f; }
}
const cccRuns = [];
{
  let p = 0;
  for (let cp = 0; cp < MAX; cp++) {
    const r = cccRank.get(cp) ?? 0;
    if (r !== p) { cccRuns.push([cp, r]); p = r; }
  }
}

// --- output --------------------------------------------------------------------------------------------------
const hex = (n) => '0x' + n.toString(16).toUpperCase();
const rows = (items, perLine) => {
  const out = [];
  for (let i = 0; i < items.length; i += perLine) out.push('    ' + items.slice(i, i + perLine).join(', ') + ',');
  return out.join('\n');
};
const decompEntries = [...decomp.entries()].sort((a, b) => a[0] - b[0]);
const pool = [];
const decompIndex = decompEntries.map(([cp, d]) => {
  const off = pool.length;
  pool.push(...d);
  return `{${hex(cp)}, ${off}, ${d.length}}`;
});

console.log(`// GENERATED by tools/tokenizer/gen_unicode_tables.mjs from Node ${process.versions.node} (ICU ${process.versions.icu}, Unicode ${process.versions.unicode}). Do not edit.
// Category flags as JavaScript's /\\p{..}/u and /\\s/u see them, and NFC data as String.prototype.normalize applies it.
#include "tokenizer/unicode_tables.h"

namespace seek::unicode_tables {

const char* const kUnicodeVersion = "${process.versions.unicode}";

// {first code point of the run, flags}; a run lasts until the next entry's first code point.
const FlagRun kFlagRuns[] = {
${rows(flagRuns.map(([cp, f]) => `{${hex(cp)}, ${f}}`), 8)}
};
const int kFlagRunCount = ${flagRuns.length};

// {first code point of the run, combining-class rank}; rank 0 = starter.
const FlagRun kCccRuns[] = {
${rows(cccRuns.map(([cp, r]) => `{${hex(cp)}, ${r}}`), 8)}
};
const int kCccRunCount = ${cccRuns.length};

// {code point, offset into kDecompPool, length}, sorted by code point.
const Decomposition kDecompositions[] = {
${rows(decompIndex, 6)}
};
const int kDecompositionCount = ${decompIndex.length};
const uint32_t kDecompPool[] = {
${rows(pool.map(hex), 12)}
};

// {first, second, composite}, sorted by (first, second).
const Composition kCompositions[] = {
${rows(compose.map(([a, b, c]) => `{${hex(a)}, ${hex(b)}, ${hex(c)}}`), 5)}
};
const int kCompositionCount = ${compose.length};

}  // namespace seek::unicode_tables`);
