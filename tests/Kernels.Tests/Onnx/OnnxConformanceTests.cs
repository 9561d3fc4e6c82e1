using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Onnx;
using Kernels.Graph.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Kernels.Tests.Onnx;

/// <summary>
/// Runs every libonnx-testdata node test whose operators the importer supports through the reference executor and
/// compares with the expected outputs (ONNX's backend tolerance: rtol 1e-3, atol 1e-7); then runs each through the
/// optimized <see cref="InferenceSession"/>  and
/// compares at the same tolerance.
/// </summary>
public sealed class OnnxConformanceTests(ITestOutputHelper output)
{
    private const double RelativeTolerance = 1e-3;
    private const double AbsoluteTolerance = 1e-7;

    /// <summary>Node tests that pass on the reference executor but not on the optimized session (asserted on the reference only).</summary>
    private static readonly HashSet<string> OptimizedKnownFailures = new(StringComparer.Ordinal);

    /// <summary>The integer operators of issue 5; their node tests are listed on their own.</summary>
    private static readonly HashSet<string> IntegerOperators =
        new(["QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"], StringComparer.Ordinal);

    /// <summary>The int8 node tests that must import and pass (all of libonnx-testdata's except DynamicQuantizeLinear's).</summary>
    private static readonly string[] RequiredIntegerTests =
    [
        "test_quantizelinear", "test_quantizelinear_axis", "test_dequantizelinear", "test_dequantizelinear_axis", "test_qlinearconv",
        "test_qlinearmatmul_2D", "test_qlinearmatmul_3D", "test_basic_convinteger", "test_convinteger_with_padding",
        "test_convinteger_without_padding", "test_matmulinteger",
    ];

    /// <summary>Imports one test with its non-first inputs bound (weights are inputs in ONNX's node tests).</summary>
    private static OnnxImportedModel Import(OnnxTestCase test, OnnxTestDataSet set, out OnnxModel model)
    {
        model = OnnxModel.Load(test.ModelPath);
        var bound = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var initializers = model.Graph.Initializers.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = model.Graph.Inputs.Where(i => !initializers.Contains(i.Name)).ToList();
        for (int i = 1; i < inputs.Count && i < set.Inputs.Count; i++)
        {
            // Sequence and optional inputs are not TensorProto files; the importer rejects such inputs itself.
            if (inputs[i].Kind != OnnxValueKind.Tensor)
            {
                continue;
            }

            bound[inputs[i].Name] = OnnxTensor.Load(set.Inputs[i]);
        }

        return OnnxImporter.ImportModel(model, bound);
    }

    /// <summary>Null when the run matches; otherwise what differs. <paramref name="optimized"/> runs the <see cref="InferenceSession"/>.</summary>
    private static string? RunAndCompare(OnnxTestCase test, bool optimized)
    {
        foreach (OnnxTestDataSet set in test.DataSets)
        {
            OnnxImportedModel imported = Import(test, set, out OnnxModel model);
            var initializers = model.Graph.Initializers.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var onnxInputs = model.Graph.Inputs.Where(i => !initializers.Contains(i.Name)).Select(i => i.Name).ToList();
            var feeds = new Dictionary<string, float[]>(StringComparer.Ordinal);
            foreach (OnnxTensorLayout layout in imported.Inputs)
            {
                int index = onnxInputs.IndexOf(layout.OnnxName);
                feeds[layout.Value.Name] = layout.ToInternal(OnnxTensor.Load(set.Inputs[index]).ToFloatArray());
            }

            IReadOnlyDictionary<string, double[]> results = optimized ? RunOptimized(imported, feeds) : ReferenceExecutor.RunAll(imported.Graph, feeds);
            for (int o = 0; o < imported.Outputs.Count; o++)
            {
                OnnxTensorLayout layout = imported.Outputs[o];
                OnnxTensor expectedTensor = OnnxTensor.Load(set.Outputs[o]);
                if (!expectedTensor.Dims.SequenceEqual(layout.OnnxDims))
                {
                    return $"output '{layout.OnnxName}' is [{string.Join(", ", layout.OnnxDims)}], expected [{string.Join(", ", expectedTensor.Dims)}]";
                }

                float[] expected = expectedTensor.ToFloatArray();
                double[] actual = layout.ToOnnx(results[layout.Value.Name]);
                int worst = -1;
                double worstError = 0;
                for (int i = 0; i < expected.Length; i++)
                {
                    double e = expected[i], a = actual[i];
                    bool same = (double.IsNaN(e) && double.IsNaN(a)) || e == a || Math.Abs(a - e) <= AbsoluteTolerance + (RelativeTolerance * Math.Abs(e));
                    double error = double.IsNaN(a - e) ? double.PositiveInfinity : Math.Abs(a - e);
                    if (!same && (worst < 0 || error > worstError))
                    {
                        worst = i;
                        worstError = error;
                    }
                }

                if (worst >= 0)
                {
                    return $"output '{layout.OnnxName}' [{worst}] = {actual[worst]}, expected {expected[worst]} (max error {worstError:G4})";
                }
            }
        }

        return null;
    }

