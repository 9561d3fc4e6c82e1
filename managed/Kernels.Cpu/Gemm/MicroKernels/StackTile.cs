using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Gemm.MicroKernels;

/// <summary>
/// Room for the raw accumulators of a partial tile (up to 96 floats = 8x12), as a plain local.
/// Unlike <c>stackalloc</c> it brings no stack-cookie check, whose fail-fast call would show up as a
/// <c>bl</c> in the arm64 listing of the kernel.
/// </summary>
[InlineArray(96)]
internal struct StackTile96
{
    private float _element;
}
