'use strict';
/*
 * peer_tflite.js - TensorFlow Lite 2.9 (npm tfjs-tflite-node: its prebuilt libtensorflowlite_c.so,
 * built-in kernels; XNNPACK refuses these uint8 models) on one backbone-only PoseNet
 * (../shared/models/posenet/*_quant.tflite), numThreads = threads.
 * Usage: node peer_tflite.js MODEL.tflite [threads=1] [runs=30] [warmup=3] [min_secs=0]; prints one JSON line
 * (see common.js). Uses the binding's interpreter directly: the input buffer is filled once and
 * only Invoke() (runner.infer()) is timed, so no tfjs tensor conversions are counted.
 */
const fs = require('fs');
const path = require('path');
const c = require('./common');
const PEER = 'tflite';

/* TfLiteVersion() is not exposed by the binding and node cannot call C directly: read it from the
 * library's ELF file. TfLiteVersion is `lea rax, [rip+disp32]; ret` returning a string constant.
 * Returns null when anything does not look as expected (then the package version stands). */
function tfliteVersion() {
  try {
    if (process.platform !== 'linux' || process.arch !== 'x64') return null;
    const dir = path.dirname(require.resolve('tfjs-tflite-node/package.json'));
    const b = fs.readFileSync(path.join(dir, 'cc_deps', 'linux_amd64', 'libtensorflowlite_c.so'));
    if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return null; /* ELF64 LE */
    const phoff = Number(b.readBigUInt64LE(32)), shoff = Number(b.readBigUInt64LE(40));
    const phentsize = b.readUInt16LE(54), phnum = b.readUInt16LE(56);
    const shentsize = b.readUInt16LE(58), shnum = b.readUInt16LE(60);
    const toOff = (va) => { /* virtual address -> file offset via PT_LOAD segments */
      for (let i = 0; i < phnum; i++) {
        const h = phoff + i * phentsize;
        if (b.readUInt32LE(h) !== 1) continue;
        const off = Number(b.readBigUInt64LE(h + 8)), vaddr = Number(b.readBigUInt64LE(h + 16));
        const filesz = Number(b.readBigUInt64LE(h + 32));
        if (va >= vaddr && va < vaddr + filesz) return off + (va - vaddr);
      }
      return -1;
    };
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * shentsize;
      if (b.readUInt32LE(sh + 4) !== 11) continue; /* SHT_DYNSYM */
      const symOff = Number(b.readBigUInt64LE(sh + 24)), symSize = Number(b.readBigUInt64LE(sh + 32));
      const link = b.readUInt32LE(sh + 40);
      const strOff = Number(b.readBigUInt64LE(shoff + link * shentsize + 24));
      for (let s = symOff; s + 24 <= symOff + symSize; s += 24) {
        const nameAt = strOff + b.readUInt32LE(s);
        if (b.toString('latin1', nameAt, nameAt + 14) !== 'TfLiteVersion\0') continue;
        const f = toOff(Number(b.readBigUInt64LE(s + 8)));
        if (f < 0 || b[f] !== 0x48 || b[f + 1] !== 0x8d || b[f + 2] !== 0x05) return null;
        const target = Number(b.readBigUInt64LE(s + 8)) + 7 + b.readInt32LE(f + 3);
        const t = toOff(target);
        if (t < 0) return null;
        const v = b.toString('latin1', t, b.indexOf(0, t));
        return /^\d+\.\d+/.test(v) ? v : null;
      }
    }
  } catch (e) { /* fall through */ }
  return null;
}

async function main() {
  const args = c.parseArgs(process.argv, PEER);
  let tfl;
  try {
    tfl = require('tfjs-tflite-node');
  } catch (e) {
    const hint = /Could not locate the bindings file|node_tflite_binding/.test(e.message)
      ? 'native binding not built (setup.sh builds it with node-gyp: needs g++ and make)'
      : 'tfjs-tflite-node not installed (run bench/peers/setup.sh)';
    c.fail(PEER, args.model, `${hint}: ${e.message}`);
  }
  let runner;
  try {
    const b = fs.readFileSync(args.model);
    const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
    runner = new tfl.TFLiteNodeModelRunner(ab, { threads: args.threads });
  } catch (e) {
    c.fail(PEER, args.model, `cannot load model: ${e.message}`);
  }
  const ins = runner.getInputs();
  if (ins.length !== 1) c.fail(PEER, args.model, `expected 1 input, got ${ins.length}`);
  if (ins[0].dataType !== 'uint8') c.fail(PEER, args.model, `input type ${ins[0].dataType}, expected uint8`);
  const shape = ins[0].shape.split(',').map(Number);
  const inp = c.inputBytes(shape);
  const buf = ins[0].data();
  if (buf.length !== inp.data.length) c.fail(PEER, args.model, `input buffer ${buf.length} bytes, expected ${inp.data.length}`);
  buf.set(inp.data);

  if (!runner.infer()) c.fail(PEER, args.model, 'Invoke() failed');
  const outs = runner.getOutputs();
  const shapes = outs.map((o) => o.shape.split(',').map(Number));
  process.stderr.write(`tflite: ${args.model}: input ${ins[0].name} [${shape}] ${inp.kind}; outputs ` +
    outs.map((o, i) => `${o.name} [${shapes[i]}] ${o.dataType}`).join(', ') + '\n');
  if (outs.length !== 3) c.fail(PEER, args.model, `expected 3 outputs, got ${outs.length}`);

  const st = await c.timeRuns(() => {
    if (!runner.infer()) throw new Error('Invoke() failed');
  }, Math.max(0, args.warmup - 1), args.runs, args.minSecs);
  c.emit({
    peer: PEER,
    version: tfliteVersion() || `tfjs-tflite-node ${c.pkgVersion('tfjs-tflite-node')}`,
    package: `tfjs-tflite-node@${c.pkgVersion('tfjs-tflite-node')}`,
    model: args.model,
    threads: args.threads,
    ...st,
    input: inp.kind,
    outputs: shapes,
  });
}

main().catch((e) => c.fail(PEER, process.argv[2], e && e.message ? e.message : e));
