'use strict';
/*
 * peer_tflite_any.js - TensorFlow Lite 2.9 (npm tfjs-tflite-node, its prebuilt
 * libtensorflowlite_c.so, built-in kernels) on ANY .tflite model: any number of inputs and
 * outputs, each input filled from the model's own input spec with the values `edgevision bench
 * --input random --seed SEED` gives ours (src/bench/runner.c prepare_inputs: one xoshiro256**
 * generator seeded through splitmix64, inputs in order; uint8/int8: the top byte of each draw;
 * float32: (draw >> 40) * 2^-24 * 2 - 1; other types 0). bench/bench_tflite.c runs it.
 *
 * Usage: node peer_tflite_any.js MODEL.tflite [threads=1] [runs=30] [warmup=3] [min_secs=0] [seed=1]
 * Prints one JSON line (as common.js, plus "inputs": [{name, shape, type}], "outputs" shapes and
 * "input_fnv": FNV-1a 32 of every input's bytes in order, which bench_tflite compares with its
 * own so both sides are known to run the same input). Only Invoke() (runner.infer()) is timed.
 * A model with a custom op TFLite 2.9 lacks (the Coral PosenetDecoderOp) fails to load: the
 * error line says so.
 *
 * Extend: another input type is a case in fillInput (keep it equal to prepare_inputs).
 */
const fs = require('fs');
const c = require('./common');
const PEER = 'tflite';

/* xoshiro256** seeded through splitmix64: src/util/rng.h, in BigInt (mod 2^64). */
function makeRng(seed) {
  const M = (1n << 64n) - 1n;
  let x = BigInt(seed) & M;
  const sm = () => {
    x = (x + 0x9E3779B97F4A7C15n) & M;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M;
    return z ^ (z >> 31n);
  };
  const s = [sm(), sm(), sm(), sm()];
  const rotl = (v, k) => ((v << BigInt(k)) | (v >> BigInt(64 - k))) & M;
  return () => {
    const result = (rotl((s[1] * 5n) & M, 7) * 9n) & M;
    const t = (s[1] << 17n) & M;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  };
}

function fillInput(buf, type, next) {
  if (type === 'uint8' || type === 'int8') {
    const b = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i < b.length; i++) b[i] = Number(next() >> 56n);
  } else if (type === 'float32') {
    const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    for (let i = 0; i < f.length; i++) f[i] = Number(next() >> 40n) * 2 ** -24 * 2 - 1;
  } else {
    new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).fill(0);
  }
}

function fnv1a(h, buf) {
  const b = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 16777619) >>> 0;
  return h;
}

async function main() {
  const args = c.parseArgs(process.argv, PEER);
  const seed = process.argv[7] === undefined ? 1 : process.argv[7];
  if (!/^\d+$/.test(String(seed))) c.fail(PEER, args.model, `bad seed '${seed}'`, 2);
  let tfl;
  try {
    tfl = require('tfjs-tflite-node');
  } catch (e) {
    c.fail(PEER, args.model, `tfjs-tflite-node not usable (run bench/peers/setup.sh): ${e.message}`);
  }
  let runner;
  try {
    const b = fs.readFileSync(args.model);
    const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
    runner = new tfl.TFLiteNodeModelRunner(ab, { threads: args.threads });
  } catch (e) {
    const custom = /PosenetDecoderOp|custom op|Encountered unresolved custom op/i.test(e.message);
    c.fail(PEER, args.model, custom
      ? `TFLite 2.9 cannot run this model: it has a custom op it lacks (${e.message.split('\n')[0]})`
      : `cannot load model: ${e.message}`);
  }
  const next = makeRng(seed);
  let h = 2166136261;
  const ins = runner.getInputs().map((t) => {
    const buf = t.data();
    fillInput(buf, t.dataType, next);
    h = fnv1a(h, buf);
    return { name: t.name, shape: t.shape.split(',').map(Number), type: t.dataType };
  });
  if (!runner.infer()) c.fail(PEER, args.model, 'Invoke() failed');
  const outs = runner.getOutputs();
  const shapes = outs.map((o) => o.shape.split(',').map(Number));
  process.stderr.write(`tflite: ${args.model}: inputs ` +
    ins.map((t) => `${t.name} [${t.shape}] ${t.type}`).join(', ') + '; outputs ' +
    outs.map((o, i) => `${o.name} [${shapes[i]}] ${o.dataType}`).join(', ') + '\n');

  const st = await c.timeRuns(() => {
    if (!runner.infer()) throw new Error('Invoke() failed');
  }, Math.max(0, args.warmup - 1), args.runs, args.minSecs);
  c.emit({
    peer: PEER,
    version: `2.9 (tfjs-tflite-node ${c.pkgVersion('tfjs-tflite-node')})`,
    package: `tfjs-tflite-node@${c.pkgVersion('tfjs-tflite-node')}`,
    model: args.model,
    threads: args.threads,
    ...st,
    input: `random seed ${seed}`,
    input_fnv: h >>> 0,
    inputs: ins,
    outputs: shapes,
  });
}

main().catch((e) => c.fail(PEER, process.argv[2], e && e.message ? e.message : e));
