using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kernels.Cpu.Native;
using Xunit;

namespace Kernels.Tests.Native;

public unsafe class NativeDotTests
{
    private static readonly int[] Lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 64, 100, 1000];

    private static long Reference(sbyte[] a, sbyte[] b)
    {
        long s = 0;
        for (int i = 0; i < a.Length; i++)
            s += a[i] * b[i];
        return s;
    }

    private static (sbyte[] A, sbyte[] B) Make(int n, int pattern, Random rng)
    {
        var a = new sbyte[n];
        var b = new sbyte[n];
        for (int i = 0; i < n; i++)
        {
            (a[i], b[i]) = pattern switch
            {
                0 => ((sbyte)rng.Next(-128, 128), (sbyte)rng.Next(-128, 128)),
                1 => ((sbyte)-128, (sbyte)-128),
                2 => ((sbyte)-128, (sbyte)127),
                3 => ((sbyte)127, (sbyte)127),
                _ => ((i & 1) != 0 ? (sbyte)127 : (sbyte)-128, i % 3 != 0 ? (sbyte)-128 : (sbyte)127),
            };
        }
        return (a, b);
    }

    [Fact]
    public void Dispatched_dot_matches_reference()
    {
        if (!NativeTestSupport.ShouldRun())
            return;
        var rng = new Random(7);
        foreach (int n in Lengths)
        for (int pattern = 0; pattern < 5; pattern++)
        {
            var (a, b) = Make(n, pattern, rng);
            Assert.Equal(Reference(a, b), NativeKernels.DotS8(a, b));
        }
    }

    [NeonFact]
    public void Explicit_neon_paths_match_reference()
    {
        if (!NativeTestSupport.ShouldRunNeon())
            return;
        // sdot faults on arm64 CPUs without the dot-product extension; on x86 it is SIMDe-emulated.
        bool runSdot = RuntimeInformation.ProcessArchitecture != Architecture.Arm64 || NativeLibraryStatus.DotS8Path == "sdot";
        var rng = new Random(8);
        foreach (int n in Lengths)
        for (int pattern = 0; pattern < 5; pattern++)
        {
            var (a, b) = Make(n, pattern, rng);
            long want = Reference(a, b);
            var (neon, sdot, dispatched) = CallAll(a, b, runSdot);
            Assert.Equal(want, neon);
            if (runSdot)
                Assert.Equal(want, sdot);
            Assert.Equal(want, dispatched);
        }
    }

    // SuppressGCTransition imports are bound when the calling method is compiled: keep them out
    // of the test method so that KERNELS_SKIP_NATIVE works on machines without the library.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (int Neon, int Sdot, int Dispatched) CallAll(sbyte[] a, sbyte[] b, bool runSdot)
    {
        fixed (sbyte* pa = a)
        fixed (sbyte* pb = b)
        {
            int neon = NativeMethods.kn_dot_s8_neon(pa, pb, (nuint)a.Length);
            int sdot = runSdot ? NativeMethods.kn_dot_s8_sdot(pa, pb, (nuint)a.Length) : 0;
            return (neon, sdot, NativeMethods.kn_dot_s8(pa, pb, (nuint)a.Length));
        }
    }
}
