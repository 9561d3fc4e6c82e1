using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;

namespace Kernels.Graph.Execution;

/// <summary>How an <see cref="InferenceSession"/> runs.</summary>
public sealed record InferenceOptions
{
    /// <summary>Worker threads; 1 runs every layer on the calling thread. Ignored when <see cref="Workers"/> is set.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// An existing worker group (for example one pinned to a CPU cluster with <see cref="WorkerGroup.ForCluster"/>);
    /// the session uses it but does not dispose it. Null: the session makes its own group of <see cref="Threads"/>.
    /// </summary>
    public WorkerGroup? Workers { get; init; }

    /// <summary>
    /// The CPU cluster (<see cref="Kernels.Core.Topology.CpuCluster.Id"/> of <see cref="Kernels.Core.Topology.CpuTopology.Detect"/>) whose cores the
    /// session's own worker group is pinned to; <see cref="Threads"/> counts threads there. The calling thread is worker 0:
    /// pin it to the cluster too (<see cref="ThreadAffinity.TryPinCurrentThread"/>). Ignored when <see cref="Workers"/> is set.
    /// </summary>
    public int? Cluster { get; init; }

    /// <summary>
    /// Runs the layers that have 8-bit kernels on uint8 tensors with these parameters (from <see cref="Quantization.Calibrator"/>,
    /// keyed by value name); only the conversions at the borders of the 8-bit regions (the network input, float-only
    /// layers such as LRN and softmax, the outputs) change precision. Null: everything in float32.
    /// </summary>
    public Quantization.QuantizationTable? Quantization { get; init; }

    /// <summary>With <see cref="Quantization"/>: names of nodes kept in float32 (a tuning plan's choice).</summary>
    public IReadOnlySet<string>? FloatLayers { get; init; }

    /// <summary>The kernel variant; null for <see cref="KernelIsas.Best"/>.</summary>
    public KernelIsa? Isa { get; init; }

    /// <summary>Times every layer of every run (see <see cref="InferenceSession.Profile"/>).</summary>
    public bool Profile { get; init; }

    /// <summary>
    /// Chooses each convolution's algorithm by measuring the candidates on this machine, with the session's threads
    /// (each layer shape once; the tuner caches the answers per machine), instead of the cost heuristic. Null: the heuristic.
    /// </summary>
    public ConvolutionTuner? Tuner { get; init; }
}

/// <summary>One layer of a profiled session: what ran and how long it took on average.</summary>
/// <param name="Name">The node (with any nodes fused into it, in <paramref name="Operator"/>).</param>
/// <param name="Operator">The operator, with the fused ones appended after '+'.</param>
/// <param name="InputShape">The first input's shape.</param>
/// <param name="OutputShape">The output's shape.</param>
/// <param name="Algorithm">The kernel that ran it.</param>
/// <param name="Milliseconds">Mean time per run.</param>
/// <param name="Gflops">Floating-point rate (work estimate over the mean time).</param>
public sealed record LayerProfile(string Name, string Operator, TensorShape InputShape, TensorShape OutputShape, string Algorithm, double Milliseconds, double Gflops)
{
    /// <summary>The layer ran on 8-bit tensors (or is a quantize/dequantize conversion).</summary>
    public bool Quantized { get; init; }

    /// <summary>For a quantize step: values clamped at the ends of the 8-bit range since the session was created.</summary>
    public long SaturatedValues { get; init; }

    /// <summary>A conversion between float and 8-bit tensors (its time is the 8-bit path's overhead).</summary>
    public bool IsConversion => Operator is "Quantize" or "Dequantize";
}

