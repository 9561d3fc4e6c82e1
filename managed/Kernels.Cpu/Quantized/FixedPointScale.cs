using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// A positive real factor r as an integer multiplier and a total right shift, for the quantized layers whose
/// rescale may be larger than 1 (average pooling by a small window, element-wise add):
/// r ≈ <see cref="Multiplier"/>·2^−<see cref="Shift"/>, the multiplier in [2³⁰, 2³¹) (smaller only for r &lt; 2⁻³²),
/// and <c>Apply(x) = (x·M + 2^(Shift−1)) &gt;&gt; Shift</c> in 64 bits with a flooring shift: one rounding, to nearest,
/// ties toward +∞, the same rule as <see cref="Requantization"/> (whose shift is 31 + its right shift).
/// </summary>
public readonly record struct FixedPointScale(int Multiplier, int Shift)
{
    /// <summary>Largest factor accepted: 2²³ keeps the shift at 8 or more.</summary>
    public const double MaxFactor = 1 << 23;

    /// <summary>Represents <paramref name="factor"/> (in (0, 2²³]).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The factor is not in (0, 2²³] or is NaN.</exception>
    public static FixedPointScale Create(double factor)
    {
        if (!(factor > 0 && factor <= MaxFactor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, $"A fixed-point scale must be in (0, {MaxFactor}].");
        }

        // factor = f·2^e with f in [0.5, 1).
        int e = Math.ILogB(factor) + 1;
        double f = Math.ScaleB(factor, -e);
        long m = (long)Math.Round(f * (1L << 31), MidpointRounding.AwayFromZero);
        if (m == 1L << 31)
        {
            m = 1L << 30;
            e++;
        }

        int shift = 31 - e;
        if (shift > 62)
        {
            // Below 2^-32: keep the largest shift and an unnormalized multiplier.
            m = (long)Math.Round(Math.ScaleB(factor, 62), MidpointRounding.AwayFromZero);
            shift = 62;
        }

        return new FixedPointScale((int)m, shift);
    }

    /// <summary>The real factor this stands for.</summary>
    public double Factor => Math.ScaleB((double)Multiplier, -Shift);

    /// <summary>round(x·factor), ties toward +∞; |x| must be below 2³¹.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Apply(long x) => ((x * Multiplier) + (1L << (Shift - 1))) >> Shift;
}
