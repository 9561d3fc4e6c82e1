using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// The fixed-point requantization every int8 GEMM kernel applies in its store, and its definition.
/// <para>
/// <b>Definition</b> (TFLite's single-rounding mode, one rounding, not gemmlowp's two): for the int32
/// pre-activation x (accumulator + folded bias, wrapping) and a per-output-channel multiplier
/// M ∈ [0, 2³¹) with right shift s ∈ [0, 31], the real scale is M·2^−(31+s) and
/// <code>y = (x·M + 2^(30+s)) &gt;&gt; (31+s)</code>
/// computed exactly in 64 bits, &gt;&gt; being an arithmetic (flooring) shift: round to nearest, ties
/// toward +∞ (−2.5 → −2, 2.5 → 3). Then out = clamp(y + zeroPoint, min, max), stored as a byte;
/// fused ReLU/ReLU6 are just a tighter [min, max].
/// </para>
/// <para>
/// <b>How the kernels compute it</b> without a 64-bit variable shift (AVX2 has no vpsraq): with
/// P = x·M, |P| &lt; 2⁶², u = ⌊P/2³¹⌋ (bits 31..62 of P, an int32) and v = bits 30..61 of P,
/// y = (u &gt;&gt; s) + ((v &gt;&gt;&gt; s) &amp; 1), because ⌊(P + 2^(s+30))/2^(s+31)⌋ = ⌊P/2^(s+31)⌋ + bit (30+s) of P.
/// u and v are constant 64-bit shifts (vpsrlq/shrn), the rest is 32-bit lane arithmetic with per-lane
/// variable shifts (vpsravd/vpsrlvd, sshl/ushl). The clamp is applied to y against
/// [min − zeroPoint, max − zeroPoint] before adding zeroPoint, which equals the exact clamp with no overflow.
/// The tests check every kernel against the 64-bit formula written independently.
/// </para>
/// </summary>
public static class Requantization
{
    /// <summary>Largest accepted right shift.</summary>
    public const int MaxShift = 31;

    /// <summary>Largest |output zero point| accepted (keeps min − zeroPoint inside int32 with a wide margin).</summary>
    public const int MaxZeroPointMagnitude = 1 << 24;

    /// <summary>
    /// Splits a real scale in (0, 1) into a Q31 multiplier in [2³⁰, 2³¹) and a right shift in [0, 31], so that
    /// scale ≈ multiplier·2^−(31+shift) (the multiplier rounded to nearest). Scales below 2⁻³² get a smaller,
    /// unnormalized multiplier at shift 31 (0 for scales below 2⁻⁶³).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">scale is not in (0, 1) or is NaN.</exception>
    public static (int Multiplier, int Shift) QuantizeMultiplier(double scale)
    {
        if (!(scale > 0 && scale < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The requantization scale must be in (0, 1).");
        }

        int exponent = 0;
        double normalized = scale;
        while (normalized < 0.5 && exponent < MaxShift)
        {
            normalized *= 2;
            exponent++;
        }

        long multiplier = (long)Math.Round(normalized * (1L << 31), MidpointRounding.AwayFromZero);
        if (multiplier == 1L << 31)
        {
            // normalized rounded up to 1.0: the same value is 2³⁰ at one bit less of shift (or, at shift 0,
            // the largest multiplier, since the scale must stay below 1).
            if (exponent > 0)
            {
                exponent--;
                multiplier = 1L << 30;
            }
            else
            {
                multiplier = int.MaxValue;
            }
        }

        return ((int)multiplier, exponent);
    }

    /// <summary>The real scale a (multiplier, shift) pair stands for.</summary>
    public static double Scale(int multiplier, int shift) => multiplier * Math.Pow(2, -(31 + shift));

    /// <summary>
    /// Scalar requantization of one value, computed the way the vector kernels do (see the class remarks);
    /// used by the portable kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Apply(int x, int multiplier, int shift, int low, int high, int zeroPoint)
    {
        long p = (long)x * multiplier;
        int u = (int)(p >> 31);
        int v = (int)((ulong)p >> 30);
        int y = (u >> shift) + (int)(((uint)v >> shift) & 1);
        y = Math.Min(Math.Max(y, low), high);
        return (byte)(y + zeroPoint);
    }

    /// <summary>Checks the per-channel parameters: every multiplier ≥ 0, every shift in [0, 31].</summary>
    /// <exception cref="ArgumentException">A length or a value is out of range (the message names the channel).</exception>
    public static void ValidateChannels(int n, ReadOnlySpan<int> multipliers, ReadOnlySpan<int> shifts, string multipliersName, string shiftsName)
    {
        if (multipliers.Length < n)
        {
            throw new ArgumentException($"{multipliersName} has {multipliers.Length} elements; N is {n} (one per output channel).", multipliersName);
        }

        if (shifts.Length < n)
        {
            throw new ArgumentException($"{shiftsName} has {shifts.Length} elements; N is {n} (one per output channel).", shiftsName);
        }

        for (int j = 0; j < n; j++)
        {
            if (multipliers[j] < 0)
            {
                throw new ArgumentException($"{multipliersName}[{j}] is {multipliers[j]}; a Q31 multiplier must be in [0, 2^31).", multipliersName);
            }

            if ((uint)shifts[j] > MaxShift)
            {
                throw new ArgumentException($"{shiftsName}[{j}] is {shifts[j]}; a right shift must be in [0, {MaxShift}].", shiftsName);
            }
        }
    }
}
