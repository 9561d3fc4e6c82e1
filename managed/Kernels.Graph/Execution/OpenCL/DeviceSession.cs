using System.Diagnostics;
using Kernels.Core;
using Kernels.OpenCL.Runtime;

namespace Kernels.Graph.Execution.OpenCL;

/// <summary>How a <see cref="DeviceSession"/> plans and runs.</summary>
public sealed record DeviceSessionOptions
{
    /// <summary>Fewer input channels than this run a 3x3 stride-1 convolution directly: the transforms would cost more than they save.</summary>
    public const int WinogradMinimumChannels = 16;

    /// <summary>Times every layer of every run by the queue's profiling events (each layer then waits for the device; see <see cref="DeviceSession.Profile"/>).</summary>
    public bool Profile { get; init; }

    /// <summary>Runs 3x3 stride-1 convolutions of at least <see cref="WinogradMinimumChannels"/> input channels by Winograd F(2x2, 3x3); false: all by the direct kernel.</summary>
    public bool Winograd { get; init; } = true;

    /// <summary>
    /// How tensors are stored on the device: Float32, or Float16 (half storage; half arithmetic in the convolutions,
    /// fully connected and add only where the device has cl_khr_fp16). The session converts weights when it plans and
    /// the inputs and outputs at each run; callers always pass floats.
    /// </summary>
    public DevicePrecision Precision { get; init; } = DevicePrecision.Float32;

    /// <summary>For a session that makes its own context: the program binary cache (default: the cache folder's opencl/programs).</summary>
    public ProgramCache? ProgramCache { get; init; }

    /// <summary>For a session that makes its own context: the local-work-size tuner (default: mode none, the cache folder's tuner file).</summary>
    public WorkSizeTuner? Tuner { get; init; }
}

/// <summary>
/// A network planned for one OpenCL device: every layer runs there, intermediate tensors stay in device buffers
/// (reused by liveness), and a run copies only the inputs to the device and the outputs back. Planning errors name
/// the node (<see cref="NotSupportedException"/> for an operator the device has no kernel for); OpenCL errors
/// (a failed build, CL_OUT_OF_RESOURCES, CL_MEM_OBJECT_ALLOCATION_FAILURE) surface as the
/// <see cref="Kernels.OpenCL.OpenCLException"/> naming the device and kernel. Not thread-safe: one run at a time.
/// </summary>
public sealed class DeviceSession : IDisposable
{
    private readonly OpenCLContext _context;
    private readonly bool _ownsContext;
    private readonly DeviceStep[] _steps;
    private readonly DeviceBuffer[] _inputs;
    private readonly DeviceBuffer[] _outputs;
    private readonly IReadOnlyList<IDisposable> _owned;
    private readonly bool _profile;
    private readonly double[] _milliseconds;

    // Float16: the half images of the inputs and outputs, converted at the borders without allocating per run.
    private readonly Half[][] _inputHalves;
    private readonly Half[][] _outputHalves;
    private long _profiledRuns;
    private bool _disposed;

    private DeviceSession(NetworkGraph graph, OpenCLContext context, bool ownsContext, DeviceSessionOptions options)
    {
        long start = Stopwatch.GetTimestamp();
        DevicePlan plan = DevicePlanner.Build(graph, context, options);
        PlanBuildTime = Stopwatch.GetElapsedTime(start);
        _context = context;
        _ownsContext = ownsContext;
        _steps = plan.Steps;
        _inputs = plan.Inputs;
        _outputs = plan.Outputs;
        _owned = plan.Owned;
        _profile = options.Profile;
        _milliseconds = new double[_steps.Length];
        Precision = options.Precision;
        bool half = Precision == DevicePrecision.Float16;
        _inputHalves = graph.Inputs.Select(v => half ? new Half[v.Shape.ElementCount] : []).ToArray();
        _outputHalves = graph.Outputs.Select(v => half ? new Half[v.Shape.ElementCount] : []).ToArray();
        Name = graph.Name;
        InputShapes = graph.Inputs.Select(v => v.Shape).ToArray();
        OutputShapes = graph.Outputs.Select(v => v.Shape).ToArray();
        InputNames = graph.Inputs.Select(v => v.Name).ToArray();
        OutputNames = graph.Outputs.Select(v => v.Name).ToArray();
        IntermediateBytes = plan.IntermediateBytes;
        TotalIntermediateBytes = plan.TotalIntermediateBytes;
        IntermediateBuffers = plan.IntermediateBuffers;
        RemovedIdentities = plan.RemovedIdentities;
        FoldedBatchNorms = plan.FoldedBatchNorms;
        FusedActivations = plan.FusedActivations;
        InPlaceConcats = plan.InPlaceConcats;
        CopiedConcats = plan.CopiedConcats;
    }

