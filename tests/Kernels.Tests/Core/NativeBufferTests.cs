using System.Runtime.InteropServices;
using Kernels.Core;
using Xunit;

namespace Kernels.Tests.Core;

public sealed unsafe class NativeBufferTests
{
    [StructLayout(LayoutKind.Sequential, Size = 3)]
    private struct ThreeBytes
    {
        public byte A;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(4096)]
    [InlineData(1_000_003)]
    public void Pointer_Is64ByteAligned(long length)
    {
        using var f = new NativeBuffer<float>(length);
        using var b = new NativeBuffer<byte>(length);
        using var t = new NativeBuffer<ThreeBytes>(length);
        Assert.Equal(0, (long)(nint)f.Pointer % 64);
        Assert.Equal(0, (long)(nint)b.Pointer % 64);
        Assert.Equal(0, (long)(nint)t.Pointer % 64);
        Assert.Equal(length, f.Length);
        Assert.Equal(length * 4, f.ByteLength);
        Assert.Equal(length * 3, t.ByteLength);
    }

    [Fact]
    public void Zero_ClearsRecycledMemory()
    {
        const int length = 1 << 16;
        for (int round = 0; round < 4; round++)
        {
            using (var dirty = new NativeBuffer<int>(length, zero: false))
            {
                dirty.AsSpan().Fill(-1);
            }

            // The allocator is likely to hand back the block just freed, dirty; zero must clear it.
            using var clean = new NativeBuffer<int>(length);
            Assert.Equal(-1, clean.AsSpan().IndexOfAnyExcept(0));
        }
    }

    [Fact]
    public void AsSpan_ViewsTheSameMemoryAsPointer()
    {
        using var buffer = new NativeBuffer<double>(100);
        var span = buffer.AsSpan();
        Assert.Equal(100, span.Length);
        span[42] = 3.5;
        Assert.Equal(3.5, buffer.Pointer[42]);
        buffer.Pointer[99] = -1;
        Assert.Equal(-1, span[99]);
    }

    [Fact]
    public void EmptyBuffer_HasEmptySpan()
    {
        using var buffer = new NativeBuffer<float>(0);
        Assert.True(buffer.AsSpan().IsEmpty);
        Assert.True(buffer.Pointer != null);
    }

    [Fact]
    public void NegativeLength_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new NativeBuffer<float>(-1));

    [Fact]
    public void OverflowingByteSize_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new NativeBuffer<long>(long.MaxValue / 4));

    [Fact]
    public void DisposeTwice_IsHarmless_AndUseAfterDisposeThrows()
    {
        var buffer = new NativeBuffer<int>(16);
        buffer.Dispose();
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => (nint)buffer.Pointer);
        Assert.Throws<ObjectDisposedException>(() => buffer.AsSpan());
        Assert.Equal(16, buffer.Length);
    }

    [Fact]
    public void AsSpan_ThrowsBeyondIntRange()
    {
        // Not zeroed, so no page is touched: only address space is reserved.
        using var buffer = new NativeBuffer<byte>(int.MaxValue + 1L, zero: false);
        Assert.Throws<InvalidOperationException>(() => buffer.AsSpan());
        buffer.Pointer[int.MaxValue] = 7;
        Assert.Equal(7, buffer.Pointer[int.MaxValue]);
    }
}
