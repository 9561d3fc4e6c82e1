namespace Kernels.Graph.Planning;

/// <summary>One intermediate tensor for the memory plan: its size and the steps (node indices) it is live.</summary>
/// <param name="Bytes">Size in bytes.</param>
/// <param name="FirstUse">Step that writes it first.</param>
/// <param name="LastUse">Last step that reads it (inclusive).</param>
public readonly record struct TensorLifetime(long Bytes, int FirstUse, int LastUse);

/// <summary>
/// The memory plan: every tensor's offset in one arena. Two tensors share bytes only when their lifetimes do not overlap.
/// </summary>
/// <param name="ArenaBytes">Size of the arena.</param>
/// <param name="Offsets">Offset of each tensor, in the order they were given.</param>
/// <param name="TotalTensorBytes">Sum of all tensor sizes (what a plan without reuse would need).</param>
public sealed record ArenaPlan(long ArenaBytes, IReadOnlyList<long> Offsets, long TotalTensorBytes)
{
    /// <summary>ArenaBytes / TotalTensorBytes (1 when nothing is shared; 0 for an empty plan).</summary>
    public double Ratio => TotalTensorBytes == 0 ? 0 : (double)ArenaBytes / TotalTensorBytes;
}

/// <summary>
/// Assigns arena offsets by liveness, greedy by size (largest tensor first, each at the lowest aligned offset
/// that does not overlap a placed tensor whose lifetime intersects its own), the strategy TensorFlow Lite's
/// planner found close to optimal on CNNs: the big early activations decide the arena, later small ones fit in
/// their gaps.
/// </summary>
public static class ArenaPlanner
{
    /// <summary>Plans the arena.</summary>
    /// <param name="tensors">The tensors.</param>
    /// <param name="alignment">Offset alignment in bytes (a power of two; 64 = one cache line and one AVX-512 vector).</param>
    /// <exception cref="ArgumentException">A size is negative, a lifetime is reversed or negative, or the alignment is not a power of two.</exception>
    public static ArenaPlan Plan(IReadOnlyList<TensorLifetime> tensors, int alignment = 64)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (alignment < 1 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentException($"The alignment must be a power of two; it is {alignment}.", nameof(alignment));
        }

        long total = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t.Bytes < 0)
            {
                throw new ArgumentException($"Tensor {i} has a negative size ({t.Bytes} bytes).", nameof(tensors));
            }

            if (t.FirstUse < 0 || t.LastUse < t.FirstUse)
            {
                throw new ArgumentException($"Tensor {i} has the lifetime [{t.FirstUse}, {t.LastUse}]; it must be non-negative and not reversed.", nameof(tensors));
            }

            total = checked(total + t.Bytes);
        }

        var order = Enumerable.Range(0, tensors.Count)
            .OrderByDescending(i => tensors[i].Bytes)
            .ThenBy(i => tensors[i].FirstUse)
            .ThenBy(static i => i)
            .ToArray();
        var offsets = new long[tensors.Count];
        var placed = new List<int>(tensors.Count);
        var conflicts = new List<(long Start, long End)>();
        long arena = 0;
        foreach (int i in order)
        {
            var t = tensors[i];
            conflicts.Clear();
            foreach (int j in placed)
            {
                var p = tensors[j];
                if (p.FirstUse <= t.LastUse && t.FirstUse <= p.LastUse && p.Bytes > 0)
                {
                    conflicts.Add((offsets[j], offsets[j] + p.Bytes));
                }
            }

            conflicts.Sort(static (a, b) => a.Start.CompareTo(b.Start));
            long offset = 0;
            foreach (var (start, end) in conflicts)
            {
                if (offset + t.Bytes <= start)
                {
                    break;
                }

                offset = Math.Max(offset, AlignUp(end, alignment));
            }

            offsets[i] = offset;
            placed.Add(i);
            arena = Math.Max(arena, offset + t.Bytes);
        }

        return new ArenaPlan(arena, offsets, total);
    }

    private static long AlignUp(long value, int alignment) => (value + alignment - 1) & ~(long)(alignment - 1);
}
