using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace Kernels.Graph.Onnx;

/// <summary>
/// Reads one protobuf message of an ONNX file field by field with <see cref="CodedInputStream"/>.
/// The whole file stays in one array: nested messages and bytes fields are slices of it, so a
/// 100 MB model is not copied once per nesting level. Every failure of the wire format becomes an
/// <see cref="InvalidDataException"/> that names the message, the field and the absolute byte offset.
/// </summary>
internal sealed class OnnxWireReader
{
    /// <summary>
    /// The ONNX messages the reader descends into nest at most Model → Graph → Node → Attribute →
    /// Tensor → StringStringEntry (sub-graphs are skipped), so a deeper nesting is malformed input.
    /// Groups inside skipped fields are bounded by <see cref="CodedInputStream"/>'s own recursion limit.
    /// </summary>
    private const int MaxDepth = 16;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer;
    private readonly int _start;
    private readonly int _length;
    private readonly CodedInputStream _input;
    private readonly long _origin;
    private readonly int _depth;
    private int _tagOffset;
    private int _field;
    private WireFormat.WireType _wireType;

    public OnnxWireReader(byte[] buffer, int start, int length, string message, int depth = 0)
    {
        _buffer = buffer;
        _start = start;
        _length = length;
        _depth = depth;
        Message = message;
        _input = new CodedInputStream(buffer, start, length);
        _origin = _input.Position;
    }

    /// <summary>The protobuf message name, used in error messages.</summary>
    public string Message { get; }

    /// <summary>Absolute offset in the file of this message's first byte.</summary>
    public int MessageOffset => _start;

    /// <summary>The current field's number.</summary>
    public int Field => _field;

    /// <summary>The current field's wire type.</summary>
    public WireFormat.WireType WireType => _wireType;

    private int Offset => _start + (int)(_input.Position - _origin);

    /// <summary>Advances to the next field; false at the end of the message.</summary>
    public bool NextField()
    {
        _tagOffset = Offset;
        uint tag;
        try
        {
            tag = _input.ReadTag();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"ONNX {Message}: bad field tag at byte {_tagOffset}: {e.Message}", e);
        }

        if (tag == 0)
        {
            return false;
        }

        _field = WireFormat.GetTagFieldNumber(tag);
        _wireType = WireFormat.GetTagWireType(tag);
        if (_wireType > WireFormat.WireType.Fixed32)
        {
            throw Error($"field {_field}", $"invalid wire type {(int)_wireType}");
        }

