using System.Text;
using Kernels.Core;
using Kernels.Graph.IO;
using Xunit;

namespace Kernels.Tests.IO;

public sealed class NpyArrayTests
{
    [Fact]
    public void RoundTripsFloat32AndBytes()
    {
        var values = TestData.RandomFloats(new Random(3), 2 * 3 * 4);
        var array = NpyArray.FromFloats([2, 3, 4], values);
        var stream = new MemoryStream();
        array.Write(stream);
        byte[] bytes = stream.ToArray();
        Assert.Equal(0, (bytes.Length - values.Length * 4) % 64);
        var back = NpyArray.Parse(bytes);
        Assert.Equal([2L, 3, 4], back.Shape);
        Assert.Equal(values, back.ToFloats());

        var u8 = new NpyArray([5], DataType.UInt8, [1, 2, 3, 250, 0]);
        var s = new MemoryStream();
        u8.Write(s);
        var u8Back = NpyArray.Parse(s.ToArray());
        Assert.Equal(DataType.UInt8, u8Back.DataType);
        Assert.Equal([5L], u8Back.Shape);
        Assert.Equal(u8.Data, u8Back.Data);
    }

    [Fact]
    public void ReadsTheHeaderNumPyWrites()
    {
        // What numpy.save writes for np.arange(6, dtype=np.float32).reshape(1, 2, 3): version 1.0, header padded to 64 bytes.
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }";
        int padded = (10 + dict.Length + 1 + 63) / 64 * 64;
        string header = dict + new string(' ', padded - 10 - dict.Length - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
        bytes.AddRange(Encoding.Latin1.GetBytes(header));
        for (int i = 0; i < 6; i++)
        {
            bytes.AddRange(BitConverter.GetBytes((float)i));
        }

        var array = NpyArray.Parse(bytes.ToArray());
        Assert.Equal([1L, 2, 3], array.Shape);
        Assert.Equal([0f, 1, 2, 3, 4, 5], array.ToFloats());
    }

    [Theory]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "dtype")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, "dtype")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, "fortran_order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "needs 12 data bytes")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, }", 8, "'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,x), }", 8, "not a non-negative integer")]
    public void RejectsUnsupportedOrInconsistentFiles(string dict, int dataBytes, string message)
    {
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(dict.Length + 1), 0 };
        bytes.AddRange(Encoding.Latin1.GetBytes(dict + "\n"));
        bytes.AddRange(new byte[dataBytes]);
        var e = Assert.Throws<InvalidDataException>(() => NpyArray.Parse(bytes.ToArray()));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsNonNpyAndTruncatedFiles()
    {
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => NpyArray.Parse("hello world"u8)).Message, StringComparison.Ordinal);
        Assert.Contains("header says", Assert.Throws<InvalidDataException>(() => NpyArray.Parse([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 200, 0, 1])).Message, StringComparison.Ordinal);
        Assert.Contains("version 9", Assert.Throws<InvalidDataException>(() => NpyArray.Parse([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 9, 0, 0, 0, 0, 0])).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => NpyArray.Load("/nonexistent/x.npy"));
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => new NpyArray([2, 2], DataType.Float32, new byte[15])).ParamName);
    }
}
