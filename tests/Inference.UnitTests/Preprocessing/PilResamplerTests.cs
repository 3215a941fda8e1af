using SegServe.Inference.Preprocessing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Preprocessing;

/// <summary>
/// Against Pillow 9.4 itself: <c>TestData/pil</c> holds a 57×41 crop of chelsea.png and what <c>Image.resize</c> makes of
/// it with BILINEAR and BICUBIC, enlarging, shrinking (antialiased) and both at once. Equal to the last bit.
/// </summary>
public sealed class PilResamplerTests
{
    [Theory]
    [InlineData("bilinear", 131, 97)]
    [InlineData("bilinear", 23, 17)]
    [InlineData("bilinear", 57, 100)]
    [InlineData("bilinear", 40, 41)]
    [InlineData("bicubic", 131, 97)]
    [InlineData("bicubic", 23, 17)]
    [InlineData("bicubic", 57, 100)]
    [InlineData("bicubic", 40, 41)]
    public void Resize_IsBitExactWithPillow(string filter, int width, int height)
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "TestData", "pil");
        using Image<Rgb24> source = Image.Load<Rgb24>(Path.Combine(directory, "source.png"));
        using Image<Rgb24> expected = Image.Load<Rgb24>(Path.Combine(directory, $"{filter}_{width}x{height}.png"));

        using Image<Rgb24> actual = PilResampler.Resize(source, width, height, filter == "bilinear" ? PilResampler.Filter.Bilinear : PilResampler.Filter.Bicubic);

        int differences = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                differences += actual[x, y].Equals(expected[x, y]) ? 0 : 1;
            }
        }

        Assert.Equal(0, differences);
    }
}
