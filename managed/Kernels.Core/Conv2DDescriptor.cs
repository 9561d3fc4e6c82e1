using System.Globalization;

namespace Kernels.Core;

/// <summary>
/// One 2-D convolution layer on NHWC activations: what every backend (CPU algorithms, OpenCL) and
/// the graph agree on. Weights are OHWI: [OutputChannels][KernelHeight][KernelWidth][InputChannels / Groups];
/// output channel o belongs to group o / (OutputChannels / Groups). The output may be a channel
/// slice of a wider tensor (a concat written in place): consecutive output pixels are
/// <see cref="OutputPixelStride"/> floats apart.
/// </summary>
public sealed record Conv2DDescriptor
{
    /// <summary>Images per call.</summary>
    public int Batch { get; init; } = 1;

    /// <summary>Input height.</summary>
    public required int InputHeight { get; init; }

    /// <summary>Input width.</summary>
    public required int InputWidth { get; init; }

    /// <summary>Input channels (all groups).</summary>
    public required int InputChannels { get; init; }

    /// <summary>Output channels (all groups).</summary>
    public required int OutputChannels { get; init; }

    /// <summary>Kernel height.</summary>
    public required int KernelHeight { get; init; }

    /// <summary>Kernel width.</summary>
    public required int KernelWidth { get; init; }

    /// <summary>Vertical stride.</summary>
    public int StrideHeight { get; init; } = 1;

    /// <summary>Horizontal stride.</summary>
    public int StrideWidth { get; init; } = 1;

    /// <summary>Zero rows above the input.</summary>
    public int PadTop { get; init; }

    /// <summary>Zero columns left of the input.</summary>
    public int PadLeft { get; init; }

    /// <summary>Zero rows below the input.</summary>
    public int PadBottom { get; init; }

    /// <summary>Zero columns right of the input.</summary>
    public int PadRight { get; init; }

    /// <summary>Vertical dilation (1: dense kernel).</summary>
    public int DilationHeight { get; init; } = 1;

    /// <summary>Horizontal dilation.</summary>
    public int DilationWidth { get; init; } = 1;

    /// <summary>Groups: input and output channels are split into this many independent convolutions.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Activation applied in the output store.</summary>
    public FusedActivation Activation { get; init; }

    /// <summary>Floats between consecutive output pixels; 0 means <see cref="OutputChannels"/> (a dense output).</summary>
    public int OutputPixelStride { get; init; }

    /// <summary>The pixel stride actually used: <see cref="OutputPixelStride"/>, or the output channels when that is 0.</summary>
    public int EffectiveOutputPixelStride => OutputPixelStride == 0 ? OutputChannels : OutputPixelStride;

    /// <summary>Kernel extent with dilation: (KernelHeight - 1)·DilationHeight + 1.</summary>
    public int DilatedKernelHeight => ((KernelHeight - 1) * DilationHeight) + 1;

    /// <summary>Kernel extent with dilation: (KernelWidth - 1)·DilationWidth + 1.</summary>
    public int DilatedKernelWidth => ((KernelWidth - 1) * DilationWidth) + 1;

    /// <summary>Output height (floor mode).</summary>
    public int OutputHeight => ((InputHeight + PadTop + PadBottom - DilatedKernelHeight) / StrideHeight) + 1;

    /// <summary>Output width (floor mode).</summary>
    public int OutputWidth => ((InputWidth + PadLeft + PadRight - DilatedKernelWidth) / StrideWidth) + 1;

    /// <summary>Input channels per group.</summary>
    public int GroupInputChannels => InputChannels / Groups;

    /// <summary>Output channels per group.</summary>
    public int GroupOutputChannels => OutputChannels / Groups;

    /// <summary>True for a depthwise convolution with multiplier 1 (one input and one output channel per group).</summary>
    public bool IsDepthwise => Groups == InputChannels && Groups == OutputChannels;

    /// <summary>The reduction length of one output: KernelHeight·KernelWidth·(InputChannels / Groups).</summary>
    public int ReductionLength => KernelHeight * KernelWidth * GroupInputChannels;

