using Kernels.Core.Threading;

namespace Kernels.Graph.Execution;

/// <summary>
/// <see cref="OperatorKind.QuantizeLinear"/>, <see cref="OperatorKind.DequantizeLinear"/> and
/// <see cref="OperatorKind.Requantize"/> over dense NHWC values, per channel: integers held as float at the boundary
/// of a float graph (imported ONNX integer operators). One float32 division or product, then round half to even
/// (<see cref="MathF.Round(float)"/>), as ONNX Runtime computes them, so the integers match ONNX's. The input may be the output.
/// </summary>
internal sealed unsafe class LinearQuantizationStep : ExecutionStep
{
    private readonly OperatorKind _kind;
    private readonly float[] _scale;
    private readonly float[] _zeroPoint;
    private readonly float _min;
    private readonly float _max;
    private readonly long _pixels;
    private readonly TensorRef _input;
    private readonly TensorRef _output;

    public LinearQuantizationStep(PlanStepInfo info, Node node, TensorRef input, TensorRef output)
        : base(info)
    {
        _kind = node.Kind;
        _scale = node.Constants[0].Data.ToArray();
        _zeroPoint = node.Constants[1].Data.ToArray();
        if (node.Kind == OperatorKind.DequantizeLinear)
        {
            (_min, _max) = (float.NegativeInfinity, float.PositiveInfinity);
        }
        else
        {
            QuantizeAttributes range = node.GetAttributes<QuantizeAttributes>();
            (_min, _max) = (range.Min, range.Max);
        }

        _pixels = node.Output.Shape.ElementCount / _scale.Length;
        _input = input;
        _output = output;
    }

    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        float* x = b[_input], y = b[_output];
        int c = _scale.Length;
        for (long p = 0; p < _pixels; p++)
        {
            float* xr = x + (p * c), yr = y + (p * c);
            for (int i = 0; i < c; i++)
            {
                float q = _kind switch
                {
                    OperatorKind.DequantizeLinear => (xr[i] - _zeroPoint[i]) * _scale[i],
                    OperatorKind.QuantizeLinear => MathF.Round(xr[i] / _scale[i]) + _zeroPoint[i],
                    _ => MathF.Round(xr[i] * _scale[i]) + _zeroPoint[i],
                };
                yr[i] = _kind == OperatorKind.DequantizeLinear ? q : float.IsNaN(q) ? _zeroPoint[i] : Math.Clamp(q, _min, _max);
            }
        }
    }
}