        return true;
    }

    /// <summary>Skips the current field (unknown fields, documentation strings, sub-graphs).</summary>
    /// <param name="field">The field's name for error messages; null for a field this reader does not know.</param>
    public void Skip(string? field = null)
    {
        try
        {
            _input.SkipLastField();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Error(field ?? $"field {_field}", e.Message, e);
        }
    }

    /// <summary>An error at the current field naming <paramref name="field"/>, the message and the byte offset.</summary>
    public InvalidDataException Error(string field, string detail, Exception? inner = null) =>
        new($"ONNX {Message}.{field} at byte {_tagOffset}: {detail}", inner);

    /// <summary>A varint scalar (int32, int64, enum, bool).</summary>
    public long ReadInt64(string field)
    {
        Expect(field, WireFormat.WireType.Varint);
        try
        {
            return _input.ReadInt64();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Error(field, e.Message, e);
        }
    }

    /// <summary>A varint scalar that must fit an int32 (data types, enums).</summary>
    public int ReadInt32(string field)
    {
        long value = ReadInt64(field);
        if (value is < int.MinValue or > int.MaxValue)
        {
            throw Error(field, $"value {value} does not fit a 32-bit field");
        }

        return (int)value;
    }

    /// <summary>A fixed32 float scalar.</summary>
    public float ReadFloat(string field)
    {
        Expect(field, WireFormat.WireType.Fixed32);
        try
        {
            return _input.ReadFloat();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Error(field, e.Message, e);
        }
    }

    /// <summary>A length-delimited field as a slice of the file (bytes fields, raw_data).</summary>
    public ReadOnlyMemory<byte> ReadBytes(string field)
    {
        var (start, length) = ReadSlice(field);
        return new ReadOnlyMemory<byte>(_buffer, start, length);
    }

    /// <summary>A string field; invalid UTF-8 is malformed input, not something to replace silently.</summary>
    public string ReadString(string field)
    {
        var (start, length) = ReadSlice(field);
        try
        {
            return StrictUtf8.GetString(_buffer, start, length);
        }
        catch (DecoderFallbackException e)
        {
            throw Error(field, "invalid UTF-8", e);
        }
    }

    /// <summary>A nested message: a reader over its bytes.</summary>
    public OnnxWireReader ReadMessage(string field, string message)
    {
        var (start, length) = ReadSlice(field);
        if (_depth + 1 > MaxDepth)
        {
            throw Error(field, $"messages nested deeper than {MaxDepth}");
        }

        return new OnnxWireReader(_buffer, start, length, message, _depth + 1);
    }

    /// <summary>One or more varint elements of a repeated field, packed or not (writers may do either).</summary>
    public void ReadRepeatedInt64(string field, List<long> values)
    {
        if (_wireType == WireFormat.WireType.Varint)
        {
            values.Add(ReadInt64(field));
            return;
        }

        var (start, length) = ReadSlice(field);
        var packed = new CodedInputStream(_buffer, start, length);
        try
        {
            while (!packed.IsAtEnd)
            {
                values.Add(packed.ReadInt64());
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Error(field, $"packed varints: {e.Message}", e);
        }
    }

    /// <summary>Repeated int32 elements, packed or not; varints are sign-extended to 64 bits on the wire.</summary>
    public void ReadRepeatedInt32(string field, List<int> values)
    {
        var wide = new List<long>();
        ReadRepeatedInt64(field, wide);
        foreach (long v in wide)
        {
            if (v is < int.MinValue or > int.MaxValue)
            {
                throw Error(field, $"value {v} does not fit int32");
            }

            values.Add((int)v);
        }
    }

    /// <summary>Repeated uint64 elements, packed or not.</summary>
    public void ReadRepeatedUInt64(string field, List<ulong> values)
    {
        var wide = new List<long>();
        ReadRepeatedInt64(field, wide);
        foreach (long v in wide)
        {
            values.Add(unchecked((ulong)v));
        }
    }

    /// <summary>Repeated float elements, packed (one slice) or one fixed32 per tag.</summary>
    public void ReadRepeatedFloat(string field, List<float> values)
    {
        if (_wireType == WireFormat.WireType.Fixed32)
        {
            values.Add(ReadFloat(field));
            return;
        }

        var bytes = ReadPackedFixed(field, sizeof(float));
        int first = values.Count;
        values.AddRange(MemoryMarshal.Cast<byte, float>(bytes));
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = first; i < values.Count; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice((i - first) * sizeof(float)));
            }
        }
    }

    /// <summary>Repeated double elements, packed (one slice) or one fixed64 per tag.</summary>
    public void ReadRepeatedDouble(string field, List<double> values)
    {
        if (_wireType == WireFormat.WireType.Fixed64)
        {
            try
            {
                values.Add(_input.ReadDouble());
            }
            catch (InvalidProtocolBufferException e)
            {
                throw Error(field, e.Message, e);
            }

            return;
        }

        var bytes = ReadPackedFixed(field, sizeof(double));
        for (int i = 0; i < bytes.Length; i += sizeof(double))
        {
            values.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i)));
        }
    }

    private ReadOnlySpan<byte> ReadPackedFixed(string field, int elementSize)
    {
        var (start, length) = ReadSlice(field);
        if (length % elementSize != 0)
        {
            throw Error(field, $"packed length {length} is not a multiple of {elementSize}");
        }

        return new ReadOnlySpan<byte>(_buffer, start, length);
    }

    private void Expect(string field, WireFormat.WireType expected)
    {
        if (_wireType != expected)
        {
            throw Error(field, $"wire type {_wireType}, expected {expected}");
        }
    }

    /// <summary>
    /// The payload of the current length-delimited field. <see cref="CodedInputStream.SkipLastField"/>
    /// checks the length against the bytes left; the length prefix is then decoded here only to find
    /// where the payload starts, since CodedInputStream exposes no sub-range of its buffer.
    /// </summary>
    private (int Start, int Length) ReadSlice(string field)
    {
        Expect(field, WireFormat.WireType.LengthDelimited);
        int before = Offset;
        Skip(field);
        int after = Offset;
        int prefix = 0;
        while ((_buffer[before + prefix] & 0x80) != 0)
        {
            prefix++;
        }

        prefix++;
        int start = before + prefix;
        if (start > after || after > _start + _length)
        {
            throw Error(field, "length prefix runs past the message");
        }

        return (start, after - start);
    }
}
