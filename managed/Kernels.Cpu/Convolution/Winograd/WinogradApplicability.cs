using Kernels.Core;

namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>Which layers both Winograd tile sizes apply to.</summary>
internal static class WinogradApplicability
{
    /// <summary>Null for a 3x3, stride 1, dilation 1, ungrouped layer (any padding, channels and batch); else why not.</summary>
    public static string? WhyNot(Conv2DDescriptor d)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (d.KernelHeight != 3 || d.KernelWidth != 3)
        {
            return $"the kernel is {d.KernelHeight}x{d.KernelWidth}, Winograd F(m, 3x3) needs 3x3";
        }

        if (d.StrideHeight != 1 || d.StrideWidth != 1)
        {
            return $"the stride is {d.StrideHeight}x{d.StrideWidth}, Winograd needs stride 1";
        }

        if (d.DilationHeight != 1 || d.DilationWidth != 1)
        {
            return $"the dilation is {d.DilationHeight}x{d.DilationWidth}, Winograd needs dilation 1";
        }

        if (d.Groups != 1)
        {
            return $"the layer has {d.Groups} groups, Winograd needs 1";
        }

        return null;
    }
}
