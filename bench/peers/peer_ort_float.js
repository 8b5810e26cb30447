'use strict';
/*
 * peer_ort_float.js - ONNX Runtime (npm onnxruntime-node, CPU execution provider) on one float32
 * NCHW model (bench/peers/models/*.onnx, written by export_float.sh), with bench_backbone's
 * settings: intraOpNumThreads = threads, interOpNumThreads = 1, graphOptimizationLevel 'all',
 * executionMode 'sequential'.
 *
 * Usage: node peer_ort_float.js MODEL.onnx [threads=1] [runs=30] [warmup=3] [min_secs=0] [profile_runs=0]
 * Prints one JSON line (common.js's fields, plus "macs" and "group_macs" from MODEL.onnx.json when
 * present, and with profile_runs > 0 "groups_ms": the per-run kernel time of each op group
 * (conv3x3, conv1x1, depthwise, other) over that many runs of a second, profiling session, read
 * from ONNX Runtime's profile: each group's median over the runs; the timed runs are never
 * profiled).
 *
 * Input: the benchmark's bytes (common.js inputBytes on the NHWC shape [1, H, W, 3]: the golden
 * image at 353x481, xorshift32 elsewhere) mapped to float x / 127.5 - 1 and transposed to NCHW, so
 * element (c, y, x) equals bench_float's NHWC input element (y, x, c).
 * Extend: another runtime is another peer_X_float.js printing the same JSON line.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const c = require('./common');
const PEER = 'ort';

/* NHWC bytes -> NCHW float32, x / 127.5 - 1 (bench_float.c fill_float does the same in NHWC). */
function floatInput(shape) {
  const [n, ch, h, w] = shape;
  const inp = c.inputBytes([n, h, w, ch]);
  const d = new Float32Array(n * ch * h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < ch; k++)
        d[(k * h + y) * w + x] = Math.fround(inp.data[(y * w + x) * ch + k] / 127.5 - 1);
  return { data: d, kind: inp.kind };
}

/* Op group of a profiled node from its input shapes: Conv / FusedConv weight [O, I/g, kh, kw]. */
function group(ev) {
  const op = ev.args.op_name || '';
  const shapes = (ev.args.input_type_shape || []).map((o) => Object.values(o)[0]);
  if (/Conv/.test(op) && shapes.length >= 2 && shapes[1].length === 4) {
    const [o, ig, kh, kw] = shapes[1];
    if (ig === 1 && o > 1) return 'depthwise';
    if (kh === 1 && kw === 1) return 'conv1x1';
    if (kh === 3 && kw === 3) return 'conv3x3';
  }
  return 'other';
}

async function profile(ort, model, threads, feeds, runs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev_ort_prof_'));
  const s = await ort.InferenceSession.create(model, c.ortOptions(threads, {
    enableProfiling: true, profileFilePrefix: path.join(dir, 'ort'),
  }));
  for (let i = 0; i < 2; i++) await s.run(feeds); /* warm-up, dropped below */
  const t0 = Date.now();
  for (let i = 0; i < runs; i++) await s.run(feeds);
  s.endProfiling();
  if (s.release) await s.release();
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
  const ev = file ? JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) : [];
  fs.rmSync(dir, { recursive: true, force: true });
  /* kernel-time events of the last `runs` runs, summed per run (each run's model_run event
   * bounds its kernels), then the median run per group: one stalled run does not move it */
  const runsEv = ev.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(-runs);
  const keys = ['conv3x3', 'conv1x1', 'depthwise', 'other'];
  const per = runsEv.map(() => ({ conv3x3: 0, conv1x1: 0, depthwise: 0, other: 0 }));
  for (const e of ev) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const r = runsEv.findIndex((m) => e.ts >= m.ts && e.ts <= m.ts + m.dur);
    if (r >= 0) per[r][group(e)] += e.dur / 1000;
  }
  const median = (v) => {
    const a = [...v].sort((x, y) => x - y), n = a.length;
    return n === 0 ? 0 : n % 2 ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
  };
  const g = {};
  for (const k of keys) g[k] = Math.round(median(per.map((p) => p[k])) * 1000) / 1000;
  return { groups_ms: g, profile_runs: runs, profile_wall_ms: (Date.now() - t0) / runs };
}

async function main() {
  const args = c.parseArgs(process.argv, PEER);
  const profRuns = process.argv[7] === undefined ? 0 : Number(process.argv[7]);
  if (!Number.isInteger(profRuns) || profRuns < 0) c.fail(PEER, args.model, `bad profile_runs '${process.argv[7]}'`, 2);
  const ort = c.requireOrt(PEER, args.model);
  let session;
  try {
    session = await ort.InferenceSession.create(args.model, c.ortOptions(args.threads));
  } catch (e) {
    c.fail(PEER, args.model, `cannot load model: ${e.message}`);
  }
  const name = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  const shape = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : null;
  if (!shape || shape.length !== 4) c.fail(PEER, args.model, 'cannot read a 4-d NCHW input shape');
  if (meta.type && meta.type !== 'float32') c.fail(PEER, args.model, `input type ${meta.type}, expected float32`);
  const inp = floatInput(shape);
  const feeds = { [name]: new ort.Tensor('float32', inp.data, shape) };

  let out;
  try {
    out = await session.run(feeds);
  } catch (e) {
    c.fail(PEER, args.model, `run failed: ${e.message}`);
  }
  const shapes = session.outputNames.map((n) => out[n].dims.slice());
  process.stderr.write(`ort: ${args.model}: input ${name} [${shape}] ${inp.kind}; outputs ` +
    session.outputNames.map((n, i) => `${n} [${shapes[i]}] ${out[n].type}`).join(', ') + '\n');

  const st = await c.timeRuns(() => session.run(feeds), Math.max(0, args.warmup - 1), args.runs, args.minSecs);
  if (session.release) await session.release();
  let sidecar = {};
  try {
    sidecar = JSON.parse(fs.readFileSync(args.model + '.json', 'utf8'));
  } catch (e) { /* no MAC count: bench_float reports GFLOP/s as unknown */ }
  const prof = profRuns > 0 ? await profile(ort, args.model, args.threads, feeds, profRuns) : {};
  c.emit({
    peer: PEER,
    version: ort.env && ort.env.versions ? ort.env.versions.common : c.pkgVersion('onnxruntime-node'),
    package: `onnxruntime-node@${c.pkgVersion('onnxruntime-node')}`,
    model: args.model,
    threads: args.threads,
    ...st,
    input: inp.kind,
    outputs: shapes,
    ...(sidecar.macs ? { macs: sidecar.macs, group_macs: sidecar.group_macs } : {}),
    ...prof,
  });
}

main().catch((e) => c.fail(PEER, process.argv[2], e && e.message ? e.message : e));
