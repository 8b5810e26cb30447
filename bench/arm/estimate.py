#!/usr/bin/env python3
"""estimate.py - benchmark tooling (not a test): instructions and estimated cycles of ONE inference
from two bbcount dumps (bench/arm/bbcount.c) of the same program, one doing warm-up + 1 run and
one doing warm-up + 2 runs: per block (keyed by its bytes), count(2 runs) - count(1 run).

    estimate.py --arch aarch64 --mcpu neoverse-n1 [--mattr +dotprod] RUN1.txt RUN2.txt
    estimate.py --arch aarch64 RUN1.txt RUN2.txt          # instruction count only (no --mcpu)
    -> one line: insns=... est_cycles=... ipc=... blocks=... coverage=... unknown=...

Cycles: the hottest blocks (by instructions of the difference, until --coverage of them is
covered, at most --max-blocks) are disassembled with llvm-mc (which knows sdot/udot) and each is
given to llvm-mca as one code region; its steady-state cycles per execution (Total Cycles /
iterations) times its executions, summed. The uncovered remainder is charged at the covered
blocks' cycles per instruction. llvm-mca models the core's pipelines, not caches, memory or
branch mispredictions: the figure is a lower bound, comparable as a ratio between programs on
the same model. Results per block are cached in --cache (JSON), keyed by model and bytes.

Extend: another architecture is an entry in ARCHS (llvm triple, the assembler's comment string).
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

LLVM = os.environ.get("EV_LLVM_BIN", "/usr/lib/llvm-19/bin")
ARCHS = {
    "aarch64": {"triple": "aarch64-linux-gnu", "comment": "#", "enc": "//"},
    "x86_64": {"triple": "x86_64-linux-gnu", "comment": "#", "enc": "#"},
}


def load(path):
    """{bytes-key: (count, [hex per instruction])}, and the dump's total instructions."""
    blocks, total = {}, None
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                m = re.search(r"total_insns (\d+)", line)
                if m:
                    total = int(m.group(1))
                continue
            parts = line.split()
            if len(parts) < 2:
                continue
            key = " ".join(parts[2:])
            c = int(parts[0])
            if key in blocks:
                blocks[key] = (blocks[key][0] + c, blocks[key][1])
            else:
                blocks[key] = (c, parts[2:])
    if total is None:
        sys.exit(f"estimate.py: {path} is incomplete (no total line): did the program exit normally?")
    return blocks


