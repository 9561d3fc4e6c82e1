namespace Kernels.Tests;

/// <summary>Deterministic test inputs.</summary>
internal static class TestData
{
    /// <summary>Uniform values in [-1, 1) from <paramref name="rng"/>.</summary>
    public static float[] RandomFloats(Random rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2.0) - 1.0);
        }

        return values;
    }
}
