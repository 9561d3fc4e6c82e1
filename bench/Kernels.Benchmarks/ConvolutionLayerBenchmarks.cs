using BenchmarkDotNet.Attributes;
using Kernels.Baselines;
using Kernels.Cpu.Convolution;

namespace Kernels.Benchmarks;

/// <summary>One benchmark case: a network layer and what runs it (one of our algorithms, or a oneDNN algorithm kind).</summary>
/// <param name="Implementation">im2col, 1x1, winograd-f2, ... or onednn-auto, onednn-direct, onednn-winograd.</param>
public sealed record ConvCase(ConvLayer Layer, string Implementation)
{
    public double Flops => Layer.Descriptor.Flops;

    // BenchmarkDotNet shows parameters by ToString.
    public override string ToString() => $"{Layer} [{Implementation}]";
}

/// <summary>
/// Every distinct convolution layer of the networks (<see cref="NetworkConvShapes.Distinct"/>) × every registered
/// algorithm that applies to it, 1 thread, our best ISA variant, random data. Set KERNELS_BENCH_LAYERS to
/// comma-separated parts of layer keys (e.g. "resnet50.res2a_branch2b,mobilenet_v1.conv2_1/dw") to run fewer.
/// The oneDNN baseline for the same layers is <see cref="ConvolutionLayerOneDnnBenchmarks"/>.
/// </summary>
[Config(typeof(GemmBenchmarkConfig))]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class ConvolutionLayerBenchmarks
{
    private ConvolutionKernel? _kernel;
    private float[] _input = [];
    private float[] _output = [];

    [ParamsSource(nameof(Cases))]
    public ConvCase Case { get; set; } = null!;

    public static IEnumerable<ConvCase> Cases =>
        ConvLayerSelection.Layers.SelectMany(layer => Convolutions.ApplicableAlgorithms(layer.Descriptor).Select(a => new ConvCase(layer, a.ToName())));

    [GlobalSetup]
    public void GlobalSetup()
    {
        var d = Case.Layer.Descriptor;
        var algorithm = ConvolutionAlgorithmNames.Parse(Case.Implementation).Single();
        (_input, float[] weights, float[] bias) = ConvLayerSelection.RandomTensors(d);
        _output = new float[d.OutputLength];
        _kernel = Convolutions.Create(d, weights, bias, algorithm);
    }

    [GlobalCleanup]
    public void GlobalCleanup() => _kernel?.Dispose();

    [Benchmark(Description = "Kernels")]
    public void Ours() => _kernel!.Run(_input, _output);
}

/// <summary>
/// oneDNN 2.x on the same layers as <see cref="ConvolutionLayerBenchmarks"/>, 1 OpenMP thread, each of its
/// algorithm kinds (auto, direct, Winograd) that has an implementation for the layer. Where oneDNN runs a kind
/// in its own blocked layout (its Winograd), the time is the convolution alone, without the reorders from and
/// to NHWC (<c>kernels bench conv</c> reports both). Empty when oneDNN is not installed.
/// </summary>
[Config(typeof(GemmBenchmarkConfig))]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class ConvolutionLayerOneDnnBenchmarks
{
    private OneDnnConvolution? _convolution;
    private float[] _input = [];
    private float[] _output = [];

    [ParamsSource(nameof(Cases))]
    public ConvCase Case { get; set; } = null!;

    public static IEnumerable<ConvCase> Cases => Baselines.OneDnn.IsAvailable
        ? ConvLayerSelection.Layers.SelectMany(layer => Enum.GetValues<OneDnnConvolutionAlgorithm>()
            .Where(kind => kind != OneDnnConvolutionAlgorithm.Winograd || MayHaveWinograd(layer))
            .Select(kind => new ConvCase(layer, $"onednn-{OneDnnConvolution.NameOf(kind)}")))
        : [];

    [GlobalSetup]
    public void GlobalSetup()
    {
        var d = Case.Layer.Descriptor;
        var kind = Enum.GetValues<OneDnnConvolutionAlgorithm>().Single(k => $"onednn-{OneDnnConvolution.NameOf(k)}" == Case.Implementation);
        (_input, float[] weights, float[] bias) = ConvLayerSelection.RandomTensors(d);
        _output = new float[d.OutputLength];
        _convolution = OneDnnConvolution.Create(d, weights, bias, kind, threads: 1);
        _convolution.Run(_input, _output);
    }

    [GlobalCleanup]
    public void GlobalCleanup() => _convolution?.Dispose();

    [Benchmark(Description = "oneDNN")]
    public void OneDnnBaseline()
    {
        if (_convolution!.UsesReorders)
        {
            _convolution.RunConvolutionOnly();
        }
        else
        {
            _convolution.Run(_input, _output);
        }
    }

    /// <summary>oneDNN's Winograd is 3x3 stride 1, ungrouped, on AVX-512 only: ask it once for such layers.</summary>
    private static bool MayHaveWinograd(ConvLayer layer)
    {
        var d = layer.Descriptor;
        if (d.KernelHeight != 3 || d.KernelWidth != 3 || d.StrideHeight != 1 || d.StrideWidth != 1 || d.Groups != 1)
        {
            return false;
        }

        try
        {
            using var probe = OneDnnConvolution.Create(d, new float[d.WeightsLength], algorithm: OneDnnConvolutionAlgorithm.Winograd);
            return true;
        }
        catch (NotSupportedException)
        {
            return false;
        }
    }
}

/// <summary>The layers the convolution benchmarks run (all distinct ones, or those KERNELS_BENCH_LAYERS names) and their data.</summary>
internal static class ConvLayerSelection
{
    public static IReadOnlyList<ConvLayer> Layers { get; } = Select(Environment.GetEnvironmentVariable("KERNELS_BENCH_LAYERS"));

    private static IReadOnlyList<ConvLayer> Select(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return NetworkConvShapes.Distinct;
        }

        string[] parts = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return NetworkConvShapes.Distinct.Where(l => parts.Any(p => l.Key.Contains(p, StringComparison.OrdinalIgnoreCase))).ToArray();
    }

    public static (float[] Input, float[] Weights, float[] Bias) RandomTensors(Kernels.Core.Conv2DDescriptor d)
    {
        var random = new Random(d.GetHashCode());
        return (Fill(random, d.InputLength), Fill(random, d.WeightsLength), Fill(random, d.OutputChannels));
    }

    private static float[] Fill(Random random, long length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (random.NextSingle() * 2) - 1;
        }

        return values;
    }
}
