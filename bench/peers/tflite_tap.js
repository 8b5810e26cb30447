'use strict';
/*
 * tflite_tap.js - TensorFlow Lite 2.9's value of intermediate tensors (npm tfjs-tflite-node, the
 * peer setup.sh installs), for tools/layer_diff.c: for each tensor index T listed in
 * DIR/tensors.txt (second column, written by layer_diff) the model's bytes are patched so that
 * subgraph 0's first output is T, the patched model is run on INPUT.raw, and the output's raw
 * bytes are written to DIR/tfl_t<T>.bin.
 *
 * The patch is in place: the subgraph's `outputs` vector keeps its storage, its length becomes 1
 * and its first element T (shrinking a FlatBuffers vector needs no rebuild). TFLite keeps an
 * output tensor alive to the end of Invoke(), so it holds what the op wrote; every op still runs.
 *
 * Usage: NODE_PATH=bench/peers/node_modules node bench/peers/tflite_tap.js MODEL.tflite INPUT.raw
 *        DIR [threads=1] [--drop-last-ops N]   (from bench/peers node finds node_modules itself)
 * --drop-last-ops N shrinks the subgraph's `operators` vector by N the same way: a model ending in
 * a custom op TFLite lacks (PosenetDecoderOp) runs without it, its heads then tapped like any
 * other tensor (tensors of the dropped ops are skipped).
 * Extend: another subgraph is another root walk in outputsVector(); more outputs per run would
 * need a rebuilt vector (the writer, src/formats/tflite_writer.c).
 */
const fs = require('fs');
const path = require('path');
const tfl = require('tfjs-tflite-node');

/* Byte offset of subgraph 0's vector field `field` (its u32 length; elements follow). Model:
 * field 2 subgraphs; SubGraph: field 2 outputs, field 3 operators (tflite schema). */
function subgraphVector(b, field) {
  const table = (pos) => {
    const vt = pos - b.readInt32LE(pos);
    const vlen = b.readUInt16LE(vt);
    return (id) => {
      if (4 + 2 * id >= vlen) return 0;
      const o = b.readUInt16LE(vt + 4 + 2 * id);
      return o ? pos + o : 0;
    };
  };
  const deref = (at) => at + b.readUInt32LE(at);
  const model = table(b.readUInt32LE(0));
  const subs = model(2);
  if (!subs) throw new Error('model has no subgraphs');
  const subsVec = deref(subs);
  if (b.readUInt32LE(subsVec) < 1) throw new Error('model has no subgraphs');
  const sub0 = table(deref(subsVec + 4));
  const v = sub0(field);
  if (!v) throw new Error(`subgraph 0 has no field ${field}`);
  return deref(v);
}

function main() {
  const args = process.argv.slice(2);
  let drop = 0;
  const di = args.indexOf('--drop-last-ops');
  if (di >= 0) {
    drop = Number(args[di + 1]);
    if (!Number.isInteger(drop) || drop < 0) throw new Error(`bad --drop-last-ops '${args[di + 1]}'`);
    args.splice(di, 2);
  }
  const [model, input, dir, threads] = args;
  if (!dir) {
    process.stderr.write('usage: node tflite_tap.js MODEL.tflite INPUT.raw DIR [threads=1]\n');
    process.exit(2);
  }
  const orig = fs.readFileSync(model);
  const rgb = fs.readFileSync(input);
  const vec = subgraphVector(orig, 2);
  if (orig.readUInt32LE(vec) < 1) throw new Error('subgraph 0 has no outputs');
  const ops = subgraphVector(orig, 3);
  const nops = orig.readUInt32LE(ops);
  if (drop >= nops) throw new Error(`cannot drop ${drop} of ${nops} ops`);
  if (drop) orig.writeUInt32LE(nops - drop, ops);
  /* tensors.txt lines: "op T ..." (tools/layer_diff); ops past the kept ones are skipped */
  const tensors = fs.readFileSync(path.join(dir, 'tensors.txt'), 'utf8').split('\n')
    .filter((l) => l.trim()).map((l) => l.split(' ').map(Number))
    .filter((f) => f[0] < nops - drop).map((f) => f[1]);
  let done = 0;
  for (const t of tensors) {
    const b = Buffer.from(orig);
    b.writeUInt32LE(1, vec);
    b.writeInt32LE(t, vec + 4);
    const runner = new tfl.TFLiteNodeModelRunner(b.buffer.slice(b.byteOffset, b.byteOffset + b.length),
      { threads: Number(threads || 1) });
    const ins = runner.getInputs();
    const buf = ins[0].data();
    if (ins.length !== 1 || buf.byteLength !== rgb.length)
      throw new Error(`input ${ins[0].shape}: ${buf.byteLength} bytes, file ${rgb.length}`);
    new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).set(rgb);
    if (!runner.infer()) throw new Error(`Invoke() failed with output tensor ${t}`);
    const d = runner.getOutputs()[0].data();
    fs.writeFileSync(path.join(dir, `tfl_t${t}.bin`), Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    done++;
  }
  process.stderr.write(`tflite_tap: ${done} tensors written to ${dir}\n`);
}

main();
