namespace Kernels.Graph.Reference;

/// <summary>The linear quantization operators, per element from their ONNX definitions.</summary>
public static partial class ReferenceExecutor
{
    private static double[] LinearQuantization(Node node, int channels, double[] x)
    {
        float[] scale = node.Constants[0].Data.ToArray(), zeroPoint = node.Constants[1].Data.ToArray();
        QuantizeAttributes? range = node.Kind == OperatorKind.DequantizeLinear ? null : node.GetAttributes<QuantizeAttributes>();
        var y = new double[x.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int c = i % channels;
            if (range is null)
            {
                y[i] = (x[i] - zeroPoint[c]) * scale[c];
                continue;
            }

            // ONNX defines the division (QuantizeLinear) and ONNX Runtime the product (QLinearConv, QLinearMatMul) on
            // float32 tensors: one float32 operation, then round half to even of that float.
            float scaled = node.Kind == OperatorKind.QuantizeLinear ? (float)x[i] / scale[c] : (float)x[i] * scale[c];
            double q = Math.Round((double)scaled, MidpointRounding.ToEven) + zeroPoint[c];
            y[i] = double.IsNaN(q) ? zeroPoint[c] : Math.Clamp(q, range.Min, range.Max);
        }

        return y;
    }
}
