using BenchmarkDotNet.Attributes;
using Kernels.Core;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Quantized;

namespace Kernels.Benchmarks;

/// <summary>
/// The int8 convolution layer (<see cref="QuantizedConvolutions.Create"/>, its own algorithm choice) against our fp32
/// layer (<see cref="Convolutions.Create"/> with Auto) on every distinct convolution layer of the networks
/// (<see cref="ConvLayerSelection.Layers"/>; KERNELS_BENCH_LAYERS selects fewer), 1 thread, random data,
/// requantization included: the per-layer ratio behind issue 5's "int8 ≤ 0.5x fp32" target.
/// </summary>
[Config(typeof(GemmBenchmarkConfig))]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class QuantizedConvolutionLayerBenchmarks
{
    private ConvolutionKernel? _fp32;
    private QuantizedConvolution? _int8;
    private float[] _input = [];
    private float[] _output = [];
    private byte[] _inputQ = [];
    private byte[] _outputQ = [];

    [ParamsSource(nameof(Layers))]
    public ConvLayer Layer { get; set; } = null!;

    public static IEnumerable<ConvLayer> Layers => ConvLayerSelection.Layers;

    [GlobalSetup]
    public void GlobalSetup()
    {
        var d = Layer.Descriptor;
        (_input, float[] weights, float[] bias) = ConvLayerSelection.RandomTensors(d);
        _output = new float[d.OutputLength];
        _fp32 = Convolutions.Create(d, weights, bias);
        var input = QuantizationParameters.FromRange(_input.Min(), _input.Max());
        _inputQ = _input.Select(v => (byte)input.Quantize(v)).ToArray();
        _outputQ = new byte[d.OutputLength];

        // An output range that keeps every channel's requantization scale below 1 (what calibration would give within a few x).
        float range = weights.Select(Math.Abs).Max() * input.Scale * 255f * d.ReductionLength / 8f;
        _int8 = QuantizedConvolutions.Create(d, weights, bias, input, QuantizationParameters.FromRange(-range, range));
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _fp32?.Dispose();
        _int8?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Kernels fp32 layer (Auto)")]
    public void Fp32() => _fp32!.Run(_input, _output);

    [Benchmark(Description = "Kernels int8 layer")]
    public void Int8() => _int8!.Run(_inputQ, _outputQ);
}
