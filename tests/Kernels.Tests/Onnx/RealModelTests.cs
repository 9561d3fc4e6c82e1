using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Onnx;
using Kernels.Graph.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Kernels.Tests.Onnx;

/// <summary>
/// Real-weight ONNX models exported from TensorFlow (NHWC with Transpose pairs, channel padding by Concat with
/// ConstantOfShape, four outputs): imported, planned and run; every output against the float64 reference executor.
/// </summary>
public sealed class RealModelTests(ITestOutputHelper output)
{
    [BlazeFaceTheory]
    [InlineData("face_detection_front_128x128_barracuda.onnx")]
    [InlineData("face_detection_back_256x256_barracuda.onnx")]
    public void BlazeFaceMatchesTheReferenceOnEveryOutput(string file)
    {
        string path = Path.Combine(OptionalDependencies.ModelsDirectory, "blazeface", file);
        OnnxImportedModel model = OnnxImporter.LoadModel(path);
        Assert.Single(model.Inputs);
        Assert.Equal(4, model.Outputs.Count);

        // The NHWC image goes in as it is: the input's Transpose is folded into its layout, as is the one before each output.
        Assert.True(model.Inputs[0].IsOnnxOrder);
        Assert.All(model.Outputs, o => Assert.True(o.IsOnnxOrder));
        Assert.DoesNotContain(model.Graph.Nodes, n => n.Kind is OperatorKind.Pad or OperatorKind.Mul);

        var rng = new Random(5);
        float[] image = new float[model.Inputs[0].Value.Shape.ElementCount];
        for (int i = 0; i < image.Length; i++)
        {
            image[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        IReadOnlyDictionary<string, double[]> reference = ReferenceExecutor.RunAll(model.Graph, new Dictionary<string, float[]> { [model.Inputs[0].Value.Name] = image });
        using var session = InferenceSession.Create(model.Graph, new InferenceOptions());
        float[][] outputs = model.Outputs.Select(o => new float[o.Value.Shape.ElementCount]).ToArray();
        session.Run([image], outputs.Select(o => (Memory<float>)o).ToArray());
        for (int k = 0; k < outputs.Length; k++)
        {
            double[] expected = reference[model.Outputs[k].Value.Name];
            double num = 0, den = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                num += (outputs[k][i] - expected[i]) * (outputs[k][i] - expected[i]);
                den += expected[i] * expected[i];
            }

            double error = Math.Sqrt(num / den);
            output.WriteLine($"{file} output '{model.Outputs[k].OnnxName}' [{string.Join(", ", model.Outputs[k].OnnxDims)}]: relative L2 {error:E2}");
            Assert.True(error <= 1e-4, $"{file} output {k}: relative L2 error {error:E3}");
        }

        output.WriteLine($"{file}: {session.LayerCount} layers, {session.FoldedBatchNorms} folded, {session.InPlaceConcats} in-place concats, arena {session.ArenaBytes / 1024} KiB");
    }
}
