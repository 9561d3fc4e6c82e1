using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Kernels.Core;

/// <summary>
/// An NHWC shape (the CPU layout: channels innermost, so 1x1 convolution is a plain GEMM).
/// Every dimension is checked on construction and on <c>with</c>, so a negative size never reaches a kernel.
/// </summary>
public readonly record struct TensorShape(int N, int H, int W, int C)
{
    private readonly int _n = Check(N, nameof(N));
    private readonly int _h = Check(H, nameof(H));
    private readonly int _w = Check(W, nameof(W));
    private readonly int _c = Check(C, nameof(C));

    /// <summary>Batch.</summary>
    public int N { get => _n; init => _n = Check(value, nameof(N)); }

    /// <summary>Height.</summary>
    public int H { get => _h; init => _h = Check(value, nameof(H)); }

    /// <summary>Width.</summary>
    public int W { get => _w; init => _w = Check(value, nameof(W)); }

    /// <summary>Channels (innermost).</summary>
    public int C { get => _c; init => _c = Check(value, nameof(C)); }

    /// <summary>N·H·W·C as a long, because large batches of large images overflow int.</summary>
    /// <exception cref="OverflowException">The product does not fit in a long.</exception>
    public long ElementCount => checked((long)_n * _h * _w * _c);

    /// <summary>"NxHxWxC", the form <see cref="Parse"/> reads.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{_n}x{_h}x{_w}x{_c}");

    /// <summary>Reads "NxHxWxC" (e.g. "1x224x224x3"), as written by <see cref="ToString"/> and on command lines.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="s"/> is null.</exception>
    /// <exception cref="FormatException">Not four non-negative integers separated by 'x'.</exception>
    public static TensorShape Parse(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return TryParse(s, out var shape)
            ? shape
            : throw new FormatException($"'{s}' is not a tensor shape of the form NxHxWxC (e.g. 1x224x224x3).");
    }

    /// <summary>Non-throwing <see cref="Parse"/>, for user input.</summary>
    public static bool TryParse([NotNullWhen(true)] string? s, out TensorShape shape)
    {
        shape = default;
        if (s is null)
        {
            return false;
        }

        Span<int> dims = stackalloc int[4];
        ReadOnlySpan<char> rest = s.AsSpan().Trim();
        for (int i = 0; i < 4; i++)
        {
            int sep = rest.IndexOfAny('x', 'X');
            ReadOnlySpan<char> part = i < 3 ? (sep < 0 ? default : rest[..sep]) : rest;
            if (part.IsEmpty || (i == 3 && sep >= 0)
                || !int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]))
            {
                return false;
            }

            rest = i < 3 ? rest[(sep + 1)..] : default;
        }

        shape = new TensorShape(dims[0], dims[1], dims[2], dims[3]);
        return true;
    }

    private static int Check(int value, string dimension) =>
        value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(dimension, value, $"Tensor dimension {dimension} must be non-negative.");
}
