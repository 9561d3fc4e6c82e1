using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Kernels.Core;

namespace Kernels.Graph.IO;

/// <summary>
/// A NumPy .npy array (format versions 1.0–3.0, C order, little-endian): float32, uint8 or int8, the types
/// `kernels run --input/--output` reads and writes. The data is kept as raw bytes with its shape.
/// </summary>
public sealed class NpyArray
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Creates an array from its shape, element type and raw little-endian bytes.</summary>
    /// <exception cref="ArgumentException">The type is not float32/uint8/int8, a dimension is negative, or the byte count does not match.</exception>
    public NpyArray(IReadOnlyList<long> shape, DataType type, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (type is not (DataType.Float32 or DataType.UInt8 or DataType.Int8))
        {
            throw new ArgumentException($".npy arrays here are float32, uint8 or int8, not {type}.", nameof(type));
        }

        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"The shape ({string.Join(", ", shape)}) has a negative dimension.", nameof(shape));
            }

            count = checked(count * d);
        }

        if (checked(count * type.SizeInBytes()) != data.LongLength)
        {
            throw new ArgumentException($"A {type} array of shape ({string.Join(", ", shape)}) has {count * type.SizeInBytes()} bytes; {data.LongLength} were given.", nameof(data));
        }

        Shape = shape.ToArray();
        DataType = type;
        Data = data;
    }

    /// <summary>Dimensions, outermost first.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Element type.</summary>
    public DataType DataType { get; }

    /// <summary>Raw little-endian element bytes, C order.</summary>
    public byte[] Data { get; }

    /// <summary>Elements (the product of the dimensions).</summary>
    public long Length => Data.LongLength / DataType.SizeInBytes();

    /// <summary>A float32 array of the given shape.</summary>
    public static NpyArray FromFloats(IReadOnlyList<long> shape, ReadOnlySpan<float> values) =>
        new(shape, DataType.Float32, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>The elements as floats.</summary>
    /// <exception cref="InvalidOperationException">The array is not float32.</exception>
    public float[] ToFloats()
    {
        if (DataType != DataType.Float32)
        {
            throw new InvalidOperationException($"The array holds {DataType}, not float32.");
        }

        return MemoryMarshal.Cast<byte, float>(Data).ToArray();
    }

    /// <summary>Reads a .npy file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a supported .npy array; the message says what is wrong and where.</exception>
    public static NpyArray Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No such .npy file: {path}", path);
        }

        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of a .npy file.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a supported .npy array.</exception>
    public static NpyArray Parse(ReadOnlySpan<byte> bytes, string source = "<bytes>")
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{source}: not a .npy file (the magic string \\x93NUMPY is missing at offset 0).");
        }

        int major = bytes[6];
        int headerLength;
        int headerStart;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12)
            {
                throw new InvalidDataException($"{source}: truncated header length at offset 8.");
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            if (length > int.MaxValue)
            {
                throw new InvalidDataException($"{source}: header length {length} at offset 8 is too large.");
            }

            headerLength = (int)length;
            headerStart = 12;
        }
        else
        {
            throw new InvalidDataException($"{source}: .npy format version {major}.{bytes[7]} at offset 6 is not supported (1.0-3.0 are).");
        }

        if (bytes.Length < headerStart + headerLength)
        {
            throw new InvalidDataException($"{source}: the header says {headerLength} bytes at offset {headerStart}, but the file has {bytes.Length - headerStart}.");
        }

        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes.Slice(headerStart, headerLength));
        string descr = Field(header, "descr", source);
        string fortran = Field(header, "fortran_order", source);
        string shapeText = Field(header, "shape", source);
        var type = descr switch
        {
            "'<f4'" => DataType.Float32,
            "'|u1'" or "'<u1'" or "'u1'" => DataType.UInt8,
            "'|i1'" or "'<i1'" or "'i1'" => DataType.Int8,
            _ => throw new InvalidDataException($"{source}: dtype {descr} is not supported (little-endian float32 '<f4', uint8 '|u1' or int8 '|i1' are)."),
        };
        if (fortran != "False")
        {
            throw new InvalidDataException($"{source}: fortran_order is {fortran}; only C-order arrays are supported.");
        }

        var shape = ParseShape(shapeText, source);
        var data = bytes[(headerStart + headerLength)..];
        long count = 1;
        foreach (long d in shape)
        {
            count = checked(count * d);
        }

        long expected = count * type.SizeInBytes();
        if (data.Length != expected)
        {
            throw new InvalidDataException(
                $"{source}: shape ({string.Join(", ", shape)}) of {type} needs {expected} data bytes after the header (offset {headerStart + headerLength}); the file has {data.Length}.");
        }

        return new NpyArray(shape, type, data.ToArray());
    }

    /// <summary>Writes the array as a version 1.0 .npy file.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.Create(path);
        Write(stream);
    }

    /// <summary>Writes the array in .npy format 1.0 (header padded so the data starts at a multiple of 64 bytes).</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string descr = DataType switch { DataType.Float32 => "<f4", DataType.UInt8 => "|u1", _ => "|i1" };
        string shape = Shape.Count == 1
            ? string.Create(CultureInfo.InvariantCulture, $"({Shape[0]},)")
            : "(" + string.Join(", ", Shape.Select(static d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(Data);
    }

    private static string Field(string header, string key, string source)
    {
        string quoted = "'" + key + "'";
        int at = header.IndexOf(quoted, StringComparison.Ordinal);
        int colon = at < 0 ? -1 : header.IndexOf(':', at + quoted.Length);
        if (colon < 0)
        {
            throw new InvalidDataException($"{source}: the header has no {quoted} entry: {header.Trim()}");
        }

        int start = colon + 1;
        while (start < header.Length && header[start] == ' ')
        {
            start++;
        }

        int end = start;
        if (start < header.Length && header[start] == '(')
        {
            end = header.IndexOf(')', start);
            if (end < 0)
            {
                throw new InvalidDataException($"{source}: the {quoted} tuple is not closed: {header.Trim()}");
            }

            end++;
        }
        else
        {
            while (end < header.Length && header[end] != ',' && header[end] != '}')
            {
                end++;
            }
        }

        return header[start..end].Trim();
    }

    private static long[] ParseShape(string text, string source)
    {
        if (text.Length < 2 || text[0] != '(' || text[^1] != ')')
        {
            throw new InvalidDataException($"{source}: shape {text} is not a tuple.");
        }

        var parts = text[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var shape = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i].TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
            {
                throw new InvalidDataException($"{source}: shape {text} has a dimension '{parts[i]}' that is not a non-negative integer.");
            }
        }

        return shape;
    }
}
