// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node) on one float32 input and writes its first output.
// Usage: node tools/onnxruntime-run.js <onnxruntime-node dir> <model.onnx> <input.f32> <dim,dim,...> <output.f32>
// Tensors are raw little-endian float32 files. Used by the export tests to check that another runtime runs
// the models OnnxExporter writes (graph optimizations on: ONNX Runtime fuses QDQ pairs into QLinear operators).
const [ortDir, model, inputPath, dims, outputPath] = process.argv.slice(2);
const ort = require(ortDir);
const fs = require('fs');
(async () => {
  const bytes = fs.readFileSync(inputPath);
  const x = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const shape = dims.split(',').map(Number);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) });
  const y = out[session.outputNames[0]].data;
  fs.writeFileSync(outputPath, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
})().catch(e => { console.error(String(e)); process.exit(1); });
