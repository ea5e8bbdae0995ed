"""The SIMD kernels keep their running sums in registers. In seek's binary, no innermost loop that does vector
multiply-adds (FMA, VNNI) stores vector registers to more than 2 distinct stack slots: a register spilled under
pressure reuses one or two, while an array of accumulators the compiler left in memory stores one slot per
accumulator (5-16), every iteration. That happened twice (GCC 12 keeps an array of vectors on the stack unless every
loop over it is unrolled first): decode attention ran at a fifth of its speed and the multi-token prepared dots lost
~9%, with every output bit unchanged, so no numerical test could see it."""
import re
import shutil
import subprocess

import harness

MAX_SLOTS = 2
STORE = re.compile(r"vmov\w*\s+%[xyz]mm\d+,(-?0x[0-9a-f]+)?\(%rsp\)")
MAC = re.compile(r"\b(vfn?madd\w*|vpdpbusds?|vdpbf16ps)\b")
JUMP = re.compile(r"j\w+\s+([0-9a-f]+)")

c = harness.Checks()
harness.require(shutil.which("objdump") is not None, "objdump (binutils)")
out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", harness.seek_binary()], capture_output=True,
                     text=True, check=True).stdout

checked, bad = 0, []
for text in re.split(r"\n(?=[0-9a-f]+ <)", out):
    head = re.match(r"[0-9a-f]+ <(.*)>:", text)
    if not head:
        continue
    ins = []
    for line in text.split("\n")[1:]:
        m = re.match(r"\s*([0-9a-f]+):\s*(.*)", line)
        if m:
            ins.append((int(m.group(1), 16), m.group(2)))
    loops = []
    for at, op in ins:
        j = JUMP.match(op)
        if j and int(j.group(1), 16) < at:
            loops.append((int(j.group(1), 16), at))
    # Innermost loops only: an outer loop may store its results once per pass, which is fine.
    inner = [(lo, hi) for lo, hi in loops
             if not any(lo <= l2 and h2 <= hi and (l2, h2) != (lo, hi) for l2, h2 in loops)]
    worst = -1
    for lo, hi in inner:
        body = [op for at, op in ins if lo <= at <= hi]
        if not any(MAC.search(op) for op in body):
            continue
        slots = {m.group(1) or "0" for m in map(STORE.search, body) if m}
        worst = max(worst, len(slots))
    if worst >= 0:
        checked += 1
        if worst > MAX_SLOTS:
            bad.append(f"{worst} slots: {head.group(1)[:160]}")

# The check must have looked at the kernels (not at an empty or unreadable disassembly).
c.check(checked >= 100, "multiply-add loops found in the binary", f"{checked} functions")
c.check(not bad, f"no multiply-add loop stores vector registers to more than {MAX_SLOTS} stack slots",
        "\n".join(bad[:20]))
c.finish()
