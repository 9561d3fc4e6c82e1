namespace Kernels.Cpu.Gemm;

/// <summary>Flags of the micro-kernel store (the same bits as the C ABI's KN_GEMM_*).</summary>
[Flags]
public enum GemmStoreFlags
{
    /// <summary>Overwrite C with the product (plus bias).</summary>
    None = 0,

    /// <summary>Add the product to what C holds: every K block after the first.</summary>
    Accumulate = 1,

    /// <summary>Clamp to [min, max] before storing: the last K block, when an activation is fused.</summary>
    Clamp = 2,

    /// <summary>
    /// Leaky ReLU before storing, with the slope passed as <c>min</c> (<c>max</c> unused):
    /// acc = fma(min(acc, 0), slope, max(acc, 0)), which is acc for acc ≥ 0 and slope·acc below, exactly.
    /// The last K block, when a leaky ReLU is fused; never together with <see cref="Clamp"/>.
    /// </summary>
    LeakyRelu = 4,
}

/// <summary>
/// One register-blocked SGEMM micro-kernel: computes an MR×NR tile of C from one packed A panel
/// (kc×MR, MR values per k) and one packed B panel (kc×NR, NR values per k).
/// For i &lt; m, j &lt; n: acc = Σ_p a[p·MR+i]·b[p·NR+j] (p ascending); acc += C[i,j] when
/// <see cref="GemmStoreFlags.Accumulate"/>; acc += bias[j] when bias is not null;
/// acc = clamp(acc, min, max) when <see cref="GemmStoreFlags.Clamp"/>; acc = leaky ReLU of acc with
/// slope min when <see cref="GemmStoreFlags.LeakyRelu"/>; C[i,j] = acc.
/// Only the m×n corner is written.
/// </summary>
public sealed unsafe class SgemmMicroKernel
{
    private readonly Func<bool> _canExecute;
    private readonly Func<bool> _isNative;

    internal SgemmMicroKernel(
        string name,
        string isa,
        int mr,
        int nr,
        Func<bool> isNative,
        Func<bool> canExecute,
        delegate*<int, float*, float*, float*, nint, int, int, float*, float, float, int, void> function,
        delegate*<int, float*, nint, float*, float*, nint, int, int, float*, float, float, int, void> unpackedAFunction = null)
    {
        Name = name;
        Isa = isa;
        MR = mr;
        NR = nr;
        _isNative = isNative;
        _canExecute = canExecute;
        Function = function;
        UnpackedAFunction = unpackedAFunction;
    }

    /// <summary>Registry name: data type, tile, ISA (XNNPACK style), e.g. <c>f32-gemm-8x12-advsimd</c>.</summary>
    public string Name { get; }

    /// <summary>Instruction set the kernel is written for.</summary>
    public string Isa { get; }

    /// <summary>Rows of the C tile (rows of a packed A panel).</summary>
    public int MR { get; }

    /// <summary>Columns of the C tile (columns of a packed B panel).</summary>
    public int NR { get; }

    /// <summary>True when this CPU runs the kernel on its own instructions at full speed.</summary>
    public bool IsSupported => _isNative();

    /// <summary>
    /// True when the kernel can run here at all: natively, or (AdvSimd kernels on x86) through the
    /// bit-exact Neon shim, which is how the ARM kernels are tested without ARM hardware.
    /// </summary>
    public bool CanExecute => _canExecute();

    /// <summary>True for the ARM kernels: their A panels are packed by the AdvSimd code (through the Neon shim off ARM).</summary>
    internal bool PacksWithNeon => Isa is "advsimd" or "neon (C)";

    /// <summary>
    /// Optional variant reading a full MR-row tile of A in place (row-major, leading dimension lda) instead of a
    /// packed panel: (kc, a, lda, b, c, ldc, m = MR, n, bias, min, max, flags); null when the kernel has none.
    /// </summary>
    internal delegate*<int, float*, nint, float*, float*, nint, int, int, float*, float, float, int, void> UnpackedAFunction { get; }

    /// <summary>The kernel entry point.</summary>
    internal delegate*<int, float*, float*, float*, nint, int, int, float*, float, float, int, void> Function { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