/// <summary>
/// A planned network ready to run: passes applied, weights packed, every intermediate tensor placed in one
/// arena. After the first run, <see cref="Run"/> allocates nothing on the managed heap. Not thread-safe: one run
/// at a time per session (the arena is shared by all runs).
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly ExecutionStep[] _steps;
    private readonly WorkerGroup? _workers;
    private readonly bool _ownsWorkers;
    private readonly bool _profile;
    private readonly long[] _ticks;
    private readonly MemoryHandle[] _pins;
    private byte* _arena;
    private float** _inputs;
    private float** _outputs;
    private long _profiledRuns;

    private InferenceSession(NetworkGraph graph, InferenceOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Threads, 1, nameof(options.Threads));
        int threads = options.Workers?.ThreadCount ?? options.Threads;
        KernelIsa isa = options.Isa ?? KernelIsas.Best;
        isa.EnsureExecutable(nameof(options.Isa));
        long start = Stopwatch.GetTimestamp();

        // The group exists before planning so a tuner measures the candidates on the threads that will run them.
        Kernels.Core.Topology.CpuCluster? cluster = null;
        if (options.Workers is null && options.Cluster is int id)
        {
            var clusters = Kernels.Core.Topology.CpuTopology.Detect().Clusters;
            cluster = clusters.FirstOrDefault(c => c.Id == id)
                ?? throw new ArgumentException($"No CPU cluster {id}; this machine has {string.Join(", ", clusters.Select(c => $"{c.Id} ({c.Cores.Count} cores)"))}.", nameof(options));
            if (threads > cluster.Cores.Count)
            {
                throw new ArgumentException($"{threads} threads on CPU cluster {id}, which has {cluster.Cores.Count} cores.", nameof(options));
            }
        }

        _ownsWorkers = options.Workers is null && (threads > 1 || cluster is not null);
        _workers = options.Workers ?? (cluster is not null ? WorkerGroup.ForCluster(cluster, threads) : _ownsWorkers ? new WorkerGroup(threads) : null);
        ExecutionPlan plan;
        try
        {
            ConvolutionTuner? tuner = options.Tuner;
            WorkerGroup? workers = _workers;
            if (options.Quantization is { Equalization.Count: > 0 } table)
            {
                graph = Quantization.ChannelEqualization.Apply(graph, table.Equalization);
            }

            plan = ExecutionPlanner.Build(
                graph, isa, threads, tuner is null ? null : d => tuner.Choose(d, isa, workers).Algorithm, options.Quantization, options.FloatLayers);
        }
        catch
        {
            if (_ownsWorkers)
            {
                _workers!.Dispose();
            }

            throw;
        }

        _steps = plan.Steps;
        PlanBuildTime = Stopwatch.GetElapsedTime(start);
        Name = graph.Name;
        InputShapes = graph.Inputs.Select(v => v.Shape).ToArray();
        OutputShapes = graph.Outputs.Select(v => v.Shape).ToArray();
        InputNames = graph.Inputs.Select(v => v.Name).ToArray();
        OutputNames = graph.Outputs.Select(v => v.Name).ToArray();
        InputShape = InputShapes[0];
        OutputShape = OutputShapes[0];
        ArenaBytes = plan.ArenaBytes;
        TotalIntermediateBytes = plan.TotalIntermediateBytes;
        RemovedIdentities = plan.RemovedIdentities;
        FoldedBatchNorms = plan.FoldedBatchNorms;
        FusedActivations = plan.FusedActivations;
        InPlaceConcats = plan.InPlaceConcats;
        CopiedConcats = plan.CopiedConcats;
        QuantizedLayers = plan.QuantizedLayers;
        _profile = options.Profile;
        _ticks = new long[_steps.Length];
        _arena = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(ArenaBytes, 64), 64);
        _inputs = (float**)NativeMemory.AllocZeroed((nuint)InputShapes.Count, (nuint)sizeof(float*));
        _outputs = (float**)NativeMemory.AllocZeroed((nuint)OutputShapes.Count, (nuint)sizeof(float*));
        _pins = new MemoryHandle[InputShapes.Count + OutputShapes.Count];
        Threads = threads;
    }

    /// <summary>Plans a graph.</summary>
    /// <exception cref="NotSupportedException">An operator or data type the executor cannot run (the node is named).</exception>
    /// <exception cref="ArgumentException">A layer the kernels reject (the node is named), or bad options.</exception>
    public static InferenceSession Create(NetworkGraph graph, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        return new InferenceSession(graph, options);
    }

    /// <summary>Imports an ONNX file and plans it (<see cref="Onnx.OnnxImporter.LoadModel"/> gives the layouts of its inputs and outputs).</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">A node the importer or the executor cannot run (named).</exception>
    public static InferenceSession FromOnnx(string path, InferenceOptions? options = null) =>
        Create(Onnx.OnnxImporter.Load(path), options ?? new InferenceOptions());

    /// <summary>Plans one of the <see cref="Zoo.ModelZoo"/> networks (default seed, batch 1).</summary>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static InferenceSession FromZoo(string name, InferenceOptions? options = null) =>
        Create(Zoo.ModelZoo.Create(name), options ?? new InferenceOptions());

    /// <summary>The graph's name.</summary>
    public string Name { get; }

    /// <summary>Threads the layers run on (the worker group's size, or 1).</summary>
    public int Threads { get; }

    /// <summary>The first input's NHWC shape.</summary>
    public TensorShape InputShape { get; }

    /// <summary>The first output's NHWC shape.</summary>
    public TensorShape OutputShape { get; }

    /// <summary>Every input's NHWC shape, in the graph's order.</summary>
    public IReadOnlyList<TensorShape> InputShapes { get; }

    /// <summary>Every output's NHWC shape, in the graph's order.</summary>
    public IReadOnlyList<TensorShape> OutputShapes { get; }

    /// <summary>The graph's input value names, in order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The graph's output value names, in order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Bytes of the arena that holds every intermediate tensor.</summary>
    public long ArenaBytes { get; }

    /// <summary>Bytes of all intermediate tensors (after the passes) if each had its own buffer.</summary>
    public long TotalIntermediateBytes { get; }

    /// <summary>Time to plan: passes, algorithm choice, weight packing and the memory plan.</summary>
    public TimeSpan PlanBuildTime { get; }

    /// <summary>Dropout and Flatten nodes removed.</summary>
    public int RemovedIdentities { get; }

    /// <summary>Batch normalizations folded into convolutions.</summary>
    public int FoldedBatchNorms { get; }

    /// <summary>Activations fused into their producers.</summary>
    public int FusedActivations { get; }

    /// <summary>Concats whose inputs are written straight into the output's channel slices.</summary>
    public int InPlaceConcats { get; }

    /// <summary>Concats that copy their inputs.</summary>
    public int CopiedConcats { get; }

    /// <summary>Layers that run on 8-bit tensors (0 without <see cref="InferenceOptions.Quantization"/>).</summary>
    public int QuantizedLayers { get; }

    /// <summary>Executed layers.</summary>
    public int LayerCount => _steps.Length;

    /// <summary>The kernel (algorithm and ISA) chosen for every executed layer, in order.</summary>
    public IReadOnlyList<(string Name, string Operator, string Algorithm)> Layers =>
        _steps.Select(s => (s.Info.Name, s.Info.Operator, s.Info.Algorithm)).ToArray();

    /// <summary>Per-layer mean times over all runs so far; empty unless <see cref="InferenceOptions.Profile"/> was set.</summary>
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
                double ms = Stopwatch.GetElapsedTime(0, _ticks[i]).TotalMilliseconds / _profiledRuns;
                return new LayerProfile(s.Info.Name, s.Info.Operator, s.Info.InputShape, s.Info.OutputShape, s.Info.Algorithm, ms, ms > 0 ? s.Info.Flops / (ms * 1e6) : 0)
                {
                    Quantized = s.Info.Quantized,
                    SaturatedValues = s.SaturatedValues,
                };
            }).ToArray();
        }
    }

    /// <summary>Clears the profile's accumulated times (to leave warm-up runs out).</summary>
    public void ResetProfile()
    {
        Array.Clear(_ticks);
        _profiledRuns = 0;
    }

    /// <summary>Runs a network of one input and one output.</summary>
    /// <exception cref="ArgumentException">The input or output does not have the network's element count (both are stated).</exception>
    /// <exception cref="InvalidOperationException">The network has more than one input or output (use the list overload).</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        ObjectDisposedException.ThrowIf(_arena == null, this);
        if (InputShapes.Count != 1 || OutputShapes.Count != 1)
        {
            throw new InvalidOperationException($"Network '{Name}' has {InputShapes.Count} inputs and {OutputShapes.Count} outputs; pass them all with Run(inputs, outputs).");
        }

        CheckLength(input.Length, 0, input: true);
        CheckLength(output.Length, 0, input: false);
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            _inputs[0] = pi;
            _outputs[0] = po;
            RunSteps();
        }
    }

    /// <summary>Runs the network on all its inputs (NHWC, in <see cref="InputNames"/> order) into all its outputs.</summary>
    /// <exception cref="ArgumentException">A wrong number of inputs or outputs, or one of the wrong length (expected and given are stated).</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void Run(ReadOnlySpan<ReadOnlyMemory<float>> inputs, ReadOnlySpan<Memory<float>> outputs)
    {
        ObjectDisposedException.ThrowIf(_arena == null, this);
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

        int pinned = 0;
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                _pins[pinned] = inputs[i].Pin();
                _inputs[i] = (float*)_pins[pinned++].Pointer;
            }

            for (int k = 0; k < outputs.Length; k++)
            {
                _pins[pinned] = outputs[k].Pin();
                _outputs[k] = (float*)_pins[pinned++].Pointer;
            }

            RunSteps();
        }
        finally
        {
            for (int i = 0; i < pinned; i++)
            {
                _pins[i].Dispose();
                _pins[i] = default;
            }
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

    /// <summary>
    /// Runs once on all inputs, showing <paramref name="observer"/> every graph input and every value a step writes
    /// (float32 values: those of this float session), right after it is written. For calibration; allocates.
    /// </summary>
    internal void RunObserved(ReadOnlySpan<ReadOnlyMemory<float>> inputs, ITensorObserver observer)
    {
        ObjectDisposedException.ThrowIf(_arena == null, this);
        var outputs = OutputShapes.Select(s => (Memory<float>)new float[s.ElementCount]).ToArray();
        if (inputs.Length != InputShapes.Count)
        {
            throw new ArgumentException($"Network '{Name}' has {InputShapes.Count} inputs; {inputs.Length} were given.", nameof(inputs));
        }

        var pins = new MemoryHandle[inputs.Length + outputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                CheckLength(inputs[i].Length, i, input: true);
                pins[i] = inputs[i].Pin();
                _inputs[i] = (float*)pins[i].Pointer;
                observer.Observe(InputNames[i], InputShapes[i], _inputs[i], InputShapes[i].C);
            }

            for (int k = 0; k < outputs.Length; k++)
            {
                pins[inputs.Length + k] = outputs[k].Pin();
                _outputs[k] = (float*)pins[inputs.Length + k].Pointer;
            }

            var buffers = new RunBuffers(_arena, _inputs, _outputs);
            foreach (ExecutionStep step in _steps)
            {
                step.Run(buffers, _workers);
                if (step.Output is { } value)
                {
                    observer.Observe(value.Name, value.Shape, buffers[step.OutputPlace.Place], step.OutputPlace.PixelStride);
                }

                foreach ((Value complete, TensorRef place) in step.Completes ?? [])
                {
                    observer.Observe(complete.Name, complete.Shape, buffers[place], complete.Shape.C);
                }
            }
        }
        finally
        {
            foreach (MemoryHandle pin in pins)
            {
                pin.Dispose();
            }
        }
    }

    /// <summary>Runs once, step by step, returning the bytes each step allocated on the calling thread (a diagnostic for tests).</summary>
    internal long[] AllocationsPerStep(ReadOnlySpan<float> input, Span<float> output)
    {
        var bytes = new long[_steps.Length];
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            _inputs[0] = pi;
            _outputs[0] = po;
            var buffers = new RunBuffers(_arena, _inputs, _outputs);
            for (int i = 0; i < _steps.Length; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                _steps[i].Run(buffers, _workers);
                bytes[i] = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }

        return bytes;
    }

    private void RunSteps()
    {
        var buffers = new RunBuffers(_arena, _inputs, _outputs);
        if (!_profile)
        {
            foreach (ExecutionStep step in _steps)
            {
                step.Run(buffers, _workers);
            }

            return;
        }

        long last = Stopwatch.GetTimestamp();
        for (int i = 0; i < _steps.Length; i++)
        {
            _steps[i].Run(buffers, _workers);
            long now = Stopwatch.GetTimestamp();
            _ticks[i] += now - last;
            last = now;
        }

        _profiledRuns++;
    }

    /// <summary>Runs the network on a tensor whose shape must be the input's, into a new output array.</summary>
    /// <exception cref="ArgumentException">The input has the wrong length.</exception>
    public float[] Run(ReadOnlySpan<float> input)
    {
        var output = new float[OutputShape.ElementCount];
        Run(input, output);
        return output;
    }

    /// <summary>Frees the arena, the packed weights and the worker threads.</summary>
    public void Dispose()
    {
        if (_arena == null)
        {
            return;
        }

        foreach (ExecutionStep s in _steps)
        {
            s.Dispose();
        }

        if (_ownsWorkers)
        {
            _workers!.Dispose();
        }

        NativeMemory.AlignedFree(_arena);
        NativeMemory.Free(_inputs);
        NativeMemory.Free(_outputs);
        _arena = null;
        _inputs = null;
        _outputs = null;
    }
}

/// <summary>Sees the tensors of an observed run (<see cref="InferenceSession.RunObserved"/>).</summary>
internal unsafe interface ITensorObserver
{
    /// <summary>A value's data: N·H·W pixels of <paramref name="shape"/>.C floats, <paramref name="pixelStride"/> floats apart.</summary>
    void Observe(string value, TensorShape shape, float* data, int pixelStride);
}
