namespace Kernels.Benchmarks;

/// <summary>
/// One GEMM C[M×N] = A[M×K]·B[K×N] taken from a network layer. Convolutions are NHWC at batch 1 as
/// im2col GEMMs: M = OH·OW, N = OC/groups, K = KH·KW·IC/groups (one group's GEMM); fully connected
/// layers are M = 1.
/// </summary>
/// <param name="Network">Zoo name: alexnet, googlenet, mobilenet_v1, resnet50, squeezenet1_1.</param>
/// <param name="Layer">The layer's name in the original (Caffe) model, e.g. res2a_branch2b.</param>
/// <param name="Description">Kernel, stride, input and output, e.g. "3x3 56x56x64->64".</param>
public sealed record GemmShape(string Network, string Layer, string Description, int M, int N, int K)
{
    /// <summary>Multiply-adds count twice.</summary>
    public double Flops => 2.0 * M * N * K;

    public string Key => $"{Network}.{Layer}";

    // BenchmarkDotNet shows parameters by ToString.
    public override string ToString() => $"{Key} {Description} (M={M} N={N} K={K})";
}
