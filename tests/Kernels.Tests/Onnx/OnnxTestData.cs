namespace Kernels.Tests.Onnx;

/// <summary>One data set of an ONNX backend test: the input_N.pb and output_N.pb files, in N order.</summary>
/// <param name="Directory">The test_data_set_K directory.</param>
/// <param name="Inputs">input_0.pb, input_1.pb, ...</param>
/// <param name="Outputs">output_0.pb, output_1.pb, ... (the expected outputs).</param>
public sealed record OnnxTestDataSet(string Directory, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>One ONNX backend test case: a model.onnx and its data sets.</summary>
/// <param name="Name">The directory name, e.g. "test_relu".</param>
/// <param name="ModelPath">The model.onnx file.</param>
/// <param name="DataSets">Its test_data_set_K directories, in K order.</param>
public sealed record OnnxTestCase(string Name, string ModelPath, IReadOnlyList<OnnxTestDataSet> DataSets)
{
    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>
/// Finds the ONNX backend test data of the Debian package libonnx-testdata (its node tests are one
/// single-operator model each, with inputs and expected outputs), or of a directory named by
/// KERNELS_ONNX_TESTDATA (the "data" folder of an onnx checkout: onnx/backend/test/data).
/// </summary>
public static class OnnxTestData
{
    /// <summary>Where libonnx-testdata 1.12 puts it; /usr/include/onnx/backend/test/data is a link to it.</summary>
    private static readonly string[] Candidates =
    [
        "/usr/share/libonnx-testdata/data",
        "/usr/include/onnx/backend/test/data",
    ];

    /// <summary>The data root (containing node/, simple/, pytorch-converted/, ...), or null when not installed.</summary>
    public static string? Root { get; } = FindRoot();

    /// <summary>Why the data is missing, for skip messages; null when it is present.</summary>
    public static string? MissingReason => Root is null
        ? "ONNX backend test data not found: apt-get install libonnx-testdata (or set KERNELS_ONNX_TESTDATA)"
        : null;

    /// <summary>The single-operator tests (data/node), sorted by name; empty when the data is absent.</summary>
    public static IReadOnlyList<OnnxTestCase> NodeTests() => Cases("node");

    /// <summary>Every test case of every collection (node, simple, pytorch-converted, pytorch-operator) that ships a model.</summary>
    public static IReadOnlyList<OnnxTestCase> AllTests()
    {
        if (Root is null)
        {
            return [];
        }

        return Directory.GetDirectories(Root).Order(StringComparer.Ordinal)
            .SelectMany(collection => Cases(Path.GetFileName(collection))).ToList();
    }

    /// <summary>The node test called <paramref name="name"/> (e.g. "test_relu").</summary>
    /// <exception cref="InvalidOperationException">The data is absent or has no such test.</exception>
    public static OnnxTestCase NodeTest(string name) =>
        NodeTests().FirstOrDefault(c => c.Name == name)
        ?? throw new InvalidOperationException($"ONNX node test '{name}' not found under {Root ?? "(no test data)"}");

    private static IReadOnlyList<OnnxTestCase> Cases(string collection)
    {
        string? dir = Root is null ? null : Path.Combine(Root, collection);
        if (dir is null || !Directory.Exists(dir))
        {
            return [];
        }

        var cases = new List<OnnxTestCase>();
        foreach (string testDir in Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
        {
            // The "real" collection ships only data.json with a download URL: nothing to run offline.
            string model = Path.Combine(testDir, "model.onnx");
            if (!File.Exists(model))
            {
                continue;
            }

            var sets = Directory.GetDirectories(testDir, "test_data_set_*")
                .OrderBy(d => Index(Path.GetFileName(d), "test_data_set_"))
                .Select(d => new OnnxTestDataSet(d, Numbered(d, "input_"), Numbered(d, "output_")))
                .ToList();
            cases.Add(new OnnxTestCase(Path.GetFileName(testDir), model, sets));
        }

        return cases;
    }

    /// <summary>prefixN.pb files ordered by N as a number, so input_10 follows input_9.</summary>
    private static IReadOnlyList<string> Numbered(string dir, string prefix) =>
        Directory.GetFiles(dir, prefix + "*.pb").OrderBy(f => Index(Path.GetFileNameWithoutExtension(f), prefix)).ToList();

    private static int Index(string name, string prefix) =>
        int.TryParse(name.AsSpan(prefix.Length), out int n) ? n : int.MaxValue;

    private static string? FindRoot()
    {
        string? overridden = Environment.GetEnvironmentVariable("KERNELS_ONNX_TESTDATA");
        if (!string.IsNullOrEmpty(overridden))
        {
            return Directory.Exists(Path.Combine(overridden, "node")) ? overridden : null;
        }

        return Candidates.FirstOrDefault(c => Directory.Exists(Path.Combine(c, "node")));
    }
}
