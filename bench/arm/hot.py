#!/usr/bin/env python3
"""hot.py - benchmark tooling (not a test): where one inference's instructions and estimated
cycles go, per function, from the same two bbcount dumps estimate.py reads (run it after
bench/arm/run.sh, which fills the llvm-mca cache this reads).

    hot.py --mcpu neoverse-n1 --mattr +dotprod,+rdm --binary build-aarch64/posenet_latency \
        bench/arm/work/out/353_481/a76_ours_r1.txt bench/arm/work/out/353_481/a76_ours_r2.txt
    -> per function: M instructions, M est. cycles, share of the cycles, blocks; --blocks N also
       lists the N hottest blocks (disassembled) with their function.

A block is found in the binaries given (--binary, repeatable: the program and its shared
libraries) by searching its bytes in their .text; the function is the symbol (nm) at or below
that address. Blocks found nowhere (the C library, the dynamic loader) are "?". Cycles per
block come from estimate.py's cache (--cache, the same key); blocks not in it are charged one
cycle per instruction.

Extend: another grouping (by source file, by op) is another key function in group().
"""
import argparse
import bisect
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import estimate  # noqa: E402  (load, disassemble, LLVM)


def cross(tool):
    for pre in ("aarch64-linux-gnu-", "arm-linux-gnueabihf-", ""):
        p = subprocess.run(["which", pre + tool], capture_output=True, text=True).stdout.strip()
        if p:
            return p
    sys.exit(f"hot.py: no {tool} found")


class Binary:
    def __init__(self, path):
        self.path = path
        with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
            tmp = f.name
        subprocess.run([cross("objcopy"), "-O", "binary", "-j", ".text", path, tmp], check=True)
        with open(tmp, "rb") as f:
            self.text = f.read()
        os.unlink(tmp)
        hdr = subprocess.run([cross("objdump"), "-h", path], capture_output=True, text=True).stdout
        self.base = 0
        for line in hdr.splitlines():
            parts = line.split()
            if len(parts) > 3 and parts[1] == ".text":
                self.base = int(parts[3], 16)
        syms = []
        out = subprocess.run([cross("nm"), "-C", "--defined-only", path], capture_output=True,
                             text=True).stdout
        if not out.strip():
            out = subprocess.run([cross("nm"), "-D", "-C", "--defined-only", path],
                                 capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[1] in "tTwW":
                syms.append((int(parts[0], 16), parts[2]))
        syms.sort()
        self.addrs = [a for a, _ in syms]
        self.names = [n for _, n in syms]

    def find(self, code):
        i = self.text.find(code)
        while i >= 0 and i % 4:
            i = self.text.find(code, i + 1)
        if i < 0:
            return None
        a = self.base + i
        j = bisect.bisect_right(self.addrs, a) - 1
        name = self.names[j] if j >= 0 else "?"
        return f"{os.path.basename(self.path)}:{name}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run1")
    ap.add_argument("run2")
    ap.add_argument("--binary", action="append", default=[])
    ap.add_argument("--mcpu", default="")
    ap.add_argument("--mattr", default="")
    ap.add_argument("--arch", default="aarch64")
    ap.add_argument("--cache", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    "work", "mca-cache.json"))
    ap.add_argument("--blocks", type=int, default=0)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    b1, b2 = estimate.load(args.run1), estimate.load(args.run2)
    cache = {}
    if args.mcpu and os.path.exists(args.cache):
        with open(args.cache) as f:
            cache = json.load(f)
    model = f"{args.arch}/{args.mcpu}/{args.mattr}"
    bins = [Binary(p) for p in args.binary]
    funcs, rows = {}, []
    tot_i = tot_c = 0.0
    for k in set(b1) | set(b2):
        d = b2.get(k, (0, None))[0] - b1.get(k, (0, None))[0]
        if not d:
            continue
        hexes = (b2.get(k) or b1.get(k))[1]
        cyc1 = cache.get(model + ":" + hashlib.sha1(k.encode()).hexdigest(), float(len(hexes)))
        code = bytes.fromhex("".join(hexes))
        where = "?"
        for b in bins:
            w = b.find(code)
            if w:
                where = w
                break
        ins, cyc = d * len(hexes), d * cyc1
        tot_i += ins
        tot_c += cyc
        f = funcs.setdefault(where, [0, 0.0, 0])
        f[0] += ins
        f[1] += cyc
        f[2] += 1
        rows.append((cyc, ins, d, where, hexes, cyc1))
    print(f"total: {tot_i / 1e6:.1f} M instructions, {tot_c / 1e6:.1f} M est. cycles")
    print(f"{'M insn':>8} {'M cyc':>8} {'cyc%':>6} {'blocks':>6}  function")
    for where, (i, c, n) in sorted(funcs.items(), key=lambda x: -x[1][1])[:args.top]:
        print(f"{i / 1e6:8.1f} {c / 1e6:8.1f} {100 * c / tot_c:6.1f} {n:6d}  {where}")
    if args.blocks:
        rows.sort(key=lambda r: -r[0])
        encs = sorted({h for r in rows[:args.blocks] for h in r[4]})
        asm = estimate.disassemble(args.arch, args.mattr, encs)
        for cyc, ins, d, where, hexes, cyc1 in rows[:args.blocks]:
            print(f"\n== {cyc / 1e6:.1f} M cyc, {ins / 1e6:.1f} M insn, {d} x {len(hexes)} insn "
                  f"at {cyc1:.2f} cyc: {where}")
            for h in hexes:
                print("    " + asm.get(h, h))


if __name__ == "__main__":
    main()
