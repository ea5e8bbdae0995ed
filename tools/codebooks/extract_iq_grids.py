#!/usr/bin/python3
"""Extracts the IQ1/IQ2/IQ3 codebooks from llama.cpp's source into a C++ header in the build directory.

The lattice grids of IQ2_XXS, IQ2_XS, IQ3_XXS and IQ1_S/IQ1_M are tables that ggml's authors measured from
quantised models; no formula produces them, and seek does not carry third-party tables in its tree. They are
read at build time from the llama.cpp source that the project's own dependency already ships: npm
node-llama-cpp's `llama/gitRelease.bundle` (a git bundle of llama.cpp), or a llama.cpp checkout, or a copy of
ggml-common.h. Run by CMake (iq_grids.cmake); stdlib only.

usage: extract_iq_grids.py SOURCE OUT.h [--work DIR]
SOURCE: a git bundle, a llama.cpp source directory, or ggml-common.h itself.
Exit codes: 0 written, 1 the source was read but its tables are not the expected codebooks (the build must
fail), 2 the source could not be read.

Every table is checked before anything is written: its declared size, the number of entries, the range of every
byte (the grids' levels), uniqueness, and a SHA-256 of its values: the codebooks are part of the GGUF format,
so any change upstream would mean files quantised before and after decode differently, and must stop the build.
"""
import argparse
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

COMMON_H = "ggml/src/ggml-common.h"

# name in ggml-common.h -> (C++ name, element bits, entries, allowed byte values, SHA-256 of the values packed
# little-endian). The byte levels are the grids' documented lattices: IQ2 uses magnitudes 8, 25, 43 (0x08, 0x19,
# 0x2b), IQ3_XXS the eight odd-ish levels 4..62, IQ1_S the ternary -1, 0, +1 (as int8 bytes).
IQ2_LEVELS = {0x08, 0x19, 0x2B}
IQ3_LEVELS = {0x04, 0x0C, 0x14, 0x1C, 0x24, 0x2C, 0x34, 0x3E}
IQ1_LEVELS = {0xFF, 0x00, 0x01}
TABLES = {
    "iq2xxs_grid": ("kIq2xxsGrid", 64, 256, IQ2_LEVELS,
                    "05826b5d3e472a3a78f196be62ac78acf81df0f909626e12ab9fa2a5d490dd54"),
    "iq2xs_grid": ("kIq2xsGrid", 64, 512, IQ2_LEVELS,
                   "06e47aaca60b4dc1d9b5a3f34540437058a6b142b4d7a59d5ded769b4d1bf1de"),
    "iq3xxs_grid": ("kIq3xxsGrid", 32, 256, IQ3_LEVELS,
                    "46e35f5a997efdee6c99ce57854c8a0d4f0ff8ca57e5e8a60c0793ea580acf5d"),
    "iq1s_grid": ("kIq1sGrid", 64, 2048, IQ1_LEVELS,
                  "07540ffc1aeaf6ad4d97e96b0fcc765aae39671d4ae4a27bbd0e796fde167c6a"),
}
# Small tables seek computes instead of reading (kernels/ref/ref_iquants.cpp); checked here so that an upstream
# change cannot go unnoticed either.
DERIVED = {
    "kmask_iq2xs": [1 << j for j in range(8)],
    # 7 stored sign bits; the 8th makes the number of minus signs even
    "ksigns_iq2xs": [i | ((bin(i).count("1") & 1) << 7) for i in range(128)],
}


class BadSource(Exception):
    """The file was read but does not hold the expected codebooks."""


