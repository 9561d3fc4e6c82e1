using System.Runtime.InteropServices;
using Kernels.OpenCL.Native;

namespace Kernels.OpenCL.Runtime;

/// <summary>A device buffer (cl_mem) of a context. Reads and writes are blocking and in queue order.</summary>
public sealed unsafe class DeviceBuffer : IDisposable
{
    private readonly OpenCLContext _context;
    private readonly BufferPool? _pool;

    internal DeviceBuffer(OpenCLContext context, ClMemHandle handle, long bytes, BufferPool? pool)
    {
        _context = context;
        Handle = handle;
        Bytes = bytes;
        _pool = pool;
    }

    /// <summary>Capacity in bytes.</summary>
    public long Bytes { get; }

    internal ClMemHandle Handle { get; }

    internal bool IsReleased => Handle.IsClosed;

    /// <summary>Copies <paramref name="source"/> to the buffer at <paramref name="offsetBytes"/>; returns when the copy is done.</summary>
    public void Write<T>(ReadOnlySpan<T> source, long offsetBytes = 0)
        where T : unmanaged
    {
        long bytes = (long)source.Length * sizeof(T);
        CheckRange(offsetBytes, bytes);
        fixed (T* p = source)
        {
            ClCheck.Ok(
                ClApi.clEnqueueWriteBuffer(_context.Queue, Handle, 1, (nuint)offsetBytes, (nuint)bytes, p, 0, null, null),
                "clEnqueueWriteBuffer",
                $"{bytes} bytes on {_context.Device.Name}");
        }
    }

    /// <summary>Copies the buffer from <paramref name="offsetBytes"/> into <paramref name="destination"/> once every queued command has finished with it.</summary>
    public void Read<T>(Span<T> destination, long offsetBytes = 0)
        where T : unmanaged
    {
        long bytes = (long)destination.Length * sizeof(T);
        CheckRange(offsetBytes, bytes);
        fixed (T* p = destination)
        {
            ClCheck.Ok(
                ClApi.clEnqueueReadBuffer(_context.Queue, Handle, 1, (nuint)offsetBytes, (nuint)bytes, p, 0, null, null),
                "clEnqueueReadBuffer",
                $"{bytes} bytes on {_context.Device.Name}");
        }
    }

    /// <summary>
    /// Maps <paramref name="count"/> elements into host memory (zero-copy on unified-memory SoCs such as Mali);
    /// the mapping ends when the result is disposed.
    /// </summary>
    public MappedBuffer<T> Map<T>(int count, bool write)
        where T : unmanaged
    {
        long bytes = (long)count * sizeof(T);
        CheckRange(0, bytes);
        int error;
        void* p = ClApi.clEnqueueMapBuffer(
            _context.Queue, Handle, 1, write ? ClApi.MapRead | ClApi.MapWrite : ClApi.MapRead, 0, (nuint)bytes, 0, null, null, &error);
        ClCheck.Ok(error, "clEnqueueMapBuffer", $"{bytes} bytes on {_context.Device.Name}");
        return new MappedBuffer<T>(this, p, count);
    }

    internal void Unmap(void* mapped)
    {
        ClCheck.Ok(ClApi.clEnqueueUnmapMemObject(_context.Queue, Handle, mapped, 0, null, null), "clEnqueueUnmapMemObject", _context.Device.Name);
        ClCheck.Ok(ClApi.clFinish(_context.Queue), "clFinish", _context.Device.Name);
    }

    /// <summary>Returns a pooled buffer to its pool; releases any other.</summary>
    public void Dispose()
    {
        if (_pool is not null && !Handle.IsClosed)
        {
            _pool.Return(this);
        }
        else
        {
            Handle.Dispose();
        }
    }

    internal void Release() => Handle.Dispose();

    private void CheckRange(long offsetBytes, long bytes)
    {
        ObjectDisposedException.ThrowIf(Handle.IsClosed, this);
        if (offsetBytes < 0 || bytes < 0 || offsetBytes + bytes > Bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(offsetBytes), $"{bytes} bytes at offset {offsetBytes} do not fit a buffer of {Bytes} bytes.");
        }
    }
}

/// <summary>A mapped region of a <see cref="DeviceBuffer"/>; dispose to unmap before the device uses the buffer again.</summary>
public readonly unsafe ref struct MappedBuffer<T>
    where T : unmanaged
{
    private readonly DeviceBuffer _buffer;
    private readonly void* _pointer;

    internal MappedBuffer(DeviceBuffer buffer, void* pointer, int count)
    {
        _buffer = buffer;
        _pointer = pointer;
        Span = new Span<T>(pointer, count);
    }

    public Span<T> Span { get; }

    public void Dispose() => _buffer.Unmap(_pointer);
}

/// <summary>How kernels use a buffer (the cl_mem_flags access bits).</summary>
public enum BufferAccess
{
    ReadWrite,
    ReadOnly,
    WriteOnly,
}

/// <summary>
/// Device buffers kept for reuse, so operators that run often do not allocate per call. A rent returns the
/// smallest free buffer that fits without wasting more than half of it, else allocates (in 4 KiB steps).
/// </summary>
public sealed class BufferPool : IDisposable
{
    private readonly OpenCLContext _context;
    private readonly List<DeviceBuffer> _free = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    internal BufferPool(OpenCLContext context) => _context = context;

    /// <summary>Bytes of every buffer this pool has allocated and not yet released.</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>Rents that reused a free buffer.</summary>
    public int Reuses { get; private set; }

    /// <summary>Buffers waiting in the pool.</summary>
    public int FreeCount
    {
        get
        {
            lock (_gate)
            {
                return _free.Count;
            }
        }
    }

    /// <summary>A read-write buffer of at least <paramref name="bytes"/> bytes; dispose it to give it back.</summary>
    public DeviceBuffer Rent(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int best = -1;
            for (int i = 0; i < _free.Count; i++)
            {
                long capacity = _free[i].Bytes;
                if (capacity >= bytes && capacity <= 2 * bytes && (best < 0 || capacity < _free[best].Bytes))
                {
                    best = i;
                }
            }

            if (best >= 0)
            {
                DeviceBuffer buffer = _free[best];
                _free.RemoveAt(best);
                Reuses++;
                return buffer;
            }

            long rounded = (bytes + 4095) / 4096 * 4096;
            DeviceBuffer created = _context.Allocate(rounded, BufferAccess.ReadWrite, this);
            AllocatedBytes += rounded;
            return created;
        }
    }

    internal void Return(DeviceBuffer buffer)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                AllocatedBytes -= buffer.Bytes;
                buffer.Release();
                return;
            }

            if (!_free.Contains(buffer))
            {
                _free.Add(buffer);
            }
        }
    }

    /// <summary>Releases the free buffers (rented ones are released when they come back).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (DeviceBuffer b in _free)
            {
                AllocatedBytes -= b.Bytes;
                b.Release();
            }

            _free.Clear();
        }
    }
}
