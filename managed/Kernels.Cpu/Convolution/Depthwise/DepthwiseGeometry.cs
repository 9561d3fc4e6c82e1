using Kernels.Core;

namespace Kernels.Cpu.Convolution.Depthwise;

/// <summary>
/// What a depthwise row kernel needs of the layer, flattened into fields so the ISA kernels read
/// plain integers (no property calls, no descriptor record) in their loops.
/// </summary>
internal readonly struct DepthwiseGeometry
{
    public DepthwiseGeometry(Conv2DDescriptor d, int vectorWidth)
    {
        InputHeight = d.InputHeight;
        InputWidth = d.InputWidth;
        Channels = d.InputChannels;
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
        WeightStride = (d.InputChannels + vectorWidth - 1) / vectorWidth * vectorWidth;
        ChannelBlocks = (d.InputChannels + vectorWidth - 1) / vectorWidth;
        Activation = new StoreActivation(d.Activation);

        // Output columns whose whole (dilated) kernel row lies inside the input: no padding checks there.
        int extent = d.DilatedKernelWidth;
        int begin = Math.Min((d.PadLeft + d.StrideWidth - 1) / d.StrideWidth, d.OutputWidth);
        int last = d.InputWidth - extent + d.PadLeft;
        int end = last < 0 ? 0 : Math.Min((last / d.StrideWidth) + 1, d.OutputWidth);
        InteriorBegin = begin;
        InteriorEnd = Math.Max(end, begin);
    }

    public int InputHeight { get; }

    public int InputWidth { get; }

    public int Channels { get; }

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

    /// <summary>Floats between consecutive output pixels.</summary>
    public int OutputPixelStride { get; }

    /// <summary>Floats between consecutive taps of the packed weights: the channels rounded up to the vector width.</summary>
    public int WeightStride { get; }

    /// <summary>
    /// Vector blocks per pixel. When the channels are not a multiple of the vector width the last block
    /// starts at Channels - width and overlaps the one before: it recomputes a few channels with the same
    /// result instead of needing masked loads (which AdvSimd lacks) or reading past the pixel.
    /// </summary>
    public int ChannelBlocks { get; }

    public StoreActivation Activation { get; }

    /// <summary>First output column with no left padding under the kernel.</summary>
    public int InteriorBegin { get; }

    /// <summary>One past the last output column with no right padding under the kernel (≥ <see cref="InteriorBegin"/>).</summary>
    public int InteriorEnd { get; }
}