    /// <summary>Plans <paramref name="graph"/> on an existing context, which the session uses but does not dispose.</summary>
    /// <exception cref="NotSupportedException">A node the device has no kernel for, or a tensor that is not float32 (named).</exception>
    /// <exception cref="ArgumentException">A layer a device operator rejects (the node is named).</exception>
    /// <exception cref="Kernels.OpenCL.OpenCLException">A program failed to build, or the device is out of memory or resources.</exception>
    public static DeviceSession Create(NetworkGraph graph, OpenCLContext context, DeviceSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(context);
        return new DeviceSession(graph, context, ownsContext: false, options ?? new DeviceSessionOptions());
    }

    /// <summary>Plans <paramref name="graph"/> on a new context on <paramref name="device"/> (with the options' program cache and tuner), which the session owns.</summary>
    /// <exception cref="NotSupportedException">A node the device has no kernel for, or a tensor that is not float32 (named).</exception>
    /// <exception cref="Kernels.OpenCL.OpenCLException">The context, a program build or an allocation failed.</exception>
    public static DeviceSession Create(NetworkGraph graph, OpenCLDevice device, DeviceSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(device);
        options ??= new DeviceSessionOptions();
        OpenCLContext context = OpenCLContext.Create(device, options.ProgramCache, options.Tuner);
        try
        {
            return new DeviceSession(graph, context, ownsContext: true, options);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The graph's name.</summary>
    public string Name { get; }

    /// <summary>The device every layer runs on.</summary>
    public OpenCLDevice Device => _context.Device;

    /// <summary>How the tensors are stored on the device (<see cref="DeviceSessionOptions.Precision"/>).</summary>
    public DevicePrecision Precision { get; }

    /// <summary>The context (its tuner holds the local sizes chosen while planning and running).</summary>
    public OpenCLContext Context => _context;

    /// <summary>Every input's NHWC shape, in the graph's order.</summary>
    public IReadOnlyList<TensorShape> InputShapes { get; }

    /// <summary>Every output's NHWC shape, in the graph's order.</summary>
    public IReadOnlyList<TensorShape> OutputShapes { get; }

    /// <summary>The graph's input value names, in order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The graph's output value names, in order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The first input's NHWC shape.</summary>
    public TensorShape InputShape => InputShapes[0];

    /// <summary>The first output's NHWC shape.</summary>
    public TensorShape OutputShape => OutputShapes[0];

    /// <summary>Time to plan: passes, weight packing and upload, program builds (or cache loads), buffer allocation.</summary>
    public TimeSpan PlanBuildTime { get; }

    /// <summary>Bytes of the device buffers that hold the intermediate tensors (reused by liveness).</summary>
    public long IntermediateBytes { get; }

    /// <summary>Bytes of all intermediate tensors if each had its own buffer.</summary>
    public long TotalIntermediateBytes { get; }

    /// <summary>Device buffers the intermediate tensors share.</summary>
    public int IntermediateBuffers { get; }

    /// <summary>Dropout, Flatten and Reshape nodes removed, and pads folded into convolutions.</summary>
    public int RemovedIdentities { get; }

    /// <summary>Batch normalizations and channel affines folded into convolutions.</summary>
    public int FoldedBatchNorms { get; }

    /// <summary>Activations fused into their producers.</summary>
    public int FusedActivations { get; }

    /// <summary>Concats whose inputs are written straight into the output's channel slices.</summary>
    public int InPlaceConcats { get; }

    /// <summary>Concats that copy their inputs on the device.</summary>
    public int CopiedConcats { get; }

    /// <summary>Executed layers.</summary>
    public int LayerCount => _steps.Length;

    /// <summary>The OpenCL kernel that runs every executed layer, in order.</summary>
    public IReadOnlyList<(string Name, string Operator, string Algorithm)> Layers =>
        _steps.Select(s => (s.Info.Name, s.Info.Operator, s.Info.Algorithm)).ToArray();

    /// <summary>Per-layer mean device times (profiling events, kernels only) over all runs so far; empty unless <see cref="DeviceSessionOptions.Profile"/>.</summary>
    public IReadOnlyList<LayerProfile> Profile
    {
        get
        {
            if (!_profile || _profiledRuns == 0)
            {
                return [];
            }

            return _steps.Select((s, i) =>
            {
                double ms = _milliseconds[i] / _profiledRuns;
                return new LayerProfile(s.Info.Name, s.Info.Operator, s.Info.InputShape, s.Info.OutputShape, s.Info.Algorithm, ms, ms > 0 ? s.Info.Flops / (ms * 1e6) : 0);
            }).ToArray();
        }
    }

    /// <summary>Clears the profile's accumulated times (to leave warm-up runs out).</summary>
    public void ResetProfile()
    {
        Array.Clear(_milliseconds);
        _profiledRuns = 0;
    }

    /// <summary>Runs a network of one input and one output: copies the input to the device, runs every layer there, copies the output back.</summary>
    /// <exception cref="ArgumentException">The input or output does not have the network's element count (both are stated).</exception>
    /// <exception cref="InvalidOperationException">The network has more than one input or output (use the list overload).</exception>
    /// <exception cref="Kernels.OpenCL.OpenCLException">An enqueue or transfer failed (device and kernel named).</exception>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (InputShapes.Count != 1 || OutputShapes.Count != 1)
        {
            throw new InvalidOperationException($"Network '{Name}' has {InputShapes.Count} inputs and {OutputShapes.Count} outputs; pass them all with Run(inputs, outputs).");
        }

        CheckLength(input.Length, 0, input: true);
        CheckLength(output.Length, 0, input: false);
        WriteInput(0, input);
        RunSteps();
        ReadOutput(0, output);
    }

    /// <summary>Runs the network on all its inputs (NHWC, in <see cref="InputNames"/> order) into all its outputs.</summary>
    /// <exception cref="ArgumentException">A wrong number of inputs or outputs, or one of the wrong length (expected and given are stated).</exception>
    /// <exception cref="Kernels.OpenCL.OpenCLException">An enqueue or transfer failed (device and kernel named).</exception>
    public void Run(ReadOnlySpan<ReadOnlyMemory<float>> inputs, ReadOnlySpan<Memory<float>> outputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (inputs.Length != InputShapes.Count || outputs.Length != OutputShapes.Count)
        {
            throw new ArgumentException(
                $"Network '{Name}' has {InputShapes.Count} inputs and {OutputShapes.Count} outputs; {inputs.Length} and {outputs.Length} were given.",
                inputs.Length != InputShapes.Count ? nameof(inputs) : nameof(outputs));
        }

        for (int i = 0; i < inputs.Length; i++)
        {
            CheckLength(inputs[i].Length, i, input: true);
        }

        for (int k = 0; k < outputs.Length; k++)
        {
            CheckLength(outputs[k].Length, k, input: false);
        }

        for (int i = 0; i < inputs.Length; i++)
        {
            WriteInput(i, inputs[i].Span);
        }

        RunSteps();
        for (int k = 0; k < outputs.Length; k++)
        {
            ReadOutput(k, outputs[k].Span);
        }
    }

    /// <summary>Runs the network on a tensor of the input's shape, into a new output array.</summary>
    public float[] Run(ReadOnlySpan<float> input)
    {
        var output = new float[OutputShape.ElementCount];
        Run(input, output);
        return output;
    }

    /// <summary>Releases the device buffers, kernels and packed weights (and the context when the session made it).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (DeviceStep s in _steps)
        {
            s.Dispose();
        }

        foreach (IDisposable o in _owned)
        {
            o.Dispose();
        }

        if (_ownsContext)
        {
            _context.Dispose();
        }
    }

