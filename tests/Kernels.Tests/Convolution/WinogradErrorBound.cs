using Kernels.Core;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Convolution.Winograd;

namespace Kernels.Tests.Convolution;

/// <summary>
/// A component-wise float32 error bound for a Winograd output, derived the way Higham bounds a dot product.
/// For output (oy, ox) in tile (oy / m, ox / m) at offset (i, j), with U_c = G·g_c·Gᵀ (the filters of input
/// channel c) and V_c = Bᵀ·d_c·B (the tile's zero-padded input patch), the kernel computes
/// y = [Aᵀ·(Σ_c Û_c ⊙ V̂_c)·A]_(i,j) + bias, where
/// <list type="bullet">
/// <item>Û = U(1 + δ), |δ| ≤ u = 2⁻²⁴: the filter transform runs in float64 and is rounded once;</item>
/// <item>V̂ = V + E with |E| ≤ γ₄·|Bᵀ|·|d|·|B|: two 1-D passes, each output at most two roundings deep (one for F2);</item>
/// <item>the GEMM sums IC products with fused multiply-adds: γ_IC relative to Σ_c |Û_c|⊙|V̂_c|;</item>
/// <item>the output transform is two passes at most three roundings deep (γ₆), then one rounding for the bias.</item>
/// </list>
/// So |ŷ - y| ≤ γ_(IC+12)·(|Aᵀ|·P·|A| + |bias|) with P = Σ_c (|G|·|g_c|·|Gᵀ|) ⊙ (|Bᵀ|·|d_c|·|B|), and the fused
/// activation, 1-Lipschitz, does not widen it. This function returns (IC + 16)·u times that magnitude (the +4
/// covers the γ_n = n·u/(1 - n·u) denominators). The magnitude is larger than the direct convolution's Σ|w·x|
/// by the transforms' coefficients (up to 8 in F4's Aᵀ, 5 in its Bᵀ), which is where Winograd's extra error comes from;
/// a wrong coefficient makes errors of the order of the output itself, far above this bound.
/// </summary>
internal static class WinogradErrorBound
{
    /// <summary>The bound for every dense output (Batch·OH·OW·OC), for the tile size of <paramref name="algorithm"/>.</summary>
    public static double[] Compute(ConvolutionAlgorithm algorithm, Conv2DDescriptor d, float[] input, float[] weights, float[]? bias)
    {
        var tile = algorithm == ConvolutionAlgorithm.WinogradF4 ? WinogradTile.F4 : WinogradTile.F2;
        int m = tile.M, a = tile.Alpha, ic = d.InputChannels, oc = d.OutputChannels;
        int oh = d.OutputHeight, ow = d.OutputWidth;
        var absG = Abs(tile.G);
        var absBT = Abs(tile.BT);
        var absAT = Abs(tile.AT);

        // |U| for every (o, c): |G|·|g|·|Gᵀ|.
        var absU = new double[oc, ic, a * a];
        var g = new double[3, 3];
        for (int o = 0; o < oc; o++)
        {
            for (int c = 0; c < ic; c++)
            {
                for (int ky = 0; ky < 3; ky++)
                {
                    for (int kx = 0; kx < 3; kx++)
                    {
                        g[ky, kx] = Math.Abs(weights[(((o * 3) + ky) * 3 + kx) * ic + c]);
                    }
                }

                var u = Triple(absG, g, absG);
                for (int p = 0; p < a * a; p++)
                {
                    absU[o, c, p] = u[p / a, p % a];
                }
            }
        }

        var result = new double[(long)d.Batch * oh * ow * oc];
        double unit = (ic + 16) * Math.Pow(2, -24);
        var patch = new double[a, a];
        var absV = new double[ic, a * a];
        var sum = new double[a, a];
        for (int n = 0; n < d.Batch; n++)
        {
            for (int ty = 0; ty * m < oh; ty++)
            {
                for (int tx = 0; tx * m < ow; tx++)
                {
                    for (int c = 0; c < ic; c++)
                    {
                        for (int y = 0; y < a; y++)
                        {
                            for (int x = 0; x < a; x++)
                            {
                                int iy = (ty * m) - d.PadTop + y, ix = (tx * m) - d.PadLeft + x;
                                bool inside = iy >= 0 && iy < d.InputHeight && ix >= 0 && ix < d.InputWidth;
                                patch[y, x] = inside ? Math.Abs(input[((((long)n * d.InputHeight) + iy) * d.InputWidth + ix) * ic + c]) : 0;
                            }
                        }

                        var v = Triple(absBT, patch, absBT);
                        for (int p = 0; p < a * a; p++)
                        {
                            absV[c, p] = v[p / a, p % a];
                        }
                    }

                    for (int o = 0; o < oc; o++)
                    {
                        for (int p = 0; p < a * a; p++)
                        {
                            double s = 0;
                            for (int c = 0; c < ic; c++)
                            {
                                s += absU[o, c, p] * absV[c, p];
                            }

                            sum[p / a, p % a] = s;
                        }

                        var y = Triple(absAT, sum, absAT);
                        for (int i = 0; i < m && (ty * m) + i < oh; i++)
                        {
                            for (int j = 0; j < m && (tx * m) + j < ow; j++)
                            {
                                long e = ((((long)n * oh) + (ty * m) + i) * ow + (tx * m) + j) * oc + o;
                                result[e] = unit * (y[i, j] + (bias is null ? 0 : Math.Abs(bias[o])));
                            }
                        }
                    }
                }
            }
        }

        return result;
    }

    private static double[,] Abs(double[,] x)
    {
        var r = new double[x.GetLength(0), x.GetLength(1)];
        for (int i = 0; i < x.GetLength(0); i++)
        {
            for (int j = 0; j < x.GetLength(1); j++)
            {
                r[i, j] = Math.Abs(x[i, j]);
            }
        }

        return r;
    }

    /// <summary>L·X·Rᵀ.</summary>
    internal static double[,] Triple(double[,] l, double[,] x, double[,] r)
    {
        int rows = l.GetLength(0), inner = l.GetLength(1), cols = r.GetLength(0);
        var lx = new double[rows, x.GetLength(1)];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < x.GetLength(1); j++)
            {
                double s = 0;
                for (int k = 0; k < inner; k++)
                {
                    s += l[i, k] * x[k, j];
                }

                lx[i, j] = s;
            }
        }

        var y = new double[rows, cols];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int k = 0; k < x.GetLength(1); k++)
                {
                    s += lx[i, k] * r[j, k];
                }

                y[i, j] = s;
            }
        }

        return y;
    }
}
