using System.Runtime.InteropServices;
using Kernels.Core;

namespace Kernels.Baselines;

/// <summary>oneDNN's convolution algorithm kinds (dnnl_convolution_*).</summary>
public enum OneDnnConvolutionAlgorithm
{
    /// <summary>dnnl_convolution_auto: oneDNN picks direct or Winograd.</summary>
    Auto,

    /// <summary>dnnl_convolution_direct (JIT direct or GEMM-based kernels, whichever oneDNN finds first).</summary>
    Direct,

    /// <summary>dnnl_convolution_winograd (3x3 stride 1 only, on some ISAs).</summary>
    Winograd,
}

/// <summary>
/// One fp32 convolution layer run by oneDNN 2.x on the same tensors as ours: NHWC input and output
/// (the output may have a pixel stride, like <see cref="Conv2DDescriptor.OutputPixelStride"/>), OHWI
/// weights with optional bias, stride, asymmetric padding, dilation, groups, and the fused activation
/// as an eltwise post-op. Weights are reordered once, at creation, into the layout oneDNN prefers.
/// <para>
/// When oneDNN has no implementation that reads and writes NHWC directly (its Winograd wants blocked
/// nChw16c), the layer runs in oneDNN's preferred layout with a reorder of the input before and of
/// the output after: <see cref="Run(ReadOnlySpan{float}, Span{float})"/> includes them (the cost for a
/// caller with NHWC tensors), <see cref="RunConvolutionOnly"/> leaves them out (a network that keeps
/// oneDNN's layout between layers). <see cref="Layout"/> says which case applies.
/// </para>
/// </summary>
public sealed unsafe class OneDnnConvolution : IDisposable
{
    private readonly nint _stream;
    private readonly nint _convolution;
    private readonly nint _inputReorder;
    private readonly nint _outputReorder;
    private readonly nint _userSource;
    private readonly nint _userDestination;
    private readonly nint _convSource;
    private readonly nint _convDestination;
    private readonly nint _weights;
    private readonly nint _bias;
    private bool _bound;
    private bool _disposed;

    private OneDnnConvolution(Conv2DDescriptor descriptor, OneDnnConvolutionAlgorithm algorithm, int threads, Setup setup)
    {
        Descriptor = descriptor;
        Algorithm = algorithm;
        Threads = threads;
        Implementation = setup.Implementation;
        Layout = setup.Layout;
        _stream = setup.Stream;
        _convolution = setup.Convolution;
        _inputReorder = setup.InputReorder;
        _outputReorder = setup.OutputReorder;
        _userSource = setup.UserSource;
        _userDestination = setup.UserDestination;
        _convSource = setup.ConvSource;
        _convDestination = setup.ConvDestination;
        _weights = setup.Weights;
        _bias = setup.Bias;
    }

    /// <summary>Releases oneDNN's objects if <see cref="Dispose"/> was not called.</summary>
    ~OneDnnConvolution() => Release();

    /// <summary>The layer.</summary>
    public Conv2DDescriptor Descriptor { get; }

    /// <summary>The algorithm kind requested.</summary>
    public OneDnnConvolutionAlgorithm Algorithm { get; }

    /// <summary>OpenMP threads set on the calling thread before creation and before every run.</summary>
    public int Threads { get; }

    /// <summary>oneDNN's implementation name (dnnl_query_impl_info_str), e.g. <c>jit:avx512_core</c> or <c>jit_wino_4x3:avx512_core</c>.</summary>
    public string Implementation { get; }

    /// <summary>"nhwc" when the convolution reads and writes NHWC directly, else "blocked": oneDNN's own layout, with reorders from and to NHWC around it.</summary>
    public string Layout { get; }

    /// <summary>True when the convolution runs in a oneDNN-chosen layout with reorders from and to NHWC.</summary>
    public bool UsesReorders => _inputReorder != 0;

    /// <summary>The oneDNN name of an algorithm (auto, direct, winograd).</summary>
    public static string NameOf(OneDnnConvolutionAlgorithm algorithm) => algorithm switch
    {
        OneDnnConvolutionAlgorithm.Auto => "auto",
        OneDnnConvolutionAlgorithm.Direct => "direct",
        OneDnnConvolutionAlgorithm.Winograd => "winograd",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown oneDNN algorithm."),
    };

