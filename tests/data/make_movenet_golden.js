'use strict';
/*
 * make_movenet_golden.js - writes tests/data/movenet_lightning_image1.golden: the output of
 * TensorFlow Lite 2.9 itself (npm tfjs-tflite-node, the peer bench/peers/setup.sh installs; its
 * built-in reference/optimized kernels) for MoveNet SinglePose Lightning on a raw 192x192x3 RGB
 * input file (the input edgevision's pipeline feeds: image1.png resized with Pillow NEAREST).
 * test_movenet compares edgevision's output with it (keypoints within 1 px, scores within 0.02).
 *
 * Usage: NODE_PATH=/path/to/bench/peers/node_modules node make_movenet_golden.js MODEL.tflite
 *        INPUT.rgb [threads=1] > movenet_lightning_image1.golden
 * Extend: another model/input is another invocation (the output is printed as rows of 3 floats).
 */
const fs = require('fs');
const tfl = require('tfjs-tflite-node');

const [model, input, threads] = process.argv.slice(2);
const b = fs.readFileSync(model);
const runner = new tfl.TFLiteNodeModelRunner(b.buffer.slice(b.byteOffset, b.byteOffset + b.length),
  { threads: Number(threads || 1) });
const ins = runner.getInputs();
const rgb = fs.readFileSync(input);
const buf = ins[0].data();
if (ins.length !== 1 || buf.length !== rgb.length) throw new Error(`input ${ins[0].shape} ${buf.length} bytes, file ${rgb.length}`);
buf.set(rgb);
if (!runner.infer()) throw new Error('Invoke() failed');
const out = runner.getOutputs()[0];
const d = out.data();
process.stdout.write(`# TensorFlow Lite (tfjs-tflite-node) output ${out.name} [${out.shape}] ${out.dataType}\n`);
process.stdout.write(`# model ${require('path').basename(model)}, input ${require('path').basename(input)}\n`);
process.stdout.write('# y x score (normalised), one keypoint a line, NOSE ... RIGHT_ANKLE\n');
for (let k = 0; k < 17; k++)
  process.stdout.write(`${d[3 * k].toPrecision(9)} ${d[3 * k + 1].toPrecision(9)} ${d[3 * k + 2].toPrecision(9)}\n`);
