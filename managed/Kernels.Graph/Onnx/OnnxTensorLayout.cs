namespace Kernels.Graph.Onnx;

/// <summary>
/// The link between one ONNX graph input or output and the IR value that carries it. The ONNX tensor (dimensions
/// <paramref name="OnnxDims"/>, row-major) is a reshape of a source tensor of dimensions <paramref name="SourceDims"/>
/// (the same element order), and the IR value's buffer holds that source tensor transposed by
/// <paramref name="Permutation"/>: row-major over SourceDims[Permutation[0]], SourceDims[Permutation[1]], …
/// An NCHW activation is source = ONNX dims with permutation [0, 2, 3, 1] (the IR's NHWC); a matrix or a tensor kept
/// in ONNX order has the identity; an NCHW tensor flattened to N×(C·H·W) keeps its NCHW source and permutation.
/// </summary>
/// <param name="OnnxName">The ONNX value name.</param>
/// <param name="Value">The IR value.</param>
/// <param name="OnnxDims">The ONNX dimensions.</param>
/// <param name="SourceDims">The dimensions the buffer permutes (their product is the ONNX element count).</param>
/// <param name="Permutation">For each buffer axis, outermost first, the source axis it holds.</param>
public sealed record OnnxTensorLayout(string OnnxName, Value Value, IReadOnlyList<long> OnnxDims, IReadOnlyList<long> SourceDims, IReadOnlyList<int> Permutation)
{
    /// <summary>True when the IR buffer is in the ONNX element order (no conversion needed).</summary>
    public bool IsOnnxOrder => IsEffectivelyIdentity(SourceDims, Permutation);

    /// <summary>Converts ONNX-ordered data (as read from a .pb or .npy file) to the IR value's order.</summary>
    /// <exception cref="ArgumentException">The length is not the value's element count.</exception>
    public float[] ToInternal(ReadOnlySpan<float> onnx)
    {
        CheckLength(onnx.Length);
        var result = new float[onnx.Length];
        int[] map = BufferIndexMap(SourceDims, Permutation);
        for (int i = 0; i < map.Length; i++)
        {
            result[map[i]] = onnx[i];
        }

        return result;
    }

    /// <summary>Converts IR-ordered results to the ONNX element order.</summary>
    /// <exception cref="ArgumentException">The length is not the value's element count.</exception>
    public double[] ToOnnx(ReadOnlySpan<double> internalData)
    {
        CheckLength(internalData.Length);
        var result = new double[internalData.Length];
        int[] map = BufferIndexMap(SourceDims, Permutation);
        for (int i = 0; i < map.Length; i++)
        {
            result[i] = internalData[map[i]];
        }

        return result;
    }

    /// <summary>Converts IR-ordered results to the ONNX element order.</summary>
    /// <exception cref="ArgumentException">The length is not the value's element count.</exception>
    public float[] ToOnnx(ReadOnlySpan<float> internalData)
    {
        CheckLength(internalData.Length);
        var result = new float[internalData.Length];
        int[] map = BufferIndexMap(SourceDims, Permutation);
        for (int i = 0; i < map.Length; i++)
        {
            result[i] = internalData[map[i]];
        }

        return result;
    }

    private void CheckLength(int length)
    {
        if (length != Value.Shape.ElementCount)
        {
            throw new ArgumentException(
                $"ONNX value '{OnnxName}' is [{string.Join(", ", OnnxDims)}] ({Value.Shape.ElementCount} values); {length} given.");
        }
    }

    /// <summary>
    /// For each element of the source tensor in row-major order (the ONNX order), its index in the buffer that holds
    /// the source transposed by <paramref name="permutation"/>.
    /// </summary>
    internal static int[] BufferIndexMap(IReadOnlyList<long> source, IReadOnlyList<int> permutation)
    {
        int rank = source.Count;
        long count = 1;
        foreach (long d in source)
        {
            count *= d;
        }

        // The buffer stride of each source axis.
        var stride = new long[rank];
        long s = 1;
        for (int j = rank - 1; j >= 0; j--)
        {
            stride[permutation[j]] = s;
            s *= source[permutation[j]];
        }

        var map = new int[count];
        var index = new long[rank];
        long offset = 0;
        for (long i = 0; i < count; i++)
        {
            map[i] = (int)offset;
            for (int a = rank - 1; a >= 0; a--)
            {
                index[a]++;
                offset += stride[a];
                if (index[a] < source[a])
                {
                    break;
                }

                offset -= index[a] * stride[a];
                index[a] = 0;
            }
        }

        return map;
    }

    /// <summary>True when the permutation keeps the axes longer than 1 in source order (the buffer is row-major in the source order).</summary>
    internal static bool IsEffectivelyIdentity(IReadOnlyList<long> source, IReadOnlyList<int> permutation)
    {
        int last = -1;
        foreach (int a in permutation)
        {
            if (source[a] == 1)
            {
                continue;
            }

            if (a < last)
            {
                return false;
            }

            last = a;
        }

        return true;
    }
}
