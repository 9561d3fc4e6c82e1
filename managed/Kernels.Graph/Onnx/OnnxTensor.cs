using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Kernels.Graph.Onnx;

/// <summary>
/// An ONNX TensorProto: a named, shaped constant (an initializer, a Constant node's value, a test
/// input or expected output). The element count is checked against the data when it is read, so a
/// tensor that exists always has exactly as many elements as its dims say.
/// </summary>
public sealed class OnnxTensor
{
    private readonly ReadOnlyMemory<byte> _raw;
    private readonly bool _hasRaw;
    private readonly float[] _floats;
    private readonly int[] _int32s;
    private readonly long[] _int64s;
    private readonly double[] _doubles;
    private readonly ulong[] _uint64s;
    private readonly ReadOnlyMemory<byte>[] _strings;

    private OnnxTensor(
        string name, OnnxDataType dataType, long[] dims, long elementCount, ReadOnlyMemory<byte>? raw,
        float[] floats, int[] int32s, long[] int64s, double[] doubles, ulong[] uint64s, ReadOnlyMemory<byte>[] strings)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        ElementCount = elementCount;
        _hasRaw = raw.HasValue;
        _raw = raw ?? ReadOnlyMemory<byte>.Empty;
        _floats = floats;
        _int32s = int32s;
        _int64s = int64s;
        _doubles = doubles;
        _uint64s = uint64s;
        _strings = strings;
    }

    /// <summary>The tensor's name; empty when the writer gave none (attribute values often have none).</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public OnnxDataType DataType { get; }

    /// <summary>The shape, outermost dimension first (ONNX order, NCHW for activations). Empty for a scalar.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>The product of <see cref="Dims"/> (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>True when the data came as little-endian raw_data rather than a typed repeated field.</summary>
    public bool HasRawData => _hasRaw;

    /// <summary>The raw_data bytes (little-endian); empty when the data is in a typed field.</summary>
    public ReadOnlyMemory<byte> RawData => _raw;

    /// <summary>Reads a standalone TensorProto file (the input_N.pb / output_N.pb files of the ONNX test data).</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed TensorProto.</exception>
    /// <exception cref="NotSupportedException">The tensor keeps its data in an external file or in segments.</exception>
    public static OnnxTensor Load(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return Read(new OnnxWireReader(bytes, 0, bytes.Length, "TensorProto"));
    }

    /// <summary>Parses a serialized TensorProto.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed TensorProto.</exception>
    /// <exception cref="NotSupportedException">The tensor keeps its data in an external file or in segments.</exception>
    public static OnnxTensor Parse(ReadOnlySpan<byte> data)
    {
        byte[] bytes = data.ToArray();
        return Read(new OnnxWireReader(bytes, 0, bytes.Length, "TensorProto"));
    }

    /// <summary>
    /// The elements as float: Float exactly, Float16 and BFloat16 widened (exactly), Double rounded, and the integer types
    /// up to 32 bits (the tensors of the quantized operators) converted, exactly while their magnitude is below 2^24.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor holds another type.</exception>
    public float[] ToFloatArray()
    {
        var result = new float[ElementCount];
        switch (DataType)
        {
            case OnnxDataType.Float when _hasRaw:
                MemoryMarshal.Cast<byte, float>(_raw.Span).CopyTo(result);
                if (!BitConverter.IsLittleEndian)
                {
                    for (int i = 0; i < result.Length; i++)
                    {
                        result[i] = BinaryPrimitives.ReadSingleLittleEndian(_raw.Span.Slice(i * 4));
                    }
                }

                break;
            case OnnxDataType.Float:
                _floats.CopyTo(result, 0);
                break;
            case OnnxDataType.Float16:
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = (float)BitConverter.UInt16BitsToHalf(Bits16(i));
                }

                break;
            case OnnxDataType.BFloat16:
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = BitConverter.Int32BitsToSingle(Bits16(i) << 16);
                }

                break;
            case OnnxDataType.Double:
                double[] wide = ToDoubleArray();
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = (float)wide[i];
                }

                break;
            case OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.UInt16 or OnnxDataType.Int16 or OnnxDataType.Int32 or OnnxDataType.Bool:
                // The integer tensors of the quantized operators, held as float values: exact up to 2^24.
                int[] integers = ToInt32Array();
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = integers[i];
                }

                break;
            default:
                throw WrongType("float");
        }

        return result;
    }

    /// <summary>The elements of a Double tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds another type.</exception>
    public double[] ToDoubleArray()
    {
        if (DataType != OnnxDataType.Double)
        {
            throw WrongType("double");
        }

        if (!_hasRaw)
        {
            return (double[])_doubles.Clone();
        }

        var result = new double[ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = BinaryPrimitives.ReadDoubleLittleEndian(_raw.Span.Slice(i * 8));
        }

        return result;
    }

    /// <summary>The elements of an Int32, Int16, Int8, UInt16, UInt8 or Bool tensor, widened to int.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds another type.</exception>
    public int[] ToInt32Array()
    {
        var result = new int[ElementCount];
        if (!_hasRaw)
        {
            if (DataType is not (OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt16 or OnnxDataType.UInt8 or OnnxDataType.Bool))
            {
                throw WrongType("int32");
            }

            // int32_data carries the narrow types widened, as the ONNX spec prescribes.
            _int32s.CopyTo(result, 0);
            return result;
        }

        var raw = _raw.Span;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DataType switch
            {
                OnnxDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(i * 4)),
                OnnxDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw.Slice(i * 2)),
                OnnxDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(raw.Slice(i * 2)),
                OnnxDataType.Int8 => (sbyte)raw[i],
                OnnxDataType.UInt8 or OnnxDataType.Bool => raw[i],
                _ => throw WrongType("int32"),
            };
        }

        return result;
    }

    /// <summary>The elements of any integer or Bool tensor as long (UInt64 only when every value fits).</summary>
    /// <exception cref="InvalidOperationException">The tensor holds another type, or a UInt64 value above long.MaxValue.</exception>
    public long[] ToInt64Array()
    {
        var result = new long[ElementCount];
        var raw = _raw.Span;
        switch (DataType)
        {
            case OnnxDataType.Int64 when _hasRaw:
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * 8));
                }

                return result;
            case OnnxDataType.Int64:
                return (long[])_int64s.Clone();
            case OnnxDataType.UInt32 or OnnxDataType.UInt64:
                for (int i = 0; i < result.Length; i++)
                {
                    ulong v = !_hasRaw ? _uint64s[i]
                        : DataType == OnnxDataType.UInt32 ? BinaryPrimitives.ReadUInt32LittleEndian(raw.Slice(i * 4))
                        : BinaryPrimitives.ReadUInt64LittleEndian(raw.Slice(i * 8));
                    result[i] = v <= long.MaxValue
                        ? (long)v
                        : throw new InvalidOperationException($"ONNX tensor '{Name}': element {i} = {v} does not fit long");
                }

                return result;
            default:
                int[] narrow = ToInt32Array();
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = narrow[i];
                }

                return result;
        }
    }

    /// <summary>The elements of a String tensor, decoded as UTF-8.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds another type.</exception>
    /// <exception cref="InvalidDataException">An element is not valid UTF-8.</exception>
    public string[] ToStringArray()
    {
        if (DataType != OnnxDataType.String)
        {
            throw WrongType("string");
        }

        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var result = new string[_strings.Length];
        for (int i = 0; i < result.Length; i++)
        {
            try
            {
                result[i] = strict.GetString(_strings[i].Span);
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"ONNX tensor '{Name}': string element {i} is not valid UTF-8", e);
            }
        }

        return result;
    }

    /// <summary>A float tensor made in memory (constant folding).</summary>
    /// <exception cref="ArgumentException">The element count does not match the dimensions.</exception>
    public static OnnxTensor FromFloats(string name, IReadOnlyList<long> dims, float[] values) =>
        new(name, OnnxDataType.Float, Checked(dims, values.LongLength), values.LongLength, null, values, [], [], [], [], []);

    /// <summary>An integer tensor of an 8-, 16- or 32-bit type over values (its int32_data, as ONNX stores the narrow types).</summary>
    /// <exception cref="ArgumentException">The type is not such an integer type, or a value is outside it.</exception>
    public static OnnxTensor FromIntegers(string name, OnnxDataType type, IReadOnlyList<long> dims, int[] values)
    {
        (long min, long max) = type switch
        {
            OnnxDataType.UInt8 => (byte.MinValue, byte.MaxValue),
            OnnxDataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
            OnnxDataType.UInt16 => (ushort.MinValue, ushort.MaxValue),
            OnnxDataType.Int16 => (short.MinValue, short.MaxValue),
            OnnxDataType.Int32 => (int.MinValue, int.MaxValue),
            _ => throw new ArgumentException($"ONNX tensor '{name}': {type} is not an integer type of 32 bits or fewer.", nameof(type)),
        };
        int bad = Array.FindIndex(values, v => v < min || v > max);
        if (bad >= 0)
        {
            throw new ArgumentException($"ONNX tensor '{name}': element {bad} = {values[bad]} is outside {type}.", nameof(values));
        }

        return new(name, type, Checked(dims, values.LongLength), values.LongLength, null, [], values, [], [], [], []);
    }


    /// <summary>An int64 tensor made in memory (constant folding: shapes).</summary>
    /// <exception cref="ArgumentException">The element count does not match the dimensions.</exception>
    public static OnnxTensor FromInt64s(string name, IReadOnlyList<long> dims, long[] values) =>
        new(name, OnnxDataType.Int64, Checked(dims, values.LongLength), values.LongLength, null, [], [], values, [], [], []);

    /// <summary>The same elements under other dimensions and another name.</summary>
    /// <exception cref="ArgumentException">The dimensions hold another element count.</exception>
    public OnnxTensor Reshaped(string name, IReadOnlyList<long> dims) =>
        new(name, DataType, Checked(dims, ElementCount), ElementCount, _hasRaw ? (ReadOnlyMemory<byte>?)_raw : null, _floats, _int32s, _int64s, _doubles, _uint64s, _strings);

    private static long[] Checked(IReadOnlyList<long> dims, long count)
    {
        long product = 1;
        foreach (long d in dims)
        {
            product = d < 0 ? -1 : checked(product * d);
            if (product < 0)
            {
                break;
            }
        }

        return product == count
            ? dims.ToArray()
            : throw new ArgumentException($"Dimensions [{string.Join(", ", dims)}] hold {product} elements, not {count}.", nameof(dims));
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {DataType}[{string.Join(", ", Dims)}]";

    private ushort Bits16(int i) => _hasRaw ? BinaryPrimitives.ReadUInt16LittleEndian(_raw.Span.Slice(i * 2)) : (ushort)_int32s[i];

    private InvalidOperationException WrongType(string wanted) =>
        new($"ONNX tensor '{Name}' holds {DataType}, which does not convert to {wanted}");

    /// <summary>Reads a TensorProto and checks that its data matches its dims and type.</summary>
    internal static OnnxTensor Read(OnnxWireReader r)
    {
        string name = "";
        int dataType = 0;
        var dims = new List<long>();
        var floats = new List<float>();
        var int32s = new List<int>();
        var int64s = new List<long>();
        var doubles = new List<double>();
        var uint64s = new List<ulong>();
        var strings = new List<ReadOnlyMemory<byte>>();
        ReadOnlyMemory<byte>? raw = null;
        bool external = false;
        bool segmented = false;
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: r.ReadRepeatedInt64("dims", dims); break;
                case 2: dataType = r.ReadInt32("data_type"); break;
                case 3: segmented = true; r.Skip(); break;
                case 4: r.ReadRepeatedFloat("float_data", floats); break;
                case 5: r.ReadRepeatedInt32("int32_data", int32s); break;
                case 6: strings.Add(r.ReadBytes("string_data")); break;
                case 7: r.ReadRepeatedInt64("int64_data", int64s); break;
                case 8: name = r.ReadString("name"); break;
                case 9: raw = r.ReadBytes("raw_data"); break;
                case 10: r.ReadRepeatedDouble("double_data", doubles); break;
                case 11: r.ReadRepeatedUInt64("uint64_data", uint64s); break;
                case 13: external = true; r.Skip(); break;
                case 14: external |= r.ReadInt64("data_location") == 1; break;
                default: r.Skip(); break;
            }
        }

        // The name may follow the data on the wire, so these are raised only once the whole message is read.
        string where = $"ONNX tensor '{name}' (TensorProto at byte {r.MessageOffset})";
        if (external)
        {
            throw new NotSupportedException($"{where} keeps its data in an external file, which this reader does not load");
        }

        if (segmented)
        {
            throw new NotSupportedException($"{where} is one segment of a chunked tensor, which this reader does not support");
        }

        var type = (OnnxDataType)dataType;
        if (!OnnxDataTypeInfo.IsKnown(type))
        {
            throw new InvalidDataException($"{where}: unknown data_type {dataType}");
        }

        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0)
            {
                throw new InvalidDataException($"{where}: negative dimension {d} in dims [{string.Join(", ", dims)}]");
            }

            // Arrays of the data are indexed by int, so a larger tensor cannot be a valid one here.
            count = d == 0 || count == 0 ? 0 : count * d;
            if (count > Array.MaxLength)
            {
                throw new InvalidDataException($"{where}: dims [{string.Join(", ", dims)}] exceed {Array.MaxLength} elements");
            }
        }

        CheckData(where, type, count, raw, floats.Count, int32s.Count, int64s.Count, doubles.Count, uint64s.Count, strings.Count);
        return new OnnxTensor(name, type, dims.ToArray(), count, raw, floats.ToArray(), int32s.ToArray(), int64s.ToArray(),
            doubles.ToArray(), uint64s.ToArray(), strings.ToArray());
    }

    /// <summary>
    /// Exactly one data field, the one the type prescribes, must hold exactly the element count:
    /// anything else would make the accessors return zeros or garbage for a damaged file.
    /// </summary>
    private static void CheckData(
        string where, OnnxDataType type, long count, ReadOnlyMemory<byte>? raw,
        int floats, int int32s, int int64s, int doubles, int uint64s, int strings)
    {
        int complexFactor = type is OnnxDataType.Complex64 or OnnxDataType.Complex128 ? 2 : 1;
        bool fourBit = type is OnnxDataType.UInt4 or OnnxDataType.Int4;
        (string Field, long Have, long Want)[] fields =
        [
            ("float_data", floats, type is OnnxDataType.Float or OnnxDataType.Complex64 ? count * complexFactor : 0),
            ("int32_data", int32s, type switch
            {
                OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt16 or OnnxDataType.UInt8
                    or OnnxDataType.Bool or OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Float8E4M3FN
                    or OnnxDataType.Float8E4M3FNUZ or OnnxDataType.Float8E5M2 or OnnxDataType.Float8E5M2FNUZ => count,
                OnnxDataType.UInt4 or OnnxDataType.Int4 => (count + 1) / 2,
                _ => 0,
            }),
            ("int64_data", int64s, type == OnnxDataType.Int64 ? count : 0),
            ("double_data", doubles, type is OnnxDataType.Double or OnnxDataType.Complex128 ? count * complexFactor : 0),
            ("uint64_data", uint64s, type is OnnxDataType.UInt32 or OnnxDataType.UInt64 ? count : 0),
            ("string_data", strings, type == OnnxDataType.String ? count : 0),
        ];

        if (raw is { } rawData)
        {
            if (type == OnnxDataType.String)
            {
                throw new InvalidDataException($"{where}: a String tensor cannot use raw_data");
            }

            long want = fourBit ? (count + 1) / 2 : count * OnnxDataTypeInfo.RawElementSize(type);
            if (rawData.Length != want)
            {
                throw new InvalidDataException($"{where}: raw_data has {rawData.Length} bytes, {type}[{count}] needs {want}");
            }

            foreach (var (field, have, _) in fields)
            {
                if (have != 0)
                {
                    throw new InvalidDataException($"{where}: both raw_data and {field} are present");
                }
            }

            return;
        }

        foreach (var (field, have, want) in fields)
        {
            if (have != want)
            {
                throw new InvalidDataException($"{where}: {field} has {have} elements, {type}[{count}] needs {want}");
            }
        }
    }
}
