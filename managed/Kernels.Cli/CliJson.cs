using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kernels.Cli;

/// <summary>JSON output: camelCase, indented, one object per command, source-generated (trimming- and AOT-safe).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(DevicesReport))]
[JsonSerializable(typeof(PeakReport))]
[JsonSerializable(typeof(GemmBenchReport))]
[JsonSerializable(typeof(Int8GemmBenchReport))]
[JsonSerializable(typeof(ConvBenchReport))]
[JsonSerializable(typeof(ConvDeviceBenchReport))]
[JsonSerializable(typeof(ConvInt8BenchReport))]
[JsonSerializable(typeof(IReadOnlyList<ModelBenchReport>))]
[JsonSerializable(typeof(RunReport))]
[JsonSerializable(typeof(TuneQuantReport))]
[JsonSerializable(typeof(QuantizeReport))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
