using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Core;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// Conversions at the edges of the int8 path and between quantized tensors, on uint8 activations: quantize
/// (network input), dequantize (network output, fp32 islands), requantize (a concat input whose parameters
/// differ) and the channel-slice copy. None allocates. Saturation is never silent: <see cref="Quantize"/> and
/// <see cref="Requantize"/> return how many values were clamped to the type's range, so a profile can report it.
/// </summary>
public static unsafe class QuantizedTensors
{
    /// <summary>
    /// y = clamp(round(x / scale) + zeroPoint, 0, 255), the division in float32, ties to even, NaN to the zero point:
    /// exactly <see cref="QuantizationParameters.Quantize"/> (and ONNX QuantizeLinear), 32 values per step where
    /// 256-bit vectors are accelerated.
    /// </summary>
    /// <returns>The number of values that fell outside [0, 255] before the clamp (±∞ included, NaN not).</returns>
    /// <exception cref="ArgumentException">Invalid or non-uint8 parameters, a negative count, a null pointer.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Quantize(float* x, byte* y, long count, QuantizationParameters q)
    {
        Check(x, y, count, q, nameof(q));
        long saturated = 0;
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var scale = Vector512.Create(q.Scale);
            var zeroPoint = Vector512.Create((float)q.ZeroPoint);
            var low = Vector512<float>.Zero;
            var high = Vector512.Create(255f);
            for (; i + 64 <= count; i += 64)
            {
                Vector512<int> w0 = Step(Vector512.Load(x + i), scale, zeroPoint, low, high, ref saturated);
                Vector512<int> w1 = Step(Vector512.Load(x + i + 16), scale, zeroPoint, low, high, ref saturated);
                Vector512<int> w2 = Step(Vector512.Load(x + i + 32), scale, zeroPoint, low, high, ref saturated);
                Vector512<int> w3 = Step(Vector512.Load(x + i + 48), scale, zeroPoint, low, high, ref saturated);
                Vector512.Narrow(Vector512.Narrow(w0, w1).AsUInt16(), Vector512.Narrow(w2, w3).AsUInt16()).Store(y + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var scale = Vector256.Create(q.Scale);
            var zeroPoint = Vector256.Create((float)q.ZeroPoint);
            var low = Vector256<float>.Zero;
            var high = Vector256.Create(255f);
            for (; i + 32 <= count; i += 32)
            {
                Vector256<int> w0 = Step(Vector256.Load(x + i), scale, zeroPoint, low, high, ref saturated);
                Vector256<int> w1 = Step(Vector256.Load(x + i + 8), scale, zeroPoint, low, high, ref saturated);
                Vector256<int> w2 = Step(Vector256.Load(x + i + 16), scale, zeroPoint, low, high, ref saturated);
                Vector256<int> w3 = Step(Vector256.Load(x + i + 24), scale, zeroPoint, low, high, ref saturated);

                // Values are in [0, 255]: the narrowing is exact (its lane order is the source order).
                Vector256.Narrow(Vector256.Narrow(w0, w1).AsUInt16(), Vector256.Narrow(w2, w3).AsUInt16()).Store(y + i);
            }
        }

        for (; i < count; i++)
        {
            float r = MathF.Round(x[i] / q.Scale, MidpointRounding.ToEven) + q.ZeroPoint;
            if (float.IsNaN(r))
            {
                r = q.ZeroPoint;
            }
            else if (r is < 0 or > 255)
            {
                saturated++;
            }

            y[i] = (byte)Math.Clamp(r, 0, 255);
        }

        return saturated;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step(Vector512<float> v, Vector512<float> scale, Vector512<float> zeroPoint, Vector512<float> low, Vector512<float> high, ref long saturated)
    {
        Vector512<float> r = Vector512.Round(v / scale) + zeroPoint;
        r = Vector512.ConditionalSelect(Vector512.Equals(r, r), r, zeroPoint);
        saturated += BitOperations.PopCount((Vector512.LessThan(r, low) | Vector512.GreaterThan(r, high)).ExtractMostSignificantBits());
        return Vector512.ConvertToInt32(Vector512.Min(Vector512.Max(r, low), high));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(Vector256<float> v, Vector256<float> scale, Vector256<float> zeroPoint, Vector256<float> low, Vector256<float> high, ref long saturated)
    {
        Vector256<float> r = Vector256.Round(v / scale) + zeroPoint;
        r = Vector256.ConditionalSelect(Vector256.Equals(r, r), r, zeroPoint);
        saturated += BitOperations.PopCount((Vector256.LessThan(r, low) | Vector256.GreaterThan(r, high)).ExtractMostSignificantBits());
        return Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(r, low), high));
    }

    /// <summary>y = scale·(x − zeroPoint) in float: exactly <see cref="QuantizationParameters.Dequantize"/>.</summary>
    /// <exception cref="ArgumentException">Invalid or non-uint8 parameters, a negative count, a null pointer.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(byte* x, float* y, long count, QuantizationParameters q)
    {
        Check(x, y, count, q, nameof(q));
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var scale = Vector256.Create(q.Scale);
            var zeroPoint = Vector256.Create(q.ZeroPoint);
            for (; i + 8 <= count; i += 8)
            {
                Vector128<ushort> words = Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(x + i)).AsByte());
                Vector256<int> ints = Vector256.Create(Vector128.WidenLower(words), Vector128.WidenUpper(words)).AsInt32();
                (scale * Vector256.ConvertToSingle(ints - zeroPoint)).Store(y + i);
            }
        }

        for (; i < count; i++)
        {
            y[i] = q.Scale * (x[i] - q.ZeroPoint);
        }
    }

    /// <summary>
    /// y = clamp(round((x − from.ZeroPoint)·from.Scale / to.Scale) + to.ZeroPoint, 0, 255), the ratio and the product in
    /// double, ties to even; a copy when the parameters are equal. Through a 256-entry table built on the stack
    /// (one load per byte); x and y may be the same buffer.
    /// </summary>
    /// <returns>The number of values clamped to 0 or 255 (those whose exact image fell outside [0, 255]).</returns>
    /// <exception cref="ArgumentException">Invalid or non-uint8 parameters, a negative count, a null pointer.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Requantize(byte* x, QuantizationParameters from, byte* y, QuantizationParameters to, long count)
    {
        Check(x, y, count, from, nameof(from));
        QuantizedLayerChecks.Activations(to, nameof(to));
        if (from == to)
        {
            if (x != y)
            {
                Buffer.MemoryCopy(x, y, count, count);
            }

            return 0;
        }

        byte* table = stackalloc byte[256];
        int below = 0, above = 255;
        double ratio = from.Scale / (double)to.Scale;
        for (int v = 0; v < 256; v++)
        {
            double r = Math.Round((v - from.ZeroPoint) * ratio, MidpointRounding.ToEven) + to.ZeroPoint;
            table[v] = (byte)Math.Clamp(r, 0, 255);

            // The map is nondecreasing, so the inputs that saturate are [0, below) and (above, 255].
            if (r < 0)
            {
                below = v + 1;
            }

            if (r > 255 && above == 255)
            {
                above = v - 1;
            }
        }

        long saturated = 0;
        for (long i = 0; i < count; i++)
        {
            byte v = x[i];
            saturated += (v < below ? 1 : 0) + (v > above ? 1 : 0);
            y[i] = table[v];
        }

        return saturated;
    }

    /// <summary>The number of bytes equal to 0 or 255 (the values a clamp produces) among <paramref name="count"/>.</summary>
    /// <exception cref="ArgumentException">A negative count or a null pointer.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long CountSaturated(byte* x, long count)
    {
        QuantizedLayerChecks.NotNull(x, nameof(x));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long n = 0, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var ones = Vector256<byte>.AllBitsSet;
            for (; i + 32 <= count; i += 32)
            {
                Vector256<byte> v = Vector256.Load(x + i);
                n += BitOperations.PopCount((Vector256.Equals(v, Vector256<byte>.Zero) | Vector256.Equals(v, ones)).ExtractMostSignificantBits());
            }
        }

        for (; i < count; i++)
        {
            n += x[i] is 0 or 255 ? 1 : 0;
        }

        return n;
    }

    /// <summary>
    /// Copies <paramref name="pixels"/> pixels of <paramref name="channels"/> dense bytes into a channel slice of a
    /// wider tensor whose pixels are <paramref name="outputPixelStride"/> bytes apart (a concat input that could not
    /// be written in place); the bytes between slices are not touched.
    /// </summary>
    /// <exception cref="ArgumentException">A size out of range or a null pointer.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyChannels(byte* x, int channels, long pixels, byte* y, int outputPixelStride)
    {
        QuantizedLayerChecks.NotNull(x, nameof(x));
        QuantizedLayerChecks.NotNull(y, nameof(y));
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(pixels);
        if (outputPixelStride < channels)
        {
            throw new ArgumentException($"outputPixelStride {outputPixelStride} is smaller than the {channels} channels copied per pixel.", nameof(outputPixelStride));
        }

        if (outputPixelStride == channels)
        {
            Buffer.MemoryCopy(x, y, pixels * channels, pixels * channels);
            return;
        }

        for (long p = 0; p < pixels; p++)
        {
            Unsafe.CopyBlockUnaligned(y + (p * outputPixelStride), x + (p * channels), (uint)channels);
        }
    }

    private static void Check(void* x, void* y, long count, QuantizationParameters q, string name)
    {
        QuantizedLayerChecks.NotNull(x, nameof(x));
        QuantizedLayerChecks.NotNull(y, nameof(y));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        QuantizedLayerChecks.Activations(q, name);
    }
}
