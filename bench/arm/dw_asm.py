#!/usr/bin/env python3
"""dw_asm.py - writes src/backends/cpu/dwconv_neon_asm.h: the loop bodies of the aarch64
depthwise runs (dwconv_neon.c, dw3_sST_SCHEME_E), one 4-pixel x 8-channel block of a 3x3 kernel
with stride 1 or 2 per iteration, and the left / right border blocks (EV_DW3_S*_L / _R: input
column 0 / 3 ST + 2 is the register v27, the padding), in an instruction order chosen for the
Cortex-A72 model of the ARM proxy (llvm-mca -mcpu=cortex-a72).

    python3 bench/arm/dw_asm.py            # rewrite the header
    python3 bench/arm/dw_asm.py --check    # also print each body's llvm-mca cycles per block

What a body computes (registers fixed; operands are dwconv_neon.c's asm operands):
  v0..v8   the 9 taps' int8 weights of the 8 channels (tap 3 r + t: kernel row r, column t)
  v9       the multiplier M in lane 0, v10 0x80 in every byte, v11 / v12 the start (bias + K
           sum s) of channels 0-3 / 4-7
  v16..v23 the accumulators, pixel p's channels 0-3 in v(16 + 2p), 4-7 in v(17 + 2p)
  input column j of kernel row r: 8 bytes at %[rR] + j * cin (%[cJ] = j * cin), flipped to int8
  u = x ^ 0x80 (EOR, once per column and row: 3 ST + 3 columns per row, shared by the pixels)
  a "chunk" is SMULL (+ SMLAL) of one or two taps into 8 int16 lanes, then SADDW + SADDW2 into
  the pixel's accumulators: scheme P5 pairs the 9 taps as (0,1) (2,3) (4,5) (6,7) (8): exact for
  any weights in [-127, 127] (|u s + u' s'| <= 2 * 128 * 127 < 2^15); P3 takes one chunk per
  kernel row (exact where the row's weights keep every sum in int16: dwconv_neon.c's pack flag).
  Then SQRDMULH by M (by element), SQRSHRN #E + SQRSHRN2 (the rounding shift, narrowed to int16
  with saturation), SQXTUN (uint8) and one 8-byte store per pixel (%[o] + p * cout).
Order: two halves (pixels 0-1, then 2-3), split by a branch so that qemu's translation blocks
end there (it cuts a block of ~120 of these instructions at a point of its own); in each, a
chunk's multiplies are issued 3-4 chunks before its two widening adds (the model picks a vector
pipe for an either-pipe instruction when it issues, so the adds must not come ready ahead of the
multiplies, which only the W pipe takes), each column loaded and flipped just before its first
use (registers: 6-7 for columns, 4-5 for products), a pixel's SQRDMULH right after its last add,
the narrowing and stores of the half last. ORDER holds the lag and chunk order per body (the
best of a search over both with llvm-mca).

Extend: another tap grouping is an entry in SCHEMES; another order, the emit loop in body().
"""
import os
import re
import subprocess
import sys

SCHEMES = {
    'P5': [[(0, 0), (0, 1)], [(0, 2), (1, 0)], [(1, 1), (1, 2)], [(2, 0), (2, 1)], [(2, 2)]],
    'P3': [[(0, 0), (0, 1), (0, 2)], [(1, 0), (1, 1), (1, 2)], [(2, 0), (2, 1), (2, 2)]],
}
# per scheme: chunks between a chunk's multiplies and its adds, product and column registers
PLAN = {
    'P5': (4, (31, 30, 29, 28, 27), (13, 14, 15, 24, 25, 26)),
    'P3': (3, (31, 30, 29, 28), (13, 14, 15, 24, 25, 26, 27)),
}
# per (stride, scheme): the lag and the chunk order ('pix': a pixel's chunks in a row; 'chunk':
# chunk 0 of both pixels of the half, then chunk 1, ...), the best llvm-mca figures found
ORDER = {(1, 'P5'): (3, 'chunk'), (1, 'P3'): (3, 'pix'), (2, 'P5'): (4, 'chunk'),
         (2, 'P3'): (3, 'chunk')}