    /// <summary>
    /// Checks the layer and its weights and bias, then creates the oneDNN primitive (with
    /// <paramref name="threads"/> OpenMP threads) and reorders the weights.
    /// </summary>
    /// <param name="descriptor">The layer (NHWC; batch, stride, padding, dilation, groups and activation are honoured).</param>
    /// <param name="weights">OHWI weights, <see cref="Conv2DDescriptor.WeightsLength"/> floats.</param>
    /// <param name="bias">Empty, or one float per output channel.</param>
    /// <param name="algorithm">oneDNN's algorithm kind.</param>
    /// <param name="threads">OpenMP threads oneDNN uses for this layer.</param>
    /// <exception cref="ArgumentException">Invalid layer, weights or bias.</exception>
    /// <exception cref="NotSupportedException">oneDNN has no implementation of <paramref name="algorithm"/> for this layer.</exception>
    /// <exception cref="InvalidOperationException">oneDNN is unavailable (<see cref="OneDnn.UnavailableReason"/>) or failed.</exception>
    public static OneDnnConvolution Create(
        Conv2DDescriptor descriptor,
        ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias = default,
        OneDnnConvolutionAlgorithm algorithm = OneDnnConvolutionAlgorithm.Auto,
        int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        if (weights.Length != descriptor.WeightsLength)
        {
            throw new ArgumentException(
                $"weights has {weights.Length} floats; the OHWI weights of {descriptor} have {descriptor.WeightsLength}.", nameof(weights));
        }

        if (!bias.IsEmpty && bias.Length != descriptor.OutputChannels)
        {
            throw new ArgumentException($"bias has {bias.Length} floats; it must be empty or have OutputChannels = {descriptor.OutputChannels}.", nameof(bias));
        }

        if (!Enum.IsDefined(algorithm))
        {
            throw new ArgumentException($"Unknown oneDNN algorithm {(int)algorithm}.", nameof(algorithm));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        OneDnn.ThrowIfUnavailable();
        OneDnn.SetThreads(threads);

        var setup = new Setup();
        try
        {
            fixed (float* pw = weights)
            fixed (float* pb = bias)
            {
                setup.Build(descriptor, pw, bias.IsEmpty ? null : pb, algorithm);
            }
        }
        catch
        {
            setup.Release();
            throw;
        }

        return new OneDnnConvolution(descriptor, algorithm, threads, setup);
    }

    /// <summary>Runs the layer from NHWC input to NHWC output (with the reorders when <see cref="UsesReorders"/>).</summary>
    /// <exception cref="ArgumentException">A span is shorter than the descriptor needs.</exception>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length < Descriptor.InputLength)
        {
            throw new ArgumentException($"input has {input.Length} floats; the layer {Descriptor} reads {Descriptor.InputLength}.", nameof(input));
        }

        if (output.Length < Descriptor.OutputLength)
        {
            throw new ArgumentException($"output has {output.Length} floats; the layer {Descriptor} writes {Descriptor.OutputLength}.", nameof(output));
        }

        fixed (float* pi = input)
        fixed (float* po = output)
        {
            Run(pi, po);
        }
    }

    /// <summary>Runs the layer on raw pointers; the caller guarantees the descriptor's lengths.</summary>
    public void Run(float* input, float* output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(_disposed, this);
        OneDnn.Check(OneDnn.MemorySetDataHandle(_userSource, input), "dnnl_memory_set_data_handle");
        OneDnn.Check(OneDnn.MemorySetDataHandle(_userDestination, output), "dnnl_memory_set_data_handle");
        _bound = true;
        OneDnn.SetThreads(Threads);
        if (_inputReorder != 0)
        {
            Execute(_inputReorder, [new() { Arg = OneDnn.ArgSrc, Memory = _userSource }, new() { Arg = OneDnn.ArgDst, Memory = _convSource }]);
        }

        ExecuteConvolution();
        if (_outputReorder != 0)
        {
            Execute(_outputReorder, [new() { Arg = OneDnn.ArgSrc, Memory = _convDestination }, new() { Arg = OneDnn.ArgDst, Memory = _userDestination }]);
        }

        OneDnn.Check(OneDnn.StreamWait(_stream), "dnnl_stream_wait");
    }

