using Kernels.Cpu.Layers;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// A fully connected layer on the device (opencl/fully_connected.cl), the layer <see cref="FullyConnected"/> runs
/// on the CPU: y[b, n] = act(bias[n] + Σ_k x[b, k]·W[n, k]). The [N][K] weights are packed once, here, into blocks
/// of 4 outputs k-major; batch 1 runs the GEMV kernel, a larger batch the 4 outputs × 4 rows kernel. Output rows
/// may be a slice of a wider tensor (<see cref="FullyConnectedDescriptor.OutputStride"/> and an output offset).
/// </summary>
public sealed class DeviceFullyConnected : IDisposable
{
    /// <summary>Outputs per work-item (the float4 of the kernels).</summary>
    public const int OutputBlock = 4;

    private const int RowBlock = 4;
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;
    private readonly DeviceBuffer _weights;
    private readonly DeviceBuffer _bias;
    private readonly int _blocks;

    /// <param name="context">The device.</param>
    /// <param name="descriptor">The layer; validated here.</param>
    /// <param name="weights">OutputChannels·InputChannels floats, [N][K].</param>
    /// <param name="bias">OutputChannels floats, or empty for none.</param>
    /// <param name="precision">Storage on the device (opencl/precision.h); the weights and bias are converted here.</param>
    public DeviceFullyConnected(OpenCLContext context, FullyConnectedDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        if (weights.Length != descriptor.WeightsLength)
        {
            throw new ArgumentException($"Expected {descriptor.WeightsLength} weights for {descriptor}, got {weights.Length}.", nameof(weights));
        }

        if (!bias.IsEmpty && bias.Length != descriptor.OutputChannels)
        {
            throw new ArgumentException($"Expected {descriptor.OutputChannels} biases for {descriptor}, got {bias.Length}.", nameof(bias));
        }

        _context = context;
        Precision = precision;
        Descriptor = descriptor;
        _blocks = (descriptor.OutputChannels + OutputBlock - 1) / OutputBlock;
        (float[] packedWeights, float[] packedBias) = Pack(descriptor, weights, bias, _blocks);
        _kernel = context.GetProgram("fully_connected", precision).CreateKernel(descriptor.Batch == 1 ? "fully_connected_gemv_4" : "fully_connected_4x4");
        _weights = DevicePrecisions.Upload(context, packedWeights, precision);
        _bias = DevicePrecisions.Upload(context, packedBias, precision);
    }

    public FullyConnectedDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <summary>The OpenCL kernel function it runs.</summary>
    public string KernelName => _kernel.Name;

    /// <summary>The NDRange: output blocks (× quads of rows for a batch above 1).</summary>
    public WorkSize GlobalSize => Descriptor.Batch == 1 ? new(_blocks) : new(_blocks, (Descriptor.Batch + RowBlock - 1) / RowBlock);

    /// <summary>
    /// Enqueues the layer on <paramref name="input"/> (<see cref="FullyConnectedDescriptor.InputLength"/> floats) into
    /// <paramref name="output"/> from float <paramref name="outputOffset"/> on. Returns the kernel's device time in ms
    /// when <paramref name="profile"/>.
    /// </summary>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        FullyConnectedDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, _kernel.Name, _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, _kernel.Name, _context, nameof(output), Precision);
        OperatorChecks.NotInPlace(input, output, _kernel.Name, _context);
        (int act, float slope) = ActivationCode.Of(d.Activation);
        int i = 0;
        _kernel.SetArgument(i++, input);
        _kernel.SetArgument(i++, _weights);
        _kernel.SetArgument(i++, _bias);
        _kernel.SetArgument(i++, output);
        i = d.Batch == 1
            ? _kernel.SetArguments(i, d.InputChannels, d.OutputChannels, outputOffset, _blocks, act)
            : _kernel.SetArguments(i, d.InputChannels, d.OutputChannels, d.EffectiveOutputStride, outputOffset, _blocks, d.Batch, act);

        _kernel.SetArgument(i, slope);
        WorkSize global = GlobalSize;
        WorkSize local = _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, new WorkSize(Math.Min(global.X, 16), Math.Min(global.Y, 2)));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose()
    {
        _kernel.Dispose();
        _weights.Dispose();
        _bias.Dispose();
    }

    /// <summary>[N][K] → [block][k][4 outputs], zeros past the last output; bias → [block][4].</summary>
    internal static (float[] Weights, float[] Bias) Pack(FullyConnectedDescriptor d, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int blocks)
    {
        int k = d.InputChannels, n = d.OutputChannels;
        var packed = new float[(long)blocks * k * OutputBlock];
        var packedBias = new float[blocks * OutputBlock];
        for (int j = 0; j < n; j++)
        {
            long blockBase = (long)(j / OutputBlock) * k * OutputBlock;
            int lane = j % OutputBlock;
            packedBias[j] = bias.IsEmpty ? 0f : bias[j];
            ReadOnlySpan<float> row = weights.Slice(j * k, k);
            for (int i = 0; i < k; i++)
            {
                packed[blockBase + ((long)i * OutputBlock) + lane] = row[i];
            }
        }

        return (packed, packedBias);
    }
}