def read_common_h(source, work):
    """The text of ggml-common.h from a bundle, a source tree or the file itself."""
    if os.path.isdir(source):
        path = os.path.join(source, COMMON_H)
        if not os.path.isfile(path):
            raise OSError(f"{source} is a directory without {COMMON_H}")
        with open(path, encoding="utf-8") as f:
            return f.read(), path
    if source.endswith(".h"):
        with open(source, encoding="utf-8") as f:
            return f.read(), source
    # A git bundle: fetch its HEAD into a throw-away bare repository and read the one file (no checkout: ~1 s).
    os.makedirs(work, exist_ok=True)
    repo = tempfile.mkdtemp(prefix="llama.cpp-", dir=work)
    try:
        git = ["git", "-c", "init.defaultBranch=main", "-C", repo]
        subprocess.run(git + ["init", "-q", "--bare"], check=True, capture_output=True)
        subprocess.run(git + ["fetch", "-q", os.path.abspath(source), "HEAD:refs/heads/src"], check=True,
                       capture_output=True)
        text = subprocess.run(git + ["show", "src:" + COMMON_H], check=True, capture_output=True).stdout
        rev = subprocess.run(git + ["rev-parse", "src"], check=True, capture_output=True, text=True).stdout.strip()
        return text.decode("utf-8"), f"{source} (commit {rev}) {COMMON_H}"
    except FileNotFoundError as e:
        raise OSError(f"git is needed to read {source}: {e}")
    except subprocess.CalledProcessError as e:
        raise OSError(f"git could not read {source}: {e.stderr.decode(errors='replace').strip()}")
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def parse_tables(text):
    """name -> (declared size, [int values]) for every GGML_TABLE_BEGIN(type, name, size) ... GGML_TABLE_END()."""
    macros = dict(re.findall(r"^#define\s+(\w+)\s+(\d+)\s*$", text, re.M))
    out = {}
    pattern = re.compile(r"^[ \t]*GGML_TABLE_BEGIN\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*\)(.*?)GGML_TABLE_END\(\)", re.S | re.M)
    for m in pattern.finditer(text):
        ctype, name, size, body = m.groups()
        if name in out:
            raise BadSource(f"table {name} is defined twice")
        if not size.isdigit() and size not in macros:
            raise BadSource(f"table {name}: size {size} is not a number or a #define'd one")
        size = int(size) if size.isdigit() else int(macros[size])
        body = re.sub(r"//[^\n]*", "", body)
        tokens = [t.strip() for t in body.split(",") if t.strip()]
        try:
            values = [int(t, 0) for t in tokens]
        except ValueError as e:
            raise BadSource(f"table {name}: an entry is not an integer literal ({e})")
        out[name] = (ctype, size, values)
    return out


def check(name, ctype_bits, entries, levels, digest, table):
    ctype, size, values = table
    want_type = f"uint{ctype_bits}_t"
    if ctype != want_type:
        raise BadSource(f"{name}: element type {ctype}, expected {want_type}")
    if size != entries or len(values) != entries:
        raise BadSource(f"{name}: declared {size} entries and lists {len(values)}, expected {entries}")
    for i, v in enumerate(values):
        if not 0 <= v < (1 << ctype_bits):
            raise BadSource(f"{name}[{i}] = {v:#x} does not fit {want_type}")
        for b in range(ctype_bits // 8):
            if (v >> (8 * b)) & 0xFF not in levels:
                raise BadSource(f"{name}[{i}] = {v:#x}: byte {b} is not one of the grid's levels "
                                f"{sorted(levels)}")
    if len(set(values)) != entries:
        raise BadSource(f"{name}: entries repeat ({entries - len(set(values))} duplicates)")
    packed = struct.pack(f"<{entries}{'Q' if ctype_bits == 64 else 'I'}", *values)
    got = hashlib.sha256(packed).hexdigest()
    if digest and got != digest:
        raise BadSource(f"{name}: SHA-256 of the values is {got}, expected {digest}: this is not the codebook "
                        f"GGUF files are written with")
    return got


def render(tables, origin):
    lines = [
        "// GENERATED at build time by tools/codebooks/extract_iq_grids.py from",
        f"// {origin}.",
        "// Not part of seek's source tree: these are llama.cpp's measured codebooks, read from the copy its npm",
        "// package ships. Each grid entry packs 8 (or 4) byte levels, element j in byte j.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "",
        "namespace seek::iq_grids {",
        "",
    ]
    for name, (cname, bits, entries, _, _) in TABLES.items():
        values = tables[name][2]
        width = 16 if bits == 64 else 8
        per_line = 4 if bits == 64 else 8
        lines.append(f"// {name}: {entries} entries")
        lines.append(f"inline constexpr uint{bits}_t {cname}[{entries}] = {{")
        for i in range(0, entries, per_line):
            lines.append("    " + " ".join(f"0x{v:0{width}x}," for v in values[i:i + per_line]))
        lines.append("};")
        lines.append("")
    lines.append("}  // namespace seek::iq_grids")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--work", help="scratch directory for the bundle (default: next to OUT)")
    ap.add_argument("--print-digests", action="store_true", help="print the tables' SHA-256 (to update pins)")
    a = ap.parse_args(argv)
    try:
        text, origin = read_common_h(a.source, a.work or os.path.dirname(os.path.abspath(a.out)))
    except OSError as e:
        print(f"extract_iq_grids: cannot read {a.source}: {e}", file=sys.stderr)
        return 2
    try:
        tables = parse_tables(text)
        for name, spec in TABLES.items():
            if name not in tables:
                raise BadSource(f"no table {name}")
            digest = check(name, spec[1], spec[2], spec[3], None if a.print_digests else spec[4], tables[name])
            if a.print_digests:
                print(name, digest)
        for name, want in DERIVED.items():
            if name not in tables or tables[name][2] != want:
                raise BadSource(f"{name} is not the table seek derives (kernels/ref/ref_iquants.cpp)")
    except BadSource as e:
        print(f"extract_iq_grids: {origin}: {e}", file=sys.stderr)
        return 1
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render(tables, origin))
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