    /// <summary>
    /// The convolution primitive alone, on the buffers of the last <see cref="Run(float*, float*)"/>: with
    /// <see cref="UsesReorders"/>, the layout conversions are left out (the time of the layer in a network
    /// that stays in oneDNN's layout); otherwise the same as that Run.
    /// </summary>
    /// <exception cref="InvalidOperationException">Run was never called.</exception>
    public void RunConvolutionOnly()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_bound)
        {
            throw new InvalidOperationException("RunConvolutionOnly needs a Run first (it uses that call's buffers).");
        }

        OneDnn.SetThreads(Threads);
        ExecuteConvolution();
        OneDnn.Check(OneDnn.StreamWait(_stream), "dnnl_stream_wait");
    }

    private void ExecuteConvolution()
    {
        nint source = _inputReorder != 0 ? _convSource : _userSource;
        nint destination = _outputReorder != 0 ? _convDestination : _userDestination;
        if (_bias != 0)
        {
            Execute(_convolution, [
                new() { Arg = OneDnn.ArgSrc, Memory = source },
                new() { Arg = OneDnn.ArgWeights, Memory = _weights },
                new() { Arg = OneDnn.ArgBias, Memory = _bias },
                new() { Arg = OneDnn.ArgDst, Memory = destination }]);
        }
        else
        {
            Execute(_convolution, [
                new() { Arg = OneDnn.ArgSrc, Memory = source },
                new() { Arg = OneDnn.ArgWeights, Memory = _weights },
                new() { Arg = OneDnn.ArgDst, Memory = destination }]);
        }
    }

    private void Execute(nint primitive, ReadOnlySpan<OneDnn.ExecArg> args)
    {
        fixed (OneDnn.ExecArg* pa = args)
        {
            OneDnn.Check(OneDnn.PrimitiveExecute(primitive, _stream, args.Length, pa), "dnnl_primitive_execute");
        }
    }

    /// <summary>Destroys the primitives and memory objects.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        new Setup
        {
            Stream = _stream,
            Convolution = _convolution,
            InputReorder = _inputReorder,
            OutputReorder = _outputReorder,
            UserSource = _userSource,
            UserDestination = _userDestination,
            ConvSource = _convSource,
            ConvDestination = _convDestination,
            Weights = _weights,
            Bias = _bias,
        }.Release();
    }

    /// <inheritdoc />
    public override string ToString() => $"onednn-{NameOf(Algorithm)} ({Implementation}, {Layout}) {Descriptor}";

    /// <summary>The oneDNN objects of one layer while they are being created (released together on failure).</summary>
    private sealed class Setup
    {
        public nint Stream;
        public nint Convolution;
        public nint InputReorder;
        public nint OutputReorder;
        public nint UserSource;
        public nint UserDestination;
        public nint ConvSource;
        public nint ConvDestination;
        public nint Weights;
        public nint Bias;
        public string Implementation = string.Empty;
        public string Layout = "nhwc";

        public void Build(Conv2DDescriptor d, float* weights, float* bias, OneDnnConvolutionAlgorithm algorithm)
        {
            nint engine = OneDnn.Engine;
            nint stream;
            OneDnn.Check(OneDnn.StreamCreate(&stream, engine, OneDnn.StreamDefaultFlags), "dnnl_stream_create");
            Stream = stream;

            // Memory descriptors are opaque, caller-owned structs: one native block holds them all.
            const int Mds = 8;
            byte* block = (byte*)NativeMemory.AllocZeroed((nuint)(OneDnn.MemoryDescBytes * Mds) + OneDnn.ConvolutionDescBytes);
            try
            {
                byte* userSourceMd = block;
                byte* userDestinationMd = block + OneDnn.MemoryDescBytes;
                byte* userWeightsMd = block + (2 * OneDnn.MemoryDescBytes);
                byte* anyWeightsMd = block + (3 * OneDnn.MemoryDescBytes);
                byte* biasMd = block + (4 * OneDnn.MemoryDescBytes);
                byte* anySourceMd = block + (5 * OneDnn.MemoryDescBytes);
                byte* anyDestinationMd = block + (6 * OneDnn.MemoryDescBytes);
                byte* plainWeightsMd = block + (7 * OneDnn.MemoryDescBytes);
                byte* convDesc = block + (Mds * OneDnn.MemoryDescBytes);

                // Logical dimensions are always N, C, H, W (weights: [G,] O, I, H, W); the tag or strides give the layout.
                long* src = stackalloc long[] { d.Batch, d.InputChannels, d.InputHeight, d.InputWidth };
                long* dst = stackalloc long[] { d.Batch, d.OutputChannels, d.OutputHeight, d.OutputWidth };
                long ps = d.EffectiveOutputPixelStride;
                long* dstStrides = stackalloc long[] { (long)d.OutputHeight * d.OutputWidth * ps, 1, d.OutputWidth * ps, ps };
                Init(OneDnn.MemoryDescInitByTag(userSourceMd, 4, src, OneDnn.DataTypeF32, OneDnn.FormatTagNhwc));
                Init(OneDnn.MemoryDescInitByStrides(userDestinationMd, 4, dst, OneDnn.DataTypeF32, dstStrides));
                Init(OneDnn.MemoryDescInitByTag(anySourceMd, 4, src, OneDnn.DataTypeF32, OneDnn.FormatTagAny));
                Init(OneDnn.MemoryDescInitByTag(anyDestinationMd, 4, dst, OneDnn.DataTypeF32, OneDnn.FormatTagAny));
                if (d.Groups == 1)
                {
                    long* w = stackalloc long[] { d.OutputChannels, d.InputChannels, d.KernelHeight, d.KernelWidth };
                    Init(OneDnn.MemoryDescInitByTag(userWeightsMd, 4, w, OneDnn.DataTypeF32, OneDnn.FormatTagNhwc)); // ohwi
                    Init(OneDnn.MemoryDescInitByTag(anyWeightsMd, 4, w, OneDnn.DataTypeF32, OneDnn.FormatTagAny));
                    Init(OneDnn.MemoryDescInitByTag(plainWeightsMd, 4, w, OneDnn.DataTypeF32, OneDnn.FormatTagOihw));
                }
                else
                {
                    long* w = stackalloc long[] { d.Groups, d.GroupOutputChannels, d.GroupInputChannels, d.KernelHeight, d.KernelWidth };
                    Init(OneDnn.MemoryDescInitByTag(userWeightsMd, 5, w, OneDnn.DataTypeF32, OneDnn.FormatTagGohwi));
                    Init(OneDnn.MemoryDescInitByTag(anyWeightsMd, 5, w, OneDnn.DataTypeF32, OneDnn.FormatTagAny));
                    Init(OneDnn.MemoryDescInitByTag(plainWeightsMd, 5, w, OneDnn.DataTypeF32, OneDnn.FormatTagGoihw));
                }

                long oc = d.OutputChannels;
                Init(OneDnn.MemoryDescInitByTag(biasMd, 1, &oc, OneDnn.DataTypeF32, OneDnn.FormatTagX));

                nint attr = CreateAttributes(d.Activation);
                try
                {
                    // NHWC in and out first; only when oneDNN has nothing for that, its own layout.
                    nint pd = CreateConvolution(d, algorithm, userSourceMd, anyWeightsMd, bias == null ? null : biasMd, userDestinationMd, convDesc, attr, engine);
                    if (pd == 0)
                    {
                        pd = CreateConvolution(d, algorithm, anySourceMd, anyWeightsMd, bias == null ? null : biasMd, anyDestinationMd, convDesc, attr, engine);
                    }

                    if (pd == 0)
                    {
                        throw new NotSupportedException(
                            $"oneDNN {OneDnn.Version} has no {NameOf(algorithm)} convolution for {d} (dnnl_unimplemented, in NHWC or its own layout).");
                    }

                    try
                    {
                        BuildFromPrimitiveDesc(pd, engine, userSourceMd, userDestinationMd, userWeightsMd, plainWeightsMd, weights, biasMd, bias);
                    }
                    finally
                    {
                        _ = OneDnn.PrimitiveDescDestroy(pd);
                    }
                }
                finally
                {
                    _ = OneDnn.PrimitiveAttrDestroy(attr);
                }
            }
            finally
            {
                NativeMemory.Free(block);
            }
        }

        private void BuildFromPrimitiveDesc(
            nint pd, nint engine, byte* userSourceMd, byte* userDestinationMd, byte* userWeightsMd, byte* plainWeightsMd, float* weights, byte* biasMd, float* bias)
        {
            byte* impl = null;
            Implementation = OneDnn.PrimitiveDescQuery(pd, OneDnn.QueryImplInfoStr, 0, &impl) == OneDnn.Success && impl != null
                ? Marshal.PtrToStringUTF8((nint)impl) ?? "unknown"
                : "unknown";

            nint primitive;
            OneDnn.Check(OneDnn.PrimitiveCreate(&primitive, pd), "dnnl_primitive_create");
            Convolution = primitive;

            void* convSourceMd = OneDnn.PrimitiveDescQueryMd(pd, OneDnn.QuerySrcMd, 0);
            void* convWeightsMd = OneDnn.PrimitiveDescQueryMd(pd, OneDnn.QueryWeightsMd, 0);
            void* convDestinationMd = OneDnn.PrimitiveDescQueryMd(pd, OneDnn.QueryDstMd, 0);
            UserSource = CreateMemory(userSourceMd, engine, null);
            UserDestination = CreateMemory(userDestinationMd, engine, null);
            if (OneDnn.MemoryDescEqual(convSourceMd, userSourceMd) == 0 || OneDnn.MemoryDescEqual(convDestinationMd, userDestinationMd) == 0)
            {
                Layout = "blocked";
                ConvSource = CreateMemory(convSourceMd, engine, (void*)OneDnn.MemoryAllocate);
                ConvDestination = CreateMemory(convDestinationMd, engine, (void*)OneDnn.MemoryAllocate);
                InputReorder = CreateReorder(userSourceMd, convSourceMd, engine);
                OutputReorder = CreateReorder(convDestinationMd, userDestinationMd, engine);
            }

            // Weights: reorder OHWI once into the layout the primitive chose. oneDNN's Winograd weights reorder
            // reads only plain OIHW, so when the direct reorder is unimplemented the copy goes through OIHW.
            nint userWeights = CreateMemory(userWeightsMd, engine, weights);
            try
            {
                // oneDNN keeps its own copy either way (a plain copy when the layouts match): the caller's array may go away.
                Weights = CreateMemory(convWeightsMd, engine, (void*)OneDnn.MemoryAllocate);
                if (!TryReorder(userWeightsMd, userWeights, convWeightsMd, Weights, engine))
                {
                    nint plain = CreateMemory(plainWeightsMd, engine, (void*)OneDnn.MemoryAllocate);
                    try
                    {
                        if (!TryReorder(userWeightsMd, userWeights, plainWeightsMd, plain, engine)
                            || !TryReorder(plainWeightsMd, plain, convWeightsMd, Weights, engine))
                        {
                            throw new InvalidOperationException($"oneDNN has no reorder of OHWI weights into the layout of {Implementation}.");
                        }
                    }
                    finally
                    {
                        _ = OneDnn.MemoryDestroy(plain);
                    }
                }
            }
            finally
            {
                _ = OneDnn.MemoryDestroy(userWeights);
            }

            if (bias != null)
            {
                Bias = CreateMemory(biasMd, engine, (void*)OneDnn.MemoryAllocate);
                nint userBias = CreateMemory(biasMd, engine, bias);
                try
                {
                    if (!TryReorder(biasMd, userBias, biasMd, Bias, engine))
                    {
                        throw new InvalidOperationException("oneDNN has no reorder for a plain bias copy.");
                    }
                }
                finally
                {
                    _ = OneDnn.MemoryDestroy(userBias);
                }
            }
        }

        /// <summary>One reorder from memory to memory, run now; false when oneDNN has none for the two layouts.</summary>
        private bool TryReorder(void* fromMd, nint from, void* toMd, nint to, nint engine)
        {
            nint pd;
            int status = OneDnn.ReorderPrimitiveDescCreate(&pd, fromMd, engine, toMd, engine, 0);
            if (status == OneDnn.Unimplemented)
            {
                return false;
            }

            OneDnn.Check(status, "dnnl_reorder_primitive_desc_create");
            nint reorder;
            try
            {
                OneDnn.Check(OneDnn.PrimitiveCreate(&reorder, pd), "dnnl_primitive_create (reorder)");
            }
            finally
            {
                _ = OneDnn.PrimitiveDescDestroy(pd);
            }

            try
            {
                var args = stackalloc OneDnn.ExecArg[] { new() { Arg = OneDnn.ArgSrc, Memory = from }, new() { Arg = OneDnn.ArgDst, Memory = to } };
                OneDnn.Check(OneDnn.PrimitiveExecute(reorder, Stream, 2, args), "dnnl_primitive_execute (reorder)");
                OneDnn.Check(OneDnn.StreamWait(Stream), "dnnl_stream_wait");
            }
            finally
            {
                _ = OneDnn.PrimitiveDestroy(reorder);
            }

            return true;
        }

        /// <returns>The primitive descriptor, or 0 when oneDNN has no implementation for these layouts.</returns>
        private static nint CreateConvolution(
            Conv2DDescriptor d, OneDnnConvolutionAlgorithm algorithm, byte* sourceMd, byte* weightsMd, byte* biasMd, byte* destinationMd,
            byte* convDesc, nint attr, nint engine)
        {
            long* strides = stackalloc long[] { d.StrideHeight, d.StrideWidth };
            long* dilates = stackalloc long[] { d.DilationHeight - 1, d.DilationWidth - 1 }; // oneDNN counts dilation from 0
            long* padLeft = stackalloc long[] { d.PadTop, d.PadLeft };
            long* padRight = stackalloc long[] { d.PadBottom, d.PadRight };
            int kind = algorithm switch
            {
                OneDnnConvolutionAlgorithm.Direct => 0x1,
                OneDnnConvolutionAlgorithm.Winograd => 0x2,
                _ => 0x3,
            };
            new Span<byte>(convDesc, OneDnn.ConvolutionDescBytes).Clear();
            int status = OneDnn.DilatedConvolutionForwardDescInit(
                convDesc, OneDnn.PropForwardInference, kind, sourceMd, weightsMd, biasMd, destinationMd, strides, dilates, padLeft, padRight);
            OneDnn.Check(status, "dnnl_dilated_convolution_forward_desc_init");
            nint pd;
            status = OneDnn.PrimitiveDescCreate(&pd, convDesc, attr, engine, 0);
            if (status == OneDnn.Unimplemented)
            {
                return 0;
            }

            OneDnn.Check(status, "dnnl_primitive_desc_create (convolution)");
            return pd;
        }

        private static nint CreateAttributes(FusedActivation activation)
        {
            nint attr;
            OneDnn.Check(OneDnn.PrimitiveAttrCreate(&attr), "dnnl_primitive_attr_create");
            if (activation.Kind == Activation.None)
            {
                return attr;
            }

            nint postOps;
            OneDnn.Check(OneDnn.PostOpsCreate(&postOps), "dnnl_post_ops_create");
            try
            {
                (int kind, float alpha, float beta) = activation.Kind switch
                {
                    Activation.Relu => (OneDnn.EltwiseRelu, 0f, 0f),
                    Activation.LeakyRelu => (OneDnn.EltwiseRelu, activation.LeakySlope, 0f), // relu's alpha is the negative slope
                    Activation.Relu6 => (OneDnn.EltwiseClip, 0f, 6f),
                    _ => throw new ArgumentException($"Activation {activation} has no oneDNN post-op here.", nameof(activation)),
                };
                OneDnn.Check(OneDnn.PostOpsAppendEltwise(postOps, 1f, kind, alpha, beta), "dnnl_post_ops_append_eltwise");
                OneDnn.Check(OneDnn.PrimitiveAttrSetPostOps(attr, postOps), "dnnl_primitive_attr_set_post_ops");
            }
            catch
            {
                _ = OneDnn.PrimitiveAttrDestroy(attr);
                throw;
            }
            finally
            {
                _ = OneDnn.PostOpsDestroy(postOps);
            }

            return attr;
        }

        private static nint CreateMemory(void* md, nint engine, void* handle)
        {
            nint memory;
            OneDnn.Check(OneDnn.MemoryCreate(&memory, md, engine, handle), "dnnl_memory_create");
            return memory;
        }

        private static nint CreateReorder(void* from, void* to, nint engine)
        {
            nint pd;
            OneDnn.Check(OneDnn.ReorderPrimitiveDescCreate(&pd, from, engine, to, engine, 0), "dnnl_reorder_primitive_desc_create");
            try
            {
                nint primitive;
                OneDnn.Check(OneDnn.PrimitiveCreate(&primitive, pd), "dnnl_primitive_create (reorder)");
                return primitive;
            }
            finally
            {
                _ = OneDnn.PrimitiveDescDestroy(pd);
            }
        }

        private static void Init(int status) => OneDnn.Check(status, "dnnl_memory_desc_init");

        public void Release()
        {
            foreach (nint p in new[] { Convolution, InputReorder, OutputReorder })
            {
                if (p != 0)
                {
                    _ = OneDnn.PrimitiveDestroy(p);
                }
            }

            foreach (nint m in new[] { UserSource, UserDestination, ConvSource, ConvDestination, Weights, Bias })
            {
                if (m != 0)
                {
                    _ = OneDnn.MemoryDestroy(m);
                }
            }

            if (Stream != 0)
            {
                _ = OneDnn.StreamDestroy(Stream);
            }

            Convolution = InputReorder = OutputReorder = UserSource = UserDestination = ConvSource = ConvDestination = Weights = Bias = Stream = 0;
        }
    }
}