def body(ST, scheme, LAG=None, outside=None):
    """Two halves (pixels 0-1, then 2-3, each with its requantization), split by a branch so
    that qemu's translation blocks end there (a block of ~120 such instructions is cut at an
    arbitrary point by qemu's own limit on generated code); returns (half0, half1)."""
    chunks = SCHEMES[scheme]
    lag, TEMPS, COLS = PLAN[scheme]
    lag, order = ORDER[(ST, scheme)]
    if outside is not None:  # border block: one column is v27 (x_zp ^ 0x80)
        lag, order, TEMPS = 3, 'chunk', (31, 30, 29, 28)
    if LAG is not None:
        lag = LAG
    lastuse = {}
    if order == 'pix':
        seqs = [[(p, ci) for p in (2 * h, 2 * h + 1) for ci in range(len(chunks))]
                for h in (0, 1)]
    else:
        seqs = [[(p, ci) for ci in range(len(chunks)) for p in (2 * h, 2 * h + 1)]
                for h in (0, 1)]
    allseq = seqs[0] + seqs[1]
    for k, (p, ci) in enumerate(allseq):
        for (r, t) in chunks[ci]:
            lastuse[(r, p * ST + t)] = k
    free, colreg, tmpof = list(COLS), {}, {}
    halves = []

    def col_addr(r, j):  # a left border block's operands start at its column 1
        j -= outside == 0
        return f"[%[r{r}]" + (f", %[c{j}]]" if j else "]")

    for h in (0, 1):
        out = []
        seq = seqs[h]
        base = 0 if h == 0 else len(seqs[0])

        def mul(k):
            p, ci = seq[k]
            for (r, t) in chunks[ci]:
                j = p * ST + t
                if j == outside:
                    colreg[(r, j)] = 27
                elif (r, j) not in colreg:
                    reg = free.pop(0)
                    colreg[(r, j)] = reg
                    out.append(f"ldr d{reg}, {col_addr(r, j)}")
                    out.append(f"eor v{reg}.8b, v{reg}.8b, v10.8b")
            T = TEMPS[k % len(TEMPS)]
            tmpof[k] = T
            for i, (r, t) in enumerate(chunks[ci]):
                x = colreg[(r, p * ST + t)]
                out.append(f"{'smull' if i == 0 else 'smlal'} v{T}.8h, v{x}.8b, v{3 * r + t}.8b")
            for key, reg in list(colreg.items()):
                if lastuse[key] <= base + k:
                    if key[1] != outside:
                        free.append(reg)
                    del colreg[key]

        def add(k):
            p, ci = seq[k]
            T = tmpof[k]
            lo, hi = 16 + 2 * p, 17 + 2 * p
            slo, shi = (11, 12) if ci == 0 else (lo, hi)
            out.append(f"saddw v{lo}.4s, v{slo}.4s, v{T}.4h")
            out.append(f"saddw2 v{hi}.4s, v{shi}.4s, v{T}.8h")
            if ci == len(chunks) - 1:  # the pixel's multiplies by M right after its last add
                out.append(f"sqrdmulh v{lo}.4s, v{lo}.4s, v9.s[0]")
                out.append(f"sqrdmulh v{hi}.4s, v{hi}.4s, v9.s[0]")

        for k in range(len(seq) + lag):
            if k < len(seq):
                mul(k)
            if k >= lag:
                add(k - lag)
        for p in (2 * h, 2 * h + 1):
            a, b = 16 + 2 * p, 17 + 2 * p
            out.append(f"sqrshrn v{a}.4h, v{a}.4s, #%[e]")
            out.append(f"sqrshrn2 v{a}.8h, v{b}.4s, #%[e]")
            out.append(f"sqxtun v{a}.8b, v{a}.8h")
            out.append(f"str d{a}, [%[o]" + (f", %[o{p}]]" if p else "]"))
        if h == 0:
            out.append("b 2f")
            out.append("2:")
        elif outside is None:
            out.append("add %[o], %[o], %[so]")
            for r in range(3):
                out.append(f"add %[r{r}], %[r{r}], %[si]")
        halves.append(out)
    return halves


