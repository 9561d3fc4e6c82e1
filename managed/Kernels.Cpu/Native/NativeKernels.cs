using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Native;

/// <summary>
/// Checked, span-based entry points to libkernels_native. Every size and buffer length is
/// validated (ArgumentException / ArgumentOutOfRangeException naming the parameter) before any
/// native call; then, if the library is absent, InvalidOperationException with
/// <see cref="NativeLibraryStatus.UnavailableReason"/>. Calls to imports marked
/// SuppressGCTransition sit in NoInlining helpers: the JIT binds those imports when it compiles
/// the calling method, which would otherwise throw DllNotFoundException before the checks.
/// </summary>
public static unsafe class NativeKernels
{
    /// <summary>Output size of a convolution along one axis (floor division), 0 when the kernel does not fit.</summary>
    public static int ConvOutputSize(int input, int kernel, int stride, int padBegin, int padEnd, int dilation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padBegin);
        ArgumentOutOfRangeException.ThrowIfNegative(padEnd);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilation, 1);
        long extent = (long)(kernel - 1) * dilation + 1;
        long padded = (long)input + padBegin + padEnd;
        return padded < extent ? 0 : checked((int)((padded - extent) / stride + 1));
    }

    /// <summary>
    /// im2col of one NHWC image (kn_im2col_nhwc_f32). Pixel (y, x) starts at
    /// <c>(y*inW + x)*inPixelStride</c> in <paramref name="input"/> (inPixelStride &gt;= channels
    /// selects a channel slice: pass the input sliced at the first channel). Output row
    /// <c>oy*outW + ox</c>, column <c>(ky*kernelW + kx)*channels + c</c>, rows
    /// <paramref name="ldOutput"/> floats apart; padding taps are 0.
    /// </summary>
    public static void Im2ColNhwc(ReadOnlySpan<float> input, int inH, int inW, int channels, int inPixelStride,
                                  int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                                  int dilationH, int dilationW, int outH, int outW, Span<float> output, int ldOutput)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inH);
        ArgumentOutOfRangeException.ThrowIfNegative(inW);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inPixelStride, channels);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelH, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelW, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(strideH, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(strideW, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padTop);
        ArgumentOutOfRangeException.ThrowIfNegative(padLeft);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilationH, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilationW, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(outH);
        ArgumentOutOfRangeException.ThrowIfNegative(outW);
        long rowLength = (long)kernelH * kernelW * channels;
        if (ldOutput < rowLength)
            throw new ArgumentOutOfRangeException(nameof(ldOutput), ldOutput, $"must be at least kernelH*kernelW*channels = {rowLength}");
        long pixels = (long)inH * inW;
        long inputNeeded = pixels == 0 ? 0 : (pixels - 1) * inPixelStride + channels;
        if (input.Length < inputNeeded)
            throw new ArgumentException($"input has {input.Length} floats, needs {inputNeeded} for {inH}x{inW} pixels of stride {inPixelStride}", nameof(input));
        long rows = (long)outH * outW;
        long outputNeeded = rows == 0 ? 0 : (rows - 1) * ldOutput + rowLength;
        if (output.Length < outputNeeded)
            throw new ArgumentException($"output has {output.Length} floats, needs {outputNeeded} for {rows} rows of {rowLength} (ldOutput {ldOutput})", nameof(output));
        if (rows == 0)
            return;
        NativeLibraryStatus.ThrowIfUnavailable();
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            NativeMethods.kn_im2col_nhwc_f32(pi, (nuint)inH, (nuint)inW, (nuint)channels, (nuint)inPixelStride,
                (nuint)kernelH, (nuint)kernelW, (nuint)strideH, (nuint)strideW, (nuint)padTop, (nuint)padLeft,
                (nuint)dilationH, (nuint)dilationW, (nuint)outH, (nuint)outW, po, (nuint)ldOutput);
        }
    }

    /// <summary>Floats written by <see cref="PackA"/>: ceil(m/mr)*mr*k.</summary>
    public static long PackedASize(int mr, int m, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mr, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return ((long)m + mr - 1) / mr * mr * k;
    }

    /// <summary>Floats written by <see cref="PackB"/>: ceil(n/nr)*nr*k.</summary>
    public static long PackedBSize(int nr, int k, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nr, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        return ((long)n + nr - 1) / nr * nr * k;
    }

    /// <summary>
    /// Packs A (m x k, row-major, lda &gt;= k) into ceil(m/mr) panels of k*mr floats
    /// (kn_pack_a_f32): panel q, step p = a[q*mr + i][p], i &lt; mr, zero past row m.
    /// </summary>
    public static void PackA(int mr, int m, int k, ReadOnlySpan<float> a, int lda, Span<float> packed)
    {
        long size = PackedASize(mr, m, k);
        if (lda < k)
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"must be at least k = {k}");
        long needed = m == 0 || k == 0 ? 0 : (long)(m - 1) * lda + k;
        if (a.Length < needed)
            throw new ArgumentException($"a has {a.Length} floats, needs {needed} for {m}x{k} with lda {lda}", nameof(a));
        if (packed.Length < size)
            throw new ArgumentException($"packed has {packed.Length} floats, needs {size}", nameof(packed));
        if (size == 0)
            return;
        NativeLibraryStatus.ThrowIfUnavailable();
        fixed (float* pa = a)
        fixed (float* pp = packed)
        {
            NativeMethods.kn_pack_a_f32((nuint)mr, (nuint)m, (nuint)k, pa, (nuint)lda, pp);
        }
    }

    /// <summary>
    /// Packs B (k x n, row-major, ldb &gt;= n) into ceil(n/nr) panels of k*nr floats
    /// (kn_pack_b_f32): panel q, step p = b[p][q*nr + j], j &lt; nr, zero past column n.
    /// </summary>
    public static void PackB(int nr, int k, int n, ReadOnlySpan<float> b, int ldb, Span<float> packed)
    {
        long size = PackedBSize(nr, k, n);
        if (ldb < n)
            throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"must be at least n = {n}");
        long needed = k == 0 || n == 0 ? 0 : (long)(k - 1) * ldb + n;
        if (b.Length < needed)
            throw new ArgumentException($"b has {b.Length} floats, needs {needed} for {k}x{n} with ldb {ldb}", nameof(b));
        if (packed.Length < size)
            throw new ArgumentException($"packed has {packed.Length} floats, needs {size}", nameof(packed));
        if (size == 0)
            return;
        NativeLibraryStatus.ThrowIfUnavailable();
        fixed (float* pb = b)
        fixed (float* pp = packed)
        {
            NativeMethods.kn_pack_b_f32((nuint)nr, (nuint)k, (nuint)n, pb, (nuint)ldb, pp);
        }
    }

    /// <summary>
    /// Σ a[i]*b[i] in int32 through the dispatched native path (kn_dot_s8; see
    /// <see cref="NativeLibraryStatus.DotS8Path"/>). Exact for lengths below 131072.
    /// </summary>
    public static int DotS8(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"a has {a.Length} elements, b has {b.Length}: lengths must match", nameof(b));
        NativeLibraryStatus.ThrowIfUnavailable();
        return DotS8Native(a, b);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int DotS8Native(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        fixed (sbyte* pa = a)
        fixed (sbyte* pb = b)
        {
            return NativeMethods.kn_dot_s8(pa, pb, (nuint)a.Length);
        }
    }
}
