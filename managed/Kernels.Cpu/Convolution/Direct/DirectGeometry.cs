using Kernels.Core;

namespace Kernels.Cpu.Convolution.Direct;

/// <summary>What a direct-convolution row kernel needs of the layer, as plain fields.</summary>
internal readonly struct DirectGeometry
{
    public DirectGeometry(Conv2DDescriptor d, int blockWidth)
    {
        InputHeight = d.InputHeight;
        InputWidth = d.InputWidth;
        InputChannels = d.InputChannels;
        OutputChannels = d.OutputChannels;
        KernelHeight = d.KernelHeight;
        KernelWidth = d.KernelWidth;
        StrideHeight = d.StrideHeight;
        StrideWidth = d.StrideWidth;
        DilationHeight = d.DilationHeight;
        DilationWidth = d.DilationWidth;
        PadTop = d.PadTop;
        PadLeft = d.PadLeft;
        OutputHeight = d.OutputHeight;
        OutputWidth = d.OutputWidth;
        OutputPixelStride = d.EffectiveOutputPixelStride;
        Blocks = (d.OutputChannels + blockWidth - 1) / blockWidth;
        BlockFloats = d.KernelHeight * d.KernelWidth * d.InputChannels * blockWidth;
        Activation = new StoreActivation(d.Activation);

        int extent = d.DilatedKernelWidth;
        int begin = Math.Min((d.PadLeft + d.StrideWidth - 1) / d.StrideWidth, d.OutputWidth);
        int last = d.InputWidth - extent + d.PadLeft;
        int end = last < 0 ? 0 : Math.Min((last / d.StrideWidth) + 1, d.OutputWidth);
        InteriorBegin = begin;
        InteriorEnd = Math.Max(end, begin);
    }

    public int InputHeight { get; }

    public int InputWidth { get; }

    public int InputChannels { get; }

    public int OutputChannels { get; }

    public int KernelHeight { get; }

    public int KernelWidth { get; }

    public int StrideHeight { get; }

    public int StrideWidth { get; }

    public int DilationHeight { get; }

    public int DilationWidth { get; }

    public int PadTop { get; }

    public int PadLeft { get; }

    public int OutputHeight { get; }

    public int OutputWidth { get; }

    public int OutputPixelStride { get; }

    /// <summary>Output-channel blocks of two vectors; the last may be partial (its padding weights are zero).</summary>
    public int Blocks { get; }

    /// <summary>Packed floats per block: KH·KW·IC·(two vectors).</summary>
    public int BlockFloats { get; }

    public StoreActivation Activation { get; }

    /// <summary>First output column with no left padding under the kernel.</summary>
    public int InteriorBegin { get; }

    /// <summary>One past the last output column with no right padding under the kernel (≥ <see cref="InteriorBegin"/>).</summary>
    public int InteriorEnd { get; }
}
