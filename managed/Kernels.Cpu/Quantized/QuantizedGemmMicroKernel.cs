namespace Kernels.Cpu.Quantized;

/// <summary>
/// The per-column requantization parameters of one micro-kernel call, already offset to the tile's first
/// column (NR entries readable each, padded), and the clamp, pre-shifted by the output zero point:
/// out = clamp(y, Low, High) + ZeroPoint with Low = min − zeroPoint, High = max − zeroPoint (see <see cref="Requantization"/>).
/// </summary>
internal unsafe struct RequantizeTile
{
    public int* Bias;
    public int* Multiplier;
    public int* Shift;
    public int Low;
    public int High;
    public int ZeroPoint;
}

/// <summary>
/// One register-blocked int8 GEMM micro-kernel: an MR×NR tile of uint8 C from one packed A panel and one
/// packed B panel over the whole K (int32 accumulators never leave registers between K blocks, so the
/// driver does not block K).
/// <para>
/// Packed layouts (K padded to a multiple of 4 with zeros, "groups" of 4 consecutive k, as vpdpbusd and
/// sdot consume them): a B panel is groups × NR × 4 int8, column j's 4 bytes contiguous; an A panel is
/// groups × MR × 4 bytes, row i's 4 bytes contiguous. Activations are uint8; kernels whose dot product is
/// signed × signed (<see cref="ActivationOffset"/> = 128: AdvSimd <c>sdot</c>, <c>smull</c>) get A packed
/// as a − 128 in int8 (the sign bit flipped), and the weights' column sums times 128 go into their bias.
/// </para>
/// <para>
/// Contract: for i &lt; m, j &lt; n: x = Σ_p a[p]·b[p] + Bias[j] (int32, wrapping);
/// C[i·ldc + j] = requantize(x, Multiplier[j], Shift[j]) clamped and offset as <see cref="RequantizeTile"/> says.
/// Only the m×n corner is written.
/// </para>
/// </summary>
public sealed unsafe class QuantizedGemmMicroKernel
{
    private readonly Func<bool> _isSupported;
    private readonly Func<bool> _canExecute;

    internal QuantizedGemmMicroKernel(
        string name,
        string isa,
        int mr,
        int nr,
        int activationOffset,
        Func<bool> isSupported,
        Func<bool> canExecute,
        delegate*<int, byte*, sbyte*, byte*, nint, int, int, RequantizeTile*, void> function)
    {
        Name = name;
        Isa = isa;
        MR = mr;
        NR = nr;
        ActivationOffset = activationOffset;
        _isSupported = isSupported;
        _canExecute = canExecute;
        Function = function;
    }

    /// <summary>Registry name: data types, tile, ISA (XNNPACK style), e.g. <c>qu8s8-gemm-8x12-advsimd-dot</c>.</summary>
    public string Name { get; }

    /// <summary>Instruction set the kernel is written for.</summary>
    public string Isa { get; }

    /// <summary>Rows of the C tile.</summary>
    public int MR { get; }

    /// <summary>Columns of the C tile (the B panel width).</summary>
    public int NR { get; }

    /// <summary>0 when A is consumed as uint8 (u8×s8 products: vpdpbusd, vpmaddwd, scalar); 128 when packed as a − 128 for s8×s8 instructions.</summary>
    public int ActivationOffset { get; }

    /// <summary>True when this CPU runs the kernel on its own instructions at full speed.</summary>
    public bool IsSupported => _isSupported();

    /// <summary>True when the kernel can run here at all (natively, or the AdvSimd ones through the Neon shim).</summary>
    public bool CanExecute => _canExecute();

    /// <summary>(groups of 4 k, packed A panel, packed B panel, c, ldc, m, n, requantization).</summary>
    internal delegate*<int, byte*, sbyte*, byte*, nint, int, int, RequantizeTile*, void> Function { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
