'use strict';
/*
 * peer_ort.js - ONNX Runtime (npm onnxruntime-node, CPU execution provider) on one int8 PoseNet
 * backbone (../shared/models/posenet/onnx/*_s8w.onnx): intraOpNumThreads = threads,
 * interOpNumThreads = 1, graphOptimizationLevel 'all', executionMode 'sequential'.
 * Usage: node peer_ort.js MODEL.onnx [threads=1] [runs=30] [warmup=3] [min_secs=0]; prints one JSON line
 * (see common.js). Times session.run() on a tensor created once (the same work as
 * ev_session_run: backbone only, uint8 NHWC in, three uint8 heads out).
 */
const c = require('./common');
const PEER = 'ort';

async function main() {
  const args = c.parseArgs(process.argv, PEER);
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
  if (!shape) c.fail(PEER, args.model, 'cannot read the input shape');
  if (meta.type && meta.type !== 'uint8') c.fail(PEER, args.model, `input type ${meta.type}, expected uint8`);
  const inp = c.inputBytes(shape);
  const feeds = { [name]: new ort.Tensor('uint8', inp.data, shape) };

  let out;
  try {
    out = await session.run(feeds);
  } catch (e) {
    c.fail(PEER, args.model, `run failed: ${e.message}`);
  }
  const shapes = session.outputNames.map((n) => out[n].dims.slice());
  process.stderr.write(`ort: ${args.model}: input ${name} [${shape}] ${inp.kind}; outputs ` +
    session.outputNames.map((n, i) => `${n} [${shapes[i]}] ${out[n].type}`).join(', ') + '\n');
  if (shapes.length !== 3) c.fail(PEER, args.model, `expected 3 outputs, got ${shapes.length}`);

  const st = await c.timeRuns(() => session.run(feeds), Math.max(0, args.warmup - 1), args.runs, args.minSecs);
  c.emit({
    peer: PEER,
    version: ort.env && ort.env.versions ? ort.env.versions.common : c.pkgVersion('onnxruntime-node'),
    package: `onnxruntime-node@${c.pkgVersion('onnxruntime-node')}`,
    model: args.model,
    threads: args.threads,
    ...st,
    input: inp.kind,
    outputs: shapes,
  });
  if (session.release) await session.release();
}

main().catch((e) => c.fail(PEER, process.argv[2], e && e.message ? e.message : e));
