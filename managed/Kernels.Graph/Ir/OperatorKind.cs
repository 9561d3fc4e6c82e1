namespace Kernels.Graph;

/// <summary>
/// The operators of the graph IR. Names follow ONNX where ONNX has the operator, so the importer maps
/// one to one; <see cref="Relu6"/> has no ONNX node of its own (ONNX writes Clip(0, 6)) but is kept apart
/// because kernels fuse it as a clamp without reading bounds.
/// </summary>
public enum OperatorKind
{
    /// <summary>2-D convolution (groups and depthwise included); attributes: <see cref="Kernels.Core.Conv2DDescriptor"/>; constants: OHWI weights, optional bias.</summary>
    Conv,

    /// <summary>Inference batch normalization; attributes: <see cref="BatchNormAttributes"/>; constants: scale, bias, mean, variance (each [C]).</summary>
    BatchNormalization,

    /// <summary>max(x, 0); attributes: <see cref="Kernels.Cpu.Layers.ActivationDescriptor"/>.</summary>
    Relu,

    /// <summary>min(max(x, 0), 6); attributes: <see cref="Kernels.Cpu.Layers.ActivationDescriptor"/>.</summary>
    Relu6,

    /// <summary>x or slope·x; attributes: <see cref="Kernels.Cpu.Layers.ActivationDescriptor"/>.</summary>
    LeakyRelu,

    /// <summary>min(max(x, Min), Max); attributes: <see cref="Kernels.Cpu.Layers.ActivationDescriptor"/>.</summary>
    Clip,

    /// <summary>Max pooling; attributes: <see cref="Kernels.Cpu.Layers.Pool2DDescriptor"/>.</summary>
    MaxPool,

    /// <summary>Average pooling; attributes: <see cref="Kernels.Cpu.Layers.Pool2DDescriptor"/>.</summary>
    AveragePool,

    /// <summary>Mean over H×W per channel, output N×1×1×C; attributes: <see cref="Kernels.Cpu.Layers.GlobalAveragePoolDescriptor"/>.</summary>
    GlobalAveragePool,

    /// <summary>Local response normalization across channels; attributes: <see cref="Kernels.Cpu.Layers.LrnDescriptor"/>.</summary>
    Lrn,

    /// <summary>Concatenation along channels of inputs with equal N, H, W; no attributes.</summary>
    Concat,

    /// <summary>Element-wise sum of two equal shapes (residual shortcut); attributes: <see cref="Kernels.Cpu.Layers.ElementwiseAddDescriptor"/>.</summary>
    Add,

    /// <summary>Inner product (ONNX Gemm with transB) of an N×1×1×K input; attributes: <see cref="Kernels.Cpu.Layers.FullyConnectedDescriptor"/>; constants: [OC, K] weights, optional bias.</summary>
    FullyConnected,

    /// <summary>Softmax over channels; attributes: <see cref="Kernels.Cpu.Layers.SoftmaxDescriptor"/>.</summary>
    Softmax,

    /// <summary>Identity at inference (kept so imported and zoo graphs match their training graphs); attributes: <see cref="DropoutAttributes"/>.</summary>
    Dropout,

    /// <summary>N×H×W×C → N×1×1×(H·W·C) in NHWC order; no attributes.</summary>
    Flatten,

    /// <summary>1 / (1 + e^-x) element-wise; no attributes.</summary>
    Sigmoid,

    /// <summary>max(0, min(1, α·x + β)) element-wise; attributes: <see cref="HardSigmoidAttributes"/>.</summary>
    HardSigmoid,

    /// <summary>Element-wise product of two inputs of the same shape; attributes: <see cref="Kernels.Cpu.Layers.ElementwiseAddDescriptor"/> (shape only).</summary>
    Mul,

    /// <summary>
    /// Per-channel affine map y = x·scale[c] + shift[c] (ONNX Mul/Add by a per-channel or scalar constant); constants:
    /// scale and shift, each [C]; no attributes. Folded into a producing convolution when it can be.
    /// </summary>
    ChannelAffine,

    /// <summary>A constant tensor used as an activation (no inputs; one constant of the output's size, NHWC order); attributes: <see cref="ConstantTensorAttributes"/>.</summary>
    ConstantTensor,

    /// <summary>The same values under another shape (the element count is kept); attributes: <see cref="ReshapeAttributes"/>. Costs nothing: the executor aliases it.</summary>
    Reshape,

    /// <summary>Padding of the H, W and C axes (constant, edge or reflect); attributes: <see cref="PadAttributes"/>.</summary>
    Pad,

    /// <summary>
    /// ONNX QuantizeLinear held in float: y = clamp(round_half_even(x / scale[c]) + zeroPoint[c], Min, Max), the integers
    /// kept as float values; attributes: <see cref="QuantizeAttributes"/>; constants: scale and zero point, each [C].
    /// </summary>
    QuantizeLinear,

    /// <summary>ONNX DequantizeLinear of integers held in float: y = (x − zeroPoint[c])·scale[c]; no attributes; constants: scale and zero point, each [C].</summary>
    DequantizeLinear,

    /// <summary>
    /// An integer accumulator (held exactly in float) to 8 bits, as ONNX runtimes requantize QLinearConv and QLinearMatMul:
    /// y = clamp(round_half_even(x·multiplier[c]) + zeroPoint[c], Min, Max); attributes: <see cref="QuantizeAttributes"/>;
    /// constants: multiplier and zero point, each [C].
    /// </summary>
    Requantize,
}