    /// <summary>Runs the graph through the optimized session; the results keyed by output value.</summary>
    private static Dictionary<string, double[]> RunOptimized(OnnxImportedModel imported, Dictionary<string, float[]> feeds)
    {
        using InferenceSession session = InferenceSession.Create(imported.Graph, new InferenceOptions());
        ReadOnlyMemory<float>[] inputs = imported.Graph.Inputs.Select(v => (ReadOnlyMemory<float>)feeds[v.Name]).ToArray();
        float[][] outputs = imported.Graph.Outputs.Select(v => new float[v.Shape.ElementCount]).ToArray();
        session.Run(inputs, outputs.Select(o => (Memory<float>)o).ToArray());
        var results = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (int k = 0; k < outputs.Length; k++)
        {
            results[imported.Graph.Outputs[k].Name] = Array.ConvertAll(outputs[k], v => (double)v);
        }

        return results;
    }

    /// <summary>Whether the optimized session can plan the graph (it runs one input and one output).</summary>
    private static bool SessionPlans(OnnxTestCase test, out string? reason)
    {
        try
        {
            OnnxImportedModel imported = Import(test, test.DataSets[0], out _);
            using InferenceSession session = InferenceSession.Create(imported.Graph, new InferenceOptions());
            reason = null;
            return true;
        }
        catch (NotSupportedException e)
        {
            reason = e.Message;
            return false;
        }
    }

    [OnnxTestDataFact]
    public void SupportedNodeTests_MatchExpectedOutputs()
    {
        int supported = 0, passed = 0, unsupported = 0, optimizedSupported = 0, optimizedPassed = 0;
        var failures = new List<string>();
        var optimizedFailures = new List<string>();
        var coverage = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var reasons = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var integerPassed = new List<string>();
        var bothPassed = new HashSet<string>(StringComparer.Ordinal);
        foreach (OnnxTestCase test in OnnxTestData.NodeTests())
        {
            if (test.DataSets.Count == 0)
            {
                continue;
            }

            OnnxModel model;
            try
            {
                Import(test, test.DataSets[0], out model);
            }
            catch (NotSupportedException e)
            {
                unsupported++;
                string reason = e.Message.Contains("): ", StringComparison.Ordinal) ? e.Message[(e.Message.IndexOf("): ", StringComparison.Ordinal) + 3)..] : e.Message;
                reason = reason.Length > 70 ? reason[..70] : reason;
                reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
                if (!reason.StartsWith("the operator is not supported", StringComparison.Ordinal))
                {
                    output.WriteLine($"unsupported {test.Name}: {e.Message}");
                }

                continue;
            }
            catch (Exception e)
            {
                failures.Add($"{test.Name}: import threw {e.GetType().Name}: {e.Message}");
                continue;
            }

            supported++;
            foreach (string op in model.Graph.Nodes.Select(n => n.OpType).Distinct())
            {
                coverage[op] = coverage.GetValueOrDefault(op) + 1;
            }

            string? failure;
            try
            {
                failure = RunAndCompare(test, optimized: false);
            }
            catch (Exception e)
            {
                failure = $"run threw {e.GetType().Name}: {e.Message}";
            }

            if (failure is null)
            {
                passed++;
                output.WriteLine($"pass {test.Name}");
            }
            else
            {
                failures.Add($"{test.Name}: {failure}");
            }

            if (!SessionPlans(test, out string? why))
            {
                output.WriteLine($"session cannot plan {test.Name}: {why}");
                continue;
            }

            optimizedSupported++;
            string? optimizedFailure;
            try
            {
                optimizedFailure = RunAndCompare(test, optimized: true);
            }
            catch (Exception e)
            {
                optimizedFailure = $"run threw {e.GetType().Name}: {e.Message}";
            }

            if (optimizedFailure is null)
            {
                optimizedPassed++;
                if (failure is null)
                {
                    bothPassed.Add(test.Name);
                    if (model.Graph.Nodes.Any(n => IntegerOperators.Contains(n.OpType)))
                    {
                        integerPassed.Add(test.Name);
                    }
                }
            }
            else if (!OptimizedKnownFailures.Contains(test.Name))
            {
                optimizedFailures.Add($"{test.Name}: {optimizedFailure}");
            }
            else
            {
                output.WriteLine($"known optimized-executor failure {test.Name}: {optimizedFailure}");
            }
        }

        output.WriteLine($"ONNX node tests: {supported} supported, {passed} passed, {unsupported} unsupported.");
        output.WriteLine($"Optimized executor: {optimizedSupported} planned, {optimizedPassed} passed.");
        output.WriteLine($"Integer operator tests passed on both executors ({integerPassed.Count}): {string.Join(", ", integerPassed)}");
        output.WriteLine("Operator coverage (supported tests per operator): " + string.Join(", ", coverage.Select(kv => $"{kv.Key} {kv.Value}")));
        output.WriteLine("Most frequent unsupported reasons:");
        foreach (var kv in reasons.OrderByDescending(kv => kv.Value).Take(15))
        {
            output.WriteLine($"  {kv.Value,4}  {kv.Key}");
        }

        foreach (string f in failures)
        {
            output.WriteLine("FAIL " + f);
        }

        foreach (string f in optimizedFailures)
        {
            output.WriteLine("FAIL (optimized) " + f);
        }

        Assert.True(supported > 0, "no node test was supported");
        Assert.Empty(failures);
        Assert.Empty(optimizedFailures);
        var available = OnnxTestData.NodeTests().Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(RequiredIntegerTests.Where(available.Contains), t => Assert.Contains(t, bothPassed));
    }
}
