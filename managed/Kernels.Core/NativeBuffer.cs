using System.Runtime.InteropServices;

namespace Kernels.Core;

/// <summary>
/// An unmanaged, 64-byte aligned array: one cache line and one AVX-512 vector, so aligned loads never
/// split a line, and the GC never moves or scans it (kernels hold raw pointers across threads).
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed unsafe class NativeBuffer<T> : IDisposable where T : unmanaged
{
    /// <summary>Alignment of <see cref="Pointer"/> in bytes.</summary>
    public const int Alignment = 64;

    // nint rather than T* so Interlocked.Exchange can claim it.
    private nint _address;
    private readonly long _byteLength;

    /// <summary>Allocates <paramref name="length"/> elements.</summary>
    /// <param name="length">Element count; 0 is allowed and still gives a valid aligned pointer.</param>
    /// <param name="zero">Clear the memory; pass false for buffers that are fully overwritten before being read.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or the byte size overflows.</exception>
    /// <exception cref="OutOfMemoryException">The allocation failed.</exception>
    public NativeBuffer(long length, bool zero = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length > long.MaxValue / sizeof(T))
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "Byte size overflows.");
        }

        Length = length;
        _byteLength = length * sizeof(T);
        // AlignedAlloc(0) may return null on some C runtimes; one byte keeps Pointer valid for empty buffers.
        nuint bytes = (nuint)Math.Max(_byteLength, 1);
        void* p = NativeMemory.AlignedAlloc(bytes, Alignment);
        if (zero)
        {
            NativeMemory.Clear(p, bytes);
        }

        _address = (nint)p;

        // Tells the GC that this small object holds a large native block, so forgotten buffers get finalized.
        if (_byteLength > 0)
        {
            GC.AddMemoryPressure(_byteLength);
        }
    }

    /// <summary>Finalizer frees the memory if <see cref="Dispose"/> was never called.</summary>
    ~NativeBuffer() => Free();

    /// <summary>Start of the memory, 64-byte aligned.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public T* Pointer
    {
        get
        {
            T* p = (T*)Volatile.Read(ref _address);
            ObjectDisposedException.ThrowIf(p == null, this);
            return p;
        }
    }

    /// <summary>Element count.</summary>
    public long Length { get; }

    /// <summary>Size in bytes.</summary>
    public long ByteLength => _byteLength;

    /// <summary>A span over the whole buffer, for safe code at API boundaries.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Length"/> exceeds <see cref="int.MaxValue"/> (spans are int-indexed).</exception>
    public Span<T> AsSpan()
    {
        T* p = Pointer;
        if (Length > int.MaxValue)
        {
            throw new InvalidOperationException($"Buffer of {Length} elements is too long for a Span<T>; use Pointer.");
        }

        return new Span<T>(p, (int)Length);
    }

    /// <summary>Frees the memory now; later calls do nothing.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        // Exchange makes a Dispose racing the finalizer or another Dispose free exactly once.
        void* p = (void*)Interlocked.Exchange(ref _address, 0);
        if (p != null)
        {
            NativeMemory.AlignedFree(p);
            if (_byteLength > 0)
            {
                GC.RemoveMemoryPressure(_byteLength);
            }
        }
    }
}
