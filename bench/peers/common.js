'use strict';
/*
 * common.js - shared by peer_ort.js and peer_tflite.js: argument parsing, the input bytes,
 * timing statistics and the one JSON result line.
 *
 * Usage of a peer script:  node peer_X.js MODEL [threads=1] [runs=30] [warmup=3] [min_secs=0]
 *   times at least `runs` runs and keeps going until `min_secs` seconds of runs have passed
 *   (bench_backbone passes its own --min-runs/--min-secs: the same rule as for our backends).
 * Prints exactly one JSON line on stdout:
 *   {"peer":..,"version":..,"package":..,"model":..,"threads":..,"runs":..,"median_ms":..,
 *    "min_ms":..,"mean_ms":..,"input":"golden"|"random","outputs":[[1,23,31,17],...]}
 * or, when the peer cannot run, {"peer":..,"error":"..."} and exit status 1.
 * Output shapes are also printed once on stderr.
 */
const fs = require('fs');
const path = require('path');

function parseArgs(argv, peer) {
  const a = argv.slice(2);
  if (a.length < 1 || a[0] === '-h' || a[0] === '--help') {
    process.stderr.write(`usage: node ${path.basename(argv[1])} MODEL [threads=1] [runs=30] [warmup=3] [min_secs=0]\n`);
    process.exit(2);
  }
  const int = (s, d, name) => {
    if (s === undefined) return d;
    const v = Number(s);
    if (!Number.isInteger(v) || v < 0) fail(peer, a[0], `bad ${name} '${s}'`, 2);
    return v;
  };
  return {
    model: a[0],
    threads: Math.max(1, int(a[1], 1, 'threads')),
    runs: Math.max(1, int(a[2], 30, 'runs')),
    warmup: int(a[3], 3, 'warmup'),
    minSecs: (() => {
      if (a[4] === undefined) return 0;
      const v = Number(a[4]);
      if (!Number.isFinite(v) || v < 0) fail(peer, a[0], `bad min_secs '${a[4]}'`, 2);
      return v;
    })(),
  };
}

function sharedDir() {
  const e = process.env.EDGEVISION_SHARED;
  if (e) return e;
  if (fs.existsSync('../shared')) return '../shared';
  return path.resolve(__dirname, '..', '..', '..', 'shared'); /* repo/bench/peers -> ../shared */
}

/* The golden resized test_couple.jpg when the model input is 1x353x481x3, otherwise (or when the
 * file is absent) deterministic pseudo-random bytes (xorshift32, seed 12345). */
function inputBytes(shape) {
  const n = shape.reduce((x, y) => x * y, 1);
  if (shape.length === 4 && shape[0] === 1 && shape[1] === 353 && shape[2] === 481 && shape[3] === 3) {
    const p = path.join(sharedDir(), 'data/golden/posenet_353_481/input_353_481_rgb_u8.raw');
    try {
      const b = fs.readFileSync(p);
      if (b.length === n) return { data: new Uint8Array(b.buffer, b.byteOffset, n), kind: 'golden' };
    } catch (e) { /* fall through to random */ }
  }
  const d = new Uint8Array(n);
  let x = 12345 >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    d[i] = x & 0xff;
  }
  return { data: d, kind: 'random' };
}

function nowMs() { return Number(process.hrtime.bigint()) / 1e6; }

/* Calls run() `warmup` times, then times calls until there are at least `runs` of them and they
 * took at least `minSecs` seconds in all. run may be sync or return a promise. */
async function timeRuns(run, warmup, runs, minSecs) {
  for (let i = 0; i < warmup; i++) await run();
  const t = [];
  let total = 0;
  while (t.length < runs || total < (minSecs || 0) * 1000) {
    const a = nowMs();
    await run();
    const d = nowMs() - a;
    t.push(d);
    total += d;
  }
  const n = t.length;
  const s = t.slice().sort((x, y) => x - y);
  const med = n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  const r3 = (v) => Math.round(v * 1000) / 1000;
  return { runs: n, median_ms: r3(med), min_ms: r3(s[0]), mean_ms: r3(total / n) };
}

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

function fail(peer, model, msg, code) {
  emit({ peer, model, error: String(msg).split('\n')[0] });
  process.exit(code || 1);
}

function pkgVersion(name) {
  try {
    return require(path.join(__dirname, 'node_modules', name, 'package.json')).version;
  } catch (e) { return null; }
}

/* ONNX Runtime (npm onnxruntime-node, from this folder's node_modules), or fail naming the fix. */
function requireOrt(peer, model) {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    return fail(peer, model, `onnxruntime-node not installed (run bench/peers/setup.sh): ${e.message}`);
  }
}

/* The session settings every ORT peer uses (bench/README.md): CPU execution provider, intra-op
 * threads = threads, inter-op 1, every graph optimization, sequential; `extra` adds options. */
function ortOptions(threads, extra) {
  return Object.assign({
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential',
  }, extra || {});
}

module.exports = { parseArgs, inputBytes, timeRuns, emit, fail, pkgVersion, sharedDir, requireOrt,
  ortOptions };
