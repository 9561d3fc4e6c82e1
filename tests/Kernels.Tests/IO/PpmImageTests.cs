using System.Text;
using Kernels.Graph.IO;
using Xunit;

namespace Kernels.Tests.IO;

public sealed class PpmImageTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"kernels-{Guid.NewGuid():N}.ppm");

    public void Dispose() => File.Delete(_path);

    private void Write(string header, byte[] pixels) => File.WriteAllBytes(_path, [.. Encoding.ASCII.GetBytes(header), .. pixels]);

    [Fact]
    public void ReadsAndResizesBilinearlyIntoTheRange()
    {
        // 2x1: a black and a white pixel; a comment in the header.
        Write("P6\n# made by a test\n2 1\n255\n", [0, 0, 0, 255, 255, 255]);
        PpmImage image = PpmImage.Load(_path);
        Assert.Equal((2, 1), (image.Width, image.Height));
        float[] same = image.ToTensor(1, 2, -1f, 1f);
        Assert.Equal([-1f, -1f, -1f, 1f, 1f, 1f], same);

        // To 4 wide: centres at source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        float[] wide = image.ToTensor(1, 4);
        Assert.Equal(0f, wide[0], 1e-6f);
        Assert.Equal(0.25f, wide[3], 1e-6f);
        Assert.Equal(0.75f, wide[6], 1e-6f);
        Assert.Equal(1f, wide[9], 1e-6f);
    }

    [Theory]
    [InlineData("P3\n1 1\n255\n", "magic 'P3'")]
    [InlineData("P6\n1 1\n65535\n", "maximum value is 65535")]
    [InlineData("P6\n2 2\n255\n", "needs 12")]
    [InlineData("P6\n1 ", "PPM height")]
    public void BadFilesNameWhatIsWrong(string header, string expected)
    {
        Write(header, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => PpmImage.Load(_path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(_path, e.Message, StringComparison.Ordinal);
    }
}