    private void RunSteps()
    {
        if (!_profile)
        {
            foreach (DeviceStep step in _steps)
            {
                step.Run(profile: false);
            }

            return;
        }

        for (int i = 0; i < _steps.Length; i++)
        {
            _milliseconds[i] += _steps[i].Run(profile: true);
        }

        _profiledRuns++;
    }

    private void WriteInput(int index, ReadOnlySpan<float> values)
    {
        if (Precision == DevicePrecision.Float32)
        {
            _inputs[index].Write(values);
            return;
        }

        Half[] halves = _inputHalves[index];
        for (int i = 0; i < halves.Length; i++)
        {
            halves[i] = (Half)values[i];
        }

        _inputs[index].Write<Half>(halves);
    }

    private void ReadOutput(int index, Span<float> values)
    {
        if (Precision == DevicePrecision.Float32)
        {
            _outputs[index].Read(values);
            return;
        }

        Half[] halves = _outputHalves[index];
        _outputs[index].Read<Half>(halves);
        for (int i = 0; i < halves.Length; i++)
        {
            values[i] = (float)halves[i];
        }
    }

    private void CheckLength(int length, int index, bool input)
    {
        TensorShape shape = input ? InputShapes[index] : OutputShapes[index];
        if (length != shape.ElementCount)
        {
            string name = input ? InputNames[index] : OutputNames[index];
            throw new ArgumentException(
                $"Network '{Name}': {(input ? "input" : "output")} '{name}' must be {shape} ({shape.ElementCount} floats); {length} floats were given.",
                input ? "input" : "output");
        }
    }
}