def for_mca(lines, E=6, last=True):
    """One half with the operands as fixed registers (llvm-mca input)."""
    m = {'o': 'x3', 'so': 'x13', 'si': 'x14', 'n': 'x15', 'r0': 'x0', 'r1': 'x1', 'r2': 'x2',
         }
    m.update({f'c{j}': f'x{20 + j}' for j in range(1, 9)})
    m.update({f'o{p}': f'x{9 + p}' for p in range(1, 4)})
    res = []
    for l in lines:
        l = l.replace('%[e]', str(E))
        if l not in ("b 2f", "2:"):
            res.append(re.sub(r'%\[(\w+)\]', lambda mm: m[mm.group(1)], l))
    return ["loop:"] + res + (["subs x15, x15, #1", "b.ne loop"] if last else ["b loop"])


def mca_cycles(lines, last=True):
    llvm = os.environ.get("EV_LLVM_BIN", "/usr/lib/llvm-19/bin")
    path = "/tmp/ev_dw_asm_check.s"
    with open(path, "w") as f:
        f.write("\n".join(for_mca(lines, last=last)) + "\n")
    r = subprocess.run([f"{llvm}/llvm-mca", "-mtriple=aarch64-linux-gnu", "-mcpu=cortex-a72",
                        "-iterations=100", path], capture_output=True, text=True, check=True)
    return int(re.search(r"Total Cycles:\s+(\d+)", r.stdout).group(1)) / 100


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    dst = os.path.join(root, "src", "backends", "cpu", "dwconv_neon_asm.h")
    text = ["/*",
            " * dwconv_neon_asm.h - GENERATED by bench/arm/dw_asm.py (do not edit; rerun it): the loop",
            " * bodies of dwconv_neon.c's aarch64 depthwise runs, one 4-pixel x 8-channel block of a 3x3",
            " * kernel per iteration. The registers, the tap groupings (P5, P3) and the instruction order",
            " * are described in the script.",
            " */",
            "#ifndef EV_BACKENDS_CPU_DWCONV_NEON_ASM_H",
            "#define EV_BACKENDS_CPU_DWCONV_NEON_ASM_H", ""]
    for ST in (1, 2):
        for sch in SCHEMES:
            h0, h1 = body(ST, sch)
            lines = h0 + h1
            if "--check" in sys.argv:
                c0, c1 = mca_cycles(h0, last=False), mca_cycles(h1)
                print(f"stride {ST} {sch}: {len(h0) - 1} + {len(h1) + 2} instructions, "
                      f"{c0:.2f} + {c1:.2f} = {c0 + c1:.2f} model cycles per block")
            text.append(f"#define EV_DW3_S{ST}_{sch} \\")
            for l in lines:
                text.append(f'    "{l}\\n\\t" \\')
            text.append("")
        for side, j in (("L", 0), ("R", 3 * ST + 2)):
            h0, h1 = body(ST, "P5", outside=j)
            if "--check" in sys.argv:
                c0, c1 = mca_cycles(h0, last=False), mca_cycles(h1)
                print(f"stride {ST} border {side} (column {j} outside): {len(h0) - 1} + "
                      f"{len(h1)} instructions, {c0:.2f} + {c1:.2f} = {c0 + c1:.2f} model cycles")
            text.append(f"#define EV_DW3_S{ST}_{side} \\")
            for l in h0 + h1:
                text.append(f'    "{l}\\n\\t" \\')
            text.append("")
    text.append("#endif")
    with open(dst, "w") as f:
        f.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