    /// <summary>Input floats per call: Batch·InputHeight·InputWidth·InputChannels.</summary>
    public long InputLength => (long)Batch * InputHeight * InputWidth * InputChannels;

    /// <summary>Output floats a call may touch: up to the last channel of the last pixel, with the pixel stride.</summary>
    public long OutputLength => ((long)Batch * OutputHeight * OutputWidth - 1) * EffectiveOutputPixelStride + OutputChannels;

    /// <summary>OHWI weight floats: OutputChannels·KernelHeight·KernelWidth·(InputChannels / Groups).</summary>
    public long WeightsLength => (long)OutputChannels * ReductionLength;

    /// <summary>Multiply-adds times two: 2·Batch·OH·OW·OC·KH·KW·(IC / Groups).</summary>
    public double Flops => 2.0 * Batch * OutputHeight * OutputWidth * OutputChannels * ReductionLength;

    /// <summary>A descriptor with the same padding on all sides.</summary>
    public static Conv2DDescriptor Create(
        int height, int width, int inputChannels, int outputChannels, int kernel,
        int stride = 1, int padding = 0, int groups = 1, int dilation = 1, FusedActivation activation = default) => new()
        {
            InputHeight = height,
            InputWidth = width,
            InputChannels = inputChannels,
            OutputChannels = outputChannels,
            KernelHeight = kernel,
            KernelWidth = kernel,
            StrideHeight = stride,
            StrideWidth = stride,
            PadTop = padding,
            PadLeft = padding,
            PadBottom = padding,
            PadRight = padding,
            DilationHeight = dilation,
            DilationWidth = dilation,
            Groups = groups,
            Activation = activation,
        };

    /// <summary>
    /// Checks every field; the validate step (as ARM Compute Library's validate()) that runs before
    /// anything is allocated or executed.
    /// </summary>
    /// <exception cref="ArgumentException">A field is out of range or the shapes do not fit; the parameter name is the field's.</exception>
    public void Validate()
    {
        Positive(Batch, nameof(Batch));
        Positive(InputHeight, nameof(InputHeight));
        Positive(InputWidth, nameof(InputWidth));
        Positive(InputChannels, nameof(InputChannels));
        Positive(OutputChannels, nameof(OutputChannels));
        Positive(KernelHeight, nameof(KernelHeight));
        Positive(KernelWidth, nameof(KernelWidth));
        Positive(StrideHeight, nameof(StrideHeight));
        Positive(StrideWidth, nameof(StrideWidth));
        Positive(DilationHeight, nameof(DilationHeight));
        Positive(DilationWidth, nameof(DilationWidth));
        Positive(Groups, nameof(Groups));
        NotNegative(PadTop, nameof(PadTop));
        NotNegative(PadLeft, nameof(PadLeft));
        NotNegative(PadBottom, nameof(PadBottom));
        NotNegative(PadRight, nameof(PadRight));
        NotNegative(OutputPixelStride, nameof(OutputPixelStride));
        Activation.Validate(nameof(Activation));

        if (InputChannels % Groups != 0)
        {
            throw new ArgumentException($"InputChannels {InputChannels} is not divisible by Groups {Groups}.", nameof(Groups));
        }

        if (OutputChannels % Groups != 0)
        {
            throw new ArgumentException($"OutputChannels {OutputChannels} is not divisible by Groups {Groups}.", nameof(Groups));
        }

        if ((long)InputHeight + PadTop + PadBottom < DilatedKernelHeight)
        {
            throw new ArgumentException(
                $"The kernel height {KernelHeight} (dilated {DilatedKernelHeight}) is larger than the padded input height {InputHeight + PadTop + PadBottom}.",
                nameof(KernelHeight));
        }

        if ((long)InputWidth + PadLeft + PadRight < DilatedKernelWidth)
        {
            throw new ArgumentException(
                $"The kernel width {KernelWidth} (dilated {DilatedKernelWidth}) is larger than the padded input width {InputWidth + PadLeft + PadRight}.",
                nameof(KernelWidth));
        }

        if (OutputPixelStride != 0 && OutputPixelStride < OutputChannels)
        {
            throw new ArgumentException($"OutputPixelStride {OutputPixelStride} is smaller than OutputChannels {OutputChannels}.", nameof(OutputPixelStride));
        }

        if (WeightsLength > int.MaxValue || InputLength > int.MaxValue || (long)Batch * OutputHeight * OutputWidth * EffectiveOutputPixelStride > int.MaxValue)
        {
            throw new ArgumentException("A tensor of this convolution has more than 2^31 - 1 elements.", nameof(Batch));
        }
    }

