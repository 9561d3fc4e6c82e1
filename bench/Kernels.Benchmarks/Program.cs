using BenchmarkDotNet.Running;

namespace Kernels.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Kernels.Benchmarks -- --filter '*'</c>; <c>--list flat</c>
/// lists the benchmarks, <c>--shapes</c> prints the five networks' GEMM table,
/// <c>--conv-shapes</c> the distinct convolution layers of the seven networks.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["--shapes"])
        {
            foreach (GemmShape shape in NetworkGemmShapes.All)
            {
                Console.WriteLine(shape);
            }

            return 0;
        }

        if (args is ["--conv-shapes"])
        {
            foreach (ConvLayer layer in NetworkConvShapes.Distinct)
            {
                Console.WriteLine($"{layer,-60} {layer.Descriptor}");
            }

            return 0;
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