def disassemble(arch, mattr, encodings):
    """{hex: asm text} for every encoding llvm-mc decodes; the rest are left out."""
    a = ARCHS[arch]
    text = "\n".join(" ".join("0x" + h[i:i + 2] for i in range(0, len(h), 2)) for h in encodings)
    cmd = [f"{LLVM}/llvm-mc", "--disassemble", "--show-encoding", f"-triple={a['triple']}"]
    if mattr:
        cmd.append(f"-mattr={mattr}")
    r = subprocess.run(cmd, input=text, capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s+(.*?)\s*" + re.escape(a["enc"]) + r" encoding: \[(.*)\]", line)
        if not m:
            continue
        h = "".join(b.strip()[2:] for b in m.group(2).split(",") if b.strip())
        out[h.lower()] = m.group(1).strip()
    # The encoding shown is llvm-mc's own re-encoding, which on x86 can differ from the input's
    # bytes (another VEX form, prefixes): those are disassembled one by one.
    for h in encodings:
        if h in out:
            continue
        one = " ".join("0x" + h[i:i + 2] for i in range(0, len(h), 2))
        r = subprocess.run(cmd, input=one, capture_output=True, text=True)
        for line in r.stdout.splitlines():
            m = re.match(r"\s+(.*?)\s*" + re.escape(a["enc"]) + r" encoding: \[(.*)\]", line)
            if m:
                out[h] = m.group(1).strip()
                break
    return out


def mca_batch(arch, mcpu, mattr, regions):
    """regions: [(name, [asm lines])] -> {name: cycles per execution}."""
    a = ARCHS[arch]
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        for name, lines in regions:
            f.write(f"{a['comment']} LLVM-MCA-BEGIN {name}\n")
            for l in lines:
                f.write(f"\t{l}\n")
            f.write(f"{a['comment']} LLVM-MCA-END\n")
        path = f.name
    cmd = [f"{LLVM}/llvm-mca", f"-mtriple={a['triple']}", f"-mcpu={mcpu}", "-iterations=100",
           "-resource-pressure=0", "-instruction-info=0", "-skip-unsupported-instructions=any", path]
    if mattr:
        cmd.insert(3, f"-mattr={mattr}")
    r = subprocess.run(cmd, capture_output=True, text=True)
    os.unlink(path)
    res, cur, iters = {}, None, 100
    for line in r.stdout.splitlines():
        m = re.match(r"\[\d+\] Code Region - (\S+)", line)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"Iterations:\s+(\d+)", line)
        if m:
            iters = int(m.group(1))
        m = re.match(r"Total Cycles:\s+(\d+)", line)
        if m and cur:
            res[cur] = int(m.group(1)) / iters
    if not res and r.returncode != 0:
        sys.exit(f"estimate.py: llvm-mca failed: {r.stderr[-2000:]}")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run1")
    ap.add_argument("run2")
    ap.add_argument("--arch", default="aarch64", choices=sorted(ARCHS))
    ap.add_argument("--mcpu", help="llvm-mca CPU model; without it, instructions only")
    ap.add_argument("--mattr", default="")
    ap.add_argument("--coverage", type=float, default=0.999)
    ap.add_argument("--max-blocks", type=int, default=6000)
    ap.add_argument("--cache", default="")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    b1, b2 = load(args.run1), load(args.run2)
    diff = {}
    for k in set(b1) | set(b2):
        d = b2.get(k, (0, None))[0] - b1.get(k, (0, None))[0]
        if d:
            diff[k] = (d, (b2.get(k) or b1.get(k))[1])
    insns = sum(d * len(ins) for d, ins in diff.values())
    out = {"insns": insns}
    if not args.mcpu:
        print(" ".join(f"{k}={v}" for k, v in out.items()))
        return

    order = sorted(diff, key=lambda k: -abs(diff[k][0]) * len(diff[k][1]))
    mass = sum(abs(d) * len(ins) for d, ins in diff.values()) or 1
    hot, acc = [], 0
    for k in order:
        if acc >= args.coverage * mass or len(hot) >= args.max_blocks:
            break
        hot.append(k)
        acc += abs(diff[k][0]) * len(diff[k][1])

    cache = {}
    if args.cache and os.path.exists(args.cache):
        with open(args.cache) as f:
            cache = json.load(f)
    model = f"{args.arch}/{args.mcpu}/{args.mattr}"
    ckey = lambda k: model + ":" + hashlib.sha1(k.encode()).hexdigest()
    todo = [k for k in hot if ckey(k) not in cache]
    unknown = 0
    if todo:
        encs = sorted({h for k in todo for h in diff[k][1]})
        asm = disassemble(args.arch, args.mattr, encs)
        unknown = sum(1 for h in encs if h not in asm)
        regions = []
        for i, k in enumerate(todo):
            lines = [asm.get(h, "nop") for h in diff[k][1]]
            regions.append((f"b{i}", lines))
        batches = [regions[i:i + 400] for i in range(0, len(regions), 400)]
        with ThreadPoolExecutor(max(1, args.jobs)) as ex:
            results = list(ex.map(lambda b: mca_batch(args.arch, args.mcpu, args.mattr, b), batches))
        got = {}
        for r in results:
            got.update(r)
        for i, k in enumerate(todo):
            c = got.get(f"b{i}")
            # A region llvm-mca dropped entirely: one cycle per instruction.
            cache[ckey(k)] = c if c is not None else float(len(diff[k][1]))
        if args.cache:
            with open(args.cache + ".tmp", "w") as f:
                json.dump(cache, f)
            os.replace(args.cache + ".tmp", args.cache)
    cyc = sum(diff[k][0] * cache[ckey(k)] for k in hot)
    hot_insns = sum(diff[k][0] * len(diff[k][1]) for k in hot)
    rest = insns - hot_insns
    if hot_insns > 0:
        cyc += rest * cyc / hot_insns
    out.update(est_cycles=int(round(cyc)), ipc=round(insns / cyc, 3) if cyc else 0,
               blocks=len(hot), coverage=round(acc / mass, 5), unknown=unknown)
    print(" ".join(f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