    /// <summary>
    /// Reads the command-line form "HxWxC,KxK,OC[,stride,pad,groups]" (e.g. "56x56x64,3x3,64,1,1"),
    /// or "HxWxC,KhxKw,OC,..." for a rectangular kernel. The result is validated.
    /// </summary>
    /// <exception cref="FormatException">The text does not have that form; the message shows the form.</exception>
    /// <exception cref="ArgumentException">The numbers do not describe a valid convolution.</exception>
    public static Conv2DDescriptor Parse(string text, FusedActivation activation = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string Form = "HxWxC,KxK,OC[,stride,pad,groups] (e.g. 56x56x64,3x3,64,1,1)";
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length < 3 || parts.Length > 6)
        {
            throw new FormatException($"Convolution shape '{text}': expected {Form}.");
        }

        int[] hwc = Numbers(parts[0], 3, text, Form);
        int[] kk = Numbers(parts[1], 2, text, Form);
        int oc = Numbers(parts[2], 1, text, Form)[0];
        int stride = parts.Length > 3 ? Numbers(parts[3], 1, text, Form)[0] : 1;
        int pad = parts.Length > 4 ? Numbers(parts[4], 1, text, Form)[0] : 0;
        int groups = parts.Length > 5 ? Numbers(parts[5], 1, text, Form)[0] : 1;
        var d = new Conv2DDescriptor
        {
            InputHeight = hwc[0],
            InputWidth = hwc[1],
            InputChannels = hwc[2],
            OutputChannels = oc,
            KernelHeight = kk[0],
            KernelWidth = kk[1],
            StrideHeight = stride,
            StrideWidth = stride,
            PadTop = pad,
            PadLeft = pad,
            PadBottom = pad,
            PadRight = pad,
            Groups = groups,
            Activation = activation,
        };
        d.Validate();
        return d;
    }

    /// <summary>The command-line form when it is exact (square stride and symmetric padding), else a full listing.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        string s = string.Create(c, $"{InputHeight}x{InputWidth}x{InputChannels},{KernelHeight}x{KernelWidth},{OutputChannels}");
        bool simple = StrideHeight == StrideWidth && PadTop == PadLeft && PadTop == PadBottom && PadTop == PadRight
            && DilationHeight == 1 && DilationWidth == 1 && Batch == 1;
        if (simple)
        {
            return string.Create(c, $"{s},{StrideHeight},{PadTop},{Groups}");
        }

        return string.Create(
            c,
            $"{s} batch {Batch} stride {StrideHeight}x{StrideWidth} pad {PadTop},{PadLeft},{PadBottom},{PadRight} dilation {DilationHeight}x{DilationWidth} groups {Groups}");
    }

    private static int[] Numbers(string part, int count, string text, string form)
    {
        string[] items = part.Split('x');
        if (items.Length != count)
        {
            throw new FormatException($"Convolution shape '{text}': '{part}' should have {count} number(s); expected {form}.");
        }

        var values = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (!int.TryParse(items[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new FormatException($"Convolution shape '{text}': '{items[i]}' is not a non-negative integer; expected {form}.");
            }
        }

        return values;
    }

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentException($"{name} must be at least 1; it is {value}.", name);
        }
    }

    private static void NotNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentException($"{name} must not be negative; it is {value}.", name);
        }
    }
}
