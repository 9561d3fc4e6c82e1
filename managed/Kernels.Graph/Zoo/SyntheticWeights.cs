namespace Kernels.Graph.Zoo;

/// <summary>
/// Deterministic synthetic values for zoo constants. Each constant's stream is seeded from the model seed and the
/// constant's name, so the values do not depend on the order in which lazy constants are first read, and xoshiro128+
/// fills a float array at about a nanosecond per value (ResNet50's 25.6M floats in tens of milliseconds; a
/// System.Random per value would cost several times that).
/// </summary>
internal static class SyntheticWeights
{
    /// <summary>The stream seed of one constant: FNV-1a of its name mixed with the model seed by SplitMix64.</summary>
    public static ulong StreamSeed(int modelSeed, string constantName)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char ch in constantName)
        {
            hash = (hash ^ ch) * 1099511628211UL;
        }

        return SplitMix64(hash ^ ((ulong)(uint)modelSeed * 0x9E3779B97F4A7C15UL));
    }

    /// <summary><paramref name="count"/> values uniform in [low, high).</summary>
    public static float[] Uniform(ulong seed, long count, float low, float high)
    {
        var values = new float[count];
        ulong s0 = SplitMix64(seed);
        ulong s1 = SplitMix64(s0 ^ 0xD1B54A32D192ED03UL);
        uint a = (uint)s0, b = (uint)(s0 >> 32), c = (uint)s1, d = (uint)(s1 >> 32);
        if ((a | b | c | d) == 0)
        {
            a = 1; // the all-zero state is xoshiro's one fixed point
        }

        float scale = (high - low) * (1f / (1 << 24));
        for (long i = 0; i < values.LongLength; i++)
        {
            uint result = a + d;
            uint t = b << 9;
            c ^= a;
            d ^= b;
            b ^= c;
            a ^= d;
            c ^= t;
            d = uint.RotateLeft(d, 11);

            // The top 24 bits: exactly representable, so the value never rounds up to high.
            values[i] = low + ((result >> 8) * scale);
        }

        return values;
    }

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
