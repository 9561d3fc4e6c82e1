// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node) on one input and writes its first output.
// Usage: node tools/onnxruntime-run.js <onnxruntime-node dir> <model.onnx> <input.f32> <dim,dim,...> <output.f32> [float32|uint8|int8]
// Tensors are raw little-endian float32 files; an 8-bit input is converted from them, and the output is written
// as float32 whatever its type. Used by the export tests to check that another runtime runs
// the models OnnxExporter writes (graph optimizations on: ONNX Runtime fuses QDQ pairs into QLinear operators).
const [ortDir, model, inputPath, dims, outputPath, inputType = 'float32'] = process.argv.slice(2);
const ort = require(ortDir);
const fs = require('fs');
(async () => {
  const bytes = fs.readFileSync(inputPath);
  const x = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const shape = dims.split(',').map(Number);
  const typed = { float32: a => a, uint8: a => Uint8Array.from(a), int8: a => Int8Array.from(a) }[inputType];
  if (!typed) throw new Error(`unknown input type ${inputType}`);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor(inputType, typed(x), shape) });
  const y = Float32Array.from(out[session.outputNames[0]].data);
  fs.writeFileSync(outputPath, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
})().catch(e => { console.error(String(e)); process.exit(1); });
