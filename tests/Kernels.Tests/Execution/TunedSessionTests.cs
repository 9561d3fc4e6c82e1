using Kernels.Cpu.Convolution;
using Kernels.Graph.Execution;
using Kernels.Graph.Zoo;
using Xunit;

namespace Kernels.Tests.Execution;

/// <summary>A session whose convolution algorithms were chosen by measurement (<see cref="InferenceOptions.Tuner"/>).</summary>
public sealed class TunedSessionTests
{
    [Fact]
    public void TunedSessionMeasuresEachConvolutionShapeOnceAndComputesTheSameNetwork()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kernels-tuned-" + Guid.NewGuid().ToString("N"));
        try
        {
            var tuner = new ConvolutionTuner(Path.Combine(dir, "conv.json"), machine: "test");
            var graph = ModelZoo.Create("squeezenet");
            using var tuned = InferenceSession.Create(graph, new InferenceOptions { Tuner = tuner });
            using var plain = InferenceSession.Create(graph, new InferenceOptions());

            // One measurement per distinct convolution shape (fire modules repeat shapes), cached in the file.
            int shapes = graph.Nodes.Where(static n => n.Kind == Kernels.Graph.OperatorKind.Conv)
                .Select(static n => n.Attributes!.ToString()).Distinct().Count();
            Assert.Equal(shapes, tuner.Count);
            Assert.Equal(shapes, new ConvolutionTuner(Path.Combine(dir, "conv.json"), machine: "test").Count);

            var input = TestData.RandomFloats(new Random(4), (int)tuned.InputShape.ElementCount);
            float[] a = tuned.Run(input), b = plain.Run(input);
            double diff = 0, norm = 0;
            for (int i = 0; i < a.Length; i++)
            {
                diff += (double)(a[i] - b[i]) * (a[i] - b[i]);
                norm += (double)b[i] * b[i];
            }

            Assert.True(Math.Sqrt(diff / norm) <= 1e-4, $"relative L2 {Math.Sqrt(diff / norm):E2}");
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
