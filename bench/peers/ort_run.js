'use strict';
/*
 * ort_run.js - runs one ONNX model once on ONNX Runtime (npm onnxruntime-node, CPU execution
 * provider, the benchmarks' settings: graphOptimizationLevel 'all', sequential, intra-op
 * threads 2) on inputs read from NumPy files, and writes every output as NumPy:
 * OUT_DIR/output_<i>.npy in the session's output order. The outputs of `edgevision run
 * --format npy` have the same names, so the two folders compare file by file
 * (tests/test_onnx_ort.c does, within ONNX's tolerances).
 *
 * Usage: node ort_run.js MODEL.onnx OUT_DIR [NAME=]IN.npy ...
 *   a bare IN.npy feeds the next model input in order. Types: float32, uint8, int8, int32,
 *   int64 (.npy little-endian, C order, version 1.0). Prints one JSON line: {"peer":"ort",
 *   "version":..,"outputs":[{"name":..,"type":..,"dims":[..]}, ...]} or {"error":..} and exit 1.
 * Extend: another element type is one line in each of the two tables below.
 */
const fs = require('fs');
const path = require('path');

const NPY_TO_ORT = { '<f4': 'float32', '|u1': 'uint8', '|i1': 'int8', '<i4': 'int32', '<i8': 'int64' };
const ORT_TO_NPY = { float32: ['<f4', Float32Array], uint8: ['|u1', Uint8Array], int8: ['|i1', Int8Array],
  int32: ['<i4', Int32Array], int64: ['<i8', BigInt64Array] };

function fail(msg) {
  process.stdout.write(JSON.stringify({ peer: 'ort', error: String(msg).split('\n')[0] }) + '\n');
  process.exit(1);
}

function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.length < 10 || b.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: not a .npy file`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const off = (major === 1 ? 10 : 12) + hlen;
  const h = b.toString('latin1', major === 1 ? 10 : 12, off);
  const descr = (/'descr':\s*'([^']+)'/.exec(h) || [])[1];
  const shape = ((/'shape':\s*\(([^)]*)\)/.exec(h) || [])[1] || '')
    .split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  if (/'fortran_order':\s*True/.test(h)) fail(`${file}: Fortran order`);
  const type = NPY_TO_ORT[descr];
  if (!type) fail(`${file}: dtype ${descr} not handled`);
  const Ctor = ORT_TO_NPY[type][1];
  const n = shape.reduce((x, y) => x * y, 1);
  const bytes = b.subarray(off, off + n * Ctor.BYTES_PER_ELEMENT);
  if (bytes.length !== n * Ctor.BYTES_PER_ELEMENT) fail(`${file}: ${bytes.length} data bytes for shape [${shape}]`);
  const copy = new Uint8Array(bytes); /* aligned */
  return { type, dims: shape, data: new Ctor(copy.buffer, 0, n) };
}

function writeNpy(file, type, dims, data) {
  const descr = ORT_TO_NPY[type];
  if (!descr) fail(`output type ${type} not handled`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let h = `{'descr': '${descr[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(h, 'latin1'), body]));
}

async function main() {
  const a = process.argv.slice(2);
  if (a.length < 2) {
    process.stderr.write('usage: node ort_run.js MODEL.onnx OUT_DIR [NAME=]IN.npy ...\n');
    process.exit(2);
  }
  let ort;
  try {
    ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    fail(`onnxruntime-node not installed (run bench/peers/setup.sh): ${e.message}`);
  }
  let s;
  try {
    s = await ort.InferenceSession.create(a[0], require('./common').ortOptions(2));
  } catch (e) {
    fail(`cannot load ${a[0]}: ${e.message}`);
  }
  const feeds = {};
  let next = 0;
  for (const arg of a.slice(2)) {
    const eq = arg.indexOf('=');
    const name = eq > 0 && !arg.startsWith('/') ? arg.slice(0, eq) : s.inputNames[next++];
    const t = readNpy(eq > 0 && !arg.startsWith('/') ? arg.slice(eq + 1) : arg);
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  }
  let out;
  try {
    out = await s.run(feeds);
  } catch (e) {
    fail(`run failed: ${e.message}`);
  }
  fs.mkdirSync(a[1], { recursive: true });
  const info = s.outputNames.map((n, i) => {
    const t = out[n];
    writeNpy(path.join(a[1], `output_${i}.npy`), t.type, t.dims, t.data);
    return { name: n, type: t.type, dims: t.dims.slice() };
  });
  process.stdout.write(JSON.stringify({ peer: 'ort', version: ort.env.versions.common, outputs: info }) + '\n');
}

main().catch((e) => fail(e && e.message ? e.message : e));
