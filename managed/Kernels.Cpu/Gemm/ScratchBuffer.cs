using Kernels.Core;

namespace Kernels.Cpu.Gemm;

/// <summary>
/// A per-thread packing buffer that only grows: after the first call of a given size no call
/// allocates. Worker threads live as long as their group, so their buffers are reused.
/// </summary>
internal sealed unsafe class ScratchBuffer
{
    private NativeBuffer<float> _buffer = new(1024, zero: false);

    /// <summary>Returns at least <paramref name="floats"/> floats of 64-byte-aligned scratch for the calling thread.</summary>
    public static float* Get(ref ScratchBuffer? slot, long floats)
    {
        slot ??= new ScratchBuffer();
        if (slot._buffer.Length < floats)
        {
            slot._buffer.Dispose();
            slot._buffer = new NativeBuffer<float>(Math.Max(floats, slot._buffer.Length * 2), zero: false);
        }

        return slot._buffer.Pointer;
    }
}
