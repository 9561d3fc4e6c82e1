namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>
/// One Winograd tile size F(m×m, 3×3): the transform matrices (Lavin and Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016) and the filter transform U = G·g·Gᵀ, done once per layer at plan time in float64 and
/// rounded once to float32. The data transforms' fast forms (<see cref="WinogradF4x3Transforms"/>,
/// <see cref="WinogradF2x3Transforms"/>) are tested against <see cref="BT"/> and <see cref="AT"/>.
/// </summary>
public sealed class WinogradTile
{
    private WinogradTile(int m, double[,] g, double[,] bt, double[,] at)
    {
        M = m;
        Alpha = m + 2;
        G = g;
        BT = bt;
        AT = at;
    }

    /// <summary>F(2x2, 3x3), 4x4 tiles, interpolation points 0, 1, -1, ∞.</summary>
    public static WinogradTile F2 { get; } = new(
        2,
        new double[,] { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } },
        new double[,] { { 1, 0, -1, 0 }, { 0, 1, 1, 0 }, { 0, -1, 1, 0 }, { 0, 1, 0, -1 } },
        new double[,] { { 1, 1, 1, 0 }, { 0, 1, -1, -1 } });

    /// <summary>F(4x4, 3x3), 6x6 tiles, interpolation points 0, 1, -1, 2, -2, ∞.</summary>
    public static WinogradTile F4 { get; } = new(
        4,
        new double[,]
        {
            { 1.0 / 4, 0, 0 },
            { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
            { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
            { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
            { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
            { 0, 0, 1 },
        },
        new double[,]
        {
            { 4, 0, -5, 0, 1, 0 },
            { 0, -4, -4, 1, 1, 0 },
            { 0, 4, -4, -1, 1, 0 },
            { 0, -2, -1, 2, 1, 0 },
            { 0, 2, -1, -2, 1, 0 },
            { 0, 4, 0, -5, 0, 1 },
        },
        new double[,]
        {
            { 1, 1, 1, 1, 1, 0 },
            { 0, 1, -1, 2, -2, 0 },
            { 0, 1, 1, 4, 4, 0 },
            { 0, 1, -1, 8, -8, 1 },
        });

    /// <summary>Outputs per tile side.</summary>
    public int M { get; }

    /// <summary>Tile side m + 2: the input patch and the number of transformed positions per side.</summary>
    public int Alpha { get; }

    /// <summary>Filter transform, Alpha×3.</summary>
    public double[,] G { get; }

    /// <summary>Input transform Bᵀ, Alpha×Alpha.</summary>
    public double[,] BT { get; }

    /// <summary>Output transform Aᵀ, M×Alpha.</summary>
    public double[,] AT { get; }

    /// <summary>
    /// The transformed filters as Alpha² row-major [IC×OC] matrices (position p = Alpha·i + j at p·IC·OC):
    /// U[p][c][o] = (G·g[o,c]·Gᵀ)[i,j] for OHWI 3x3 weights g, computed in float64.
    /// </summary>
    public float[] TransformFilter(ReadOnlySpan<float> weights, int inputChannels, int outputChannels)
    {
        int a = Alpha, ic = inputChannels, oc = outputChannels;
        if (weights.Length != (long)oc * 9 * ic)
        {
            throw new ArgumentException($"weights has {weights.Length} floats; 3x3 OHWI weights of {oc}x{ic} channels have {oc * 9 * ic}.", nameof(weights));
        }

        var u = new float[(long)a * a * ic * oc];
        var gg = new double[a, 3];
        for (int o = 0; o < oc; o++)
        {
            for (int c = 0; c < ic; c++)
            {
                // G·g (Alpha×3), then (G·g)·Gᵀ (Alpha×Alpha).
                for (int i = 0; i < a; i++)
                {
                    for (int kx = 0; kx < 3; kx++)
                    {
                        double s = 0;
                        for (int ky = 0; ky < 3; ky++)
                        {
                            s += G[i, ky] * weights[(((o * 3) + ky) * 3 + kx) * ic + c];
                        }

                        gg[i, kx] = s;
                    }
                }

                for (int i = 0; i < a; i++)
                {
                    for (int j = 0; j < a; j++)
                    {
                        double s = (gg[i, 0] * G[j, 0]) + (gg[i, 1] * G[j, 1]) + (gg[i, 2] * G[j, 2]);
                        u[((((long)i * a) + j) * ic + c) * oc + o] = (float)s;
                    }
                }
            }
        }

        return u;
    }
}
