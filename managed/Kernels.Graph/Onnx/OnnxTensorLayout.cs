namespace Kernels.Graph.Onnx;

/// <summary>How an ONNX tensor's elements are arranged in the IR value that carries it.</summary>
public enum OnnxLayoutKind
{
    /// <summary>An ONNX N×C×H×W tensor held as the IR's N×H×W×C.</summary>
    Nchw,

    /// <summary>An ONNX N×C matrix held as N×1×1×C (same element order).</summary>
    Matrix,

    /// <summary>
    /// An ONNX N×(C·H·W) matrix made by flattening an N×C×H×W tensor, held as N×1×1×(H·W·C) in NHWC order (the IR's
    /// Flatten): the same elements, permuted within each row.
    /// </summary>
    FlattenedNhwc,

    /// <summary>
    /// An ONNX tensor of rank 1 ([C]) or rank 3 ([N, W, C]) held as N×1×W×C (same element order, the last axis as
    /// channels); only element-wise operators and a softmax over the last axis accept it.
    /// </summary>
    ChannelsLast,
}

/// <summary>
/// The link between one ONNX graph input or output and the IR value that carries it, with the conversions between
/// the ONNX element order (NCHW, row-major) and the IR's (NHWC).
/// </summary>
/// <param name="OnnxName">The ONNX value name.</param>
/// <param name="Value">The IR value.</param>
/// <param name="OnnxDims">The ONNX dimensions (rank 4 for <see cref="OnnxLayoutKind.Nchw"/>, rank 1 or 3 for <see cref="OnnxLayoutKind.ChannelsLast"/>, rank 2 otherwise).</param>
/// <param name="Kind">The arrangement.</param>
/// <param name="Channels">C of the NCHW source (the tensor itself for <see cref="OnnxLayoutKind.Nchw"/>; the flattened one for <see cref="OnnxLayoutKind.FlattenedNhwc"/>; the columns otherwise).</param>
/// <param name="Height">H of the NCHW source (1 for a plain matrix).</param>
/// <param name="Width">W of the NCHW source (1 for a plain matrix).</param>
public sealed record OnnxTensorLayout(
    string OnnxName, Value Value, IReadOnlyList<long> OnnxDims, OnnxLayoutKind Kind, int Channels, int Height, int Width)
{
    /// <summary>Elements per image.</summary>
    private int PerImage => Channels * Height * Width;

    /// <summary>Converts ONNX-ordered data (as read from a .pb file) to the IR value's NHWC order.</summary>
    /// <exception cref="ArgumentException">The length is not the value's element count.</exception>
    public float[] ToInternal(ReadOnlySpan<float> onnx)
    {
        CheckLength(onnx.Length);
        var result = new float[onnx.Length];
        int[] map = NchwToNhwc(onnx.Length);
        for (int i = 0; i < map.Length; i++)
        {
            result[map[i]] = onnx[i];
        }

        return result;
    }

    /// <summary>Converts IR-ordered (NHWC) results to the ONNX element order.</summary>
    /// <exception cref="ArgumentException">The length is not the value's element count.</exception>
    public double[] ToOnnx(ReadOnlySpan<double> internalData)
    {
        CheckLength(internalData.Length);
        var result = new double[internalData.Length];
        int[] map = NchwToNhwc(internalData.Length);
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

    /// <summary>For each ONNX-ordered index, the IR-ordered index of the same element.</summary>
    private int[] NchwToNhwc(int length)
    {
        var map = new int[length];
        if (Kind is OnnxLayoutKind.Matrix or OnnxLayoutKind.ChannelsLast || Channels == 1 || Height * Width == 1)
        {
            for (int i = 0; i < length; i++)
            {
                map[i] = i;
            }

            return map;
        }

        int hw = Height * Width;
        for (int n = 0; n < length / PerImage; n++)
        {
            int image = n * PerImage;
            for (int c = 0; c < Channels; c++)
            {
                for (int p = 0; p < hw; p++)
                {
                    map[image + (c * hw) + p] = image + (p * Channels) + c;
                }
            }
        }

        return map;
    }
}
