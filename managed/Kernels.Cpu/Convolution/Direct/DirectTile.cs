using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Convolution.Direct;

/// <summary>
/// One pixel of a partial output-channel block (up to two AVX-512 vectors) as a plain local, copied out
/// channel by channel. An inline array rather than stackalloc: no stack-cookie check, whose fail-fast call
/// would appear as a <c>bl</c> in the arm64 listing.
/// </summary>
[InlineArray(32)]
internal struct DirectTile
{
    private float _element;
}
