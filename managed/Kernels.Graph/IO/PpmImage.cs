using System.Text;

namespace Kernels.Graph.IO;

/// <summary>
/// A binary PPM (P6, 8-bit RGB) photo and its conversion to a network input: bilinear resize to H×W, each channel
/// mapped from [0, 255] to [low, high], NHWC (1×H×W×3). JPEG and PNG are not decoded here (no codec package is
/// available): convert once with djpeg or pnmtools (tools/fetch-photos.sh does).
/// </summary>
public sealed class PpmImage
{
    private PpmImage(int width, int height, byte[] rgb)
    {
        Width = width;
        Height = height;
        Rgb = rgb;
    }

    /// <summary>Pixels per row.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Row-major RGB bytes.</summary>
    public byte[] Rgb { get; }

    /// <summary>Reads a P6 file.</summary>
    /// <exception cref="InvalidDataException">Not a P6 file with a 255 maximum, or truncated; the message names the file and the field.</exception>
    public static PpmImage Load(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        int position = 0;
        string Token(string field)
        {
            while (position < data.Length)
            {
                if (data[position] == '#')
                {
                    while (position < data.Length && data[position] != '\n')
                    {
                        position++;
                    }
                }
                else if (char.IsWhiteSpace((char)data[position]))
                {
                    position++;
                }
                else
                {
                    break;
                }
            }

            int start = position;
            while (position < data.Length && !char.IsWhiteSpace((char)data[position]))
            {
                position++;
            }

            return position > start ? Encoding.ASCII.GetString(data, start, position - start) : throw new InvalidDataException($"{path}: the PPM header ends before its {field}.");
        }

        int Number(string field) =>
            int.TryParse(Token(field), out int v) && v > 0 && v <= 1 << 16 ? v : throw new InvalidDataException($"{path}: the PPM {field} is not a number in [1, 65536].");

        string magic = Token("magic number");
        if (magic != "P6")
        {
            throw new InvalidDataException($"{path}: not a binary PPM (magic '{magic}', expected P6).");
        }

        int width = Number("width"), height = Number("height"), max = Number("maximum value");
        if (max != 255)
        {
            throw new InvalidDataException($"{path}: the PPM maximum value is {max}; only 8-bit (255) is supported.");
        }

        position++; // the single whitespace after the header
        long size = 3L * width * height;
        if (data.Length - position < size)
        {
            throw new InvalidDataException($"{path}: the pixel data holds {data.Length - position} bytes; {width}x{height} RGB needs {size}.");
        }

        return new PpmImage(width, height, data.AsSpan(position, (int)size).ToArray());
    }

    /// <summary>The photo resized (bilinear, pixel centres aligned) to <paramref name="height"/>×<paramref name="width"/>, values mapped to [low, high], NHWC.</summary>
    /// <exception cref="ArgumentException">A size below 1, or low ≥ high.</exception>
    public float[] ToTensor(int height, int width, float low = 0f, float high = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (!(low < high))
        {
            throw new ArgumentException($"The range [{low}, {high}] is empty.", nameof(low));
        }

        var result = new float[3L * height * width];
        float scale = (high - low) / 255f;
        for (int y = 0; y < height; y++)
        {
            double sy = Math.Clamp(((y + 0.5) * Height / height) - 0.5, 0, Height - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, Height - 1);
            double fy = sy - y0;
            for (int x = 0; x < width; x++)
            {
                double sx = Math.Clamp(((x + 0.5) * Width / width) - 0.5, 0, Width - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, Width - 1);
                double fx = sx - x0;
                for (int c = 0; c < 3; c++)
                {
                    double top = (Rgb[(((y0 * Width) + x0) * 3) + c] * (1 - fx)) + (Rgb[(((y0 * Width) + x1) * 3) + c] * fx);
                    double bottom = (Rgb[(((y1 * Width) + x0) * 3) + c] * (1 - fx)) + (Rgb[(((y1 * Width) + x1) * 3) + c] * fx);
                    result[(((y * width) + x) * 3) + c] = low + (scale * (float)((top * (1 - fy)) + (bottom * fy)));
                }
            }
        }

        return result;
    }
}
