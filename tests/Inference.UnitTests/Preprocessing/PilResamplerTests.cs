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

/// <summary>
/// The pass order: Pillow's (horizontal first) except where it would cost far more than the other — images very narrow
/// and tall, enlarged across — so that resizing costs in proportion to the pixels. The orders differ only by rounding.
/// </summary>
public sealed class PilResamplerOrderTests
{
    [Theory]
    [InlineData(57, 41, 131, 97)]
    [InlineData(640, 427, 256, 256)]
    [InlineData(3000, 2000, 256, 256)]
    [InlineData(2000, 1, 256, 256)]
    public void ImagesOfOrdinaryShape_AndWideStrips_KeepPillowsOrder(int sourceWidth, int sourceHeight, int width, int height)
    {
        using Image<Rgb24> source = Pattern(sourceWidth, sourceHeight);
        using Image<Rgb24> automatic = PilResampler.Resize(source, width, height, PilResampler.Filter.Bilinear);
        using Image<Rgb24> pillow = PilResampler.Resize(source, width, height, PilResampler.Filter.Bilinear, PilResampler.PassOrder.HorizontalFirst);

        Assert.Equal(0, MaxDifference(automatic, pillow));
    }

    [Theory]
    [InlineData(1, 200_000)]
    [InlineData(3, 40_000)]
    public void TallStrips_GoVerticalFirst_AndDifferFromPillowByRoundingOnly(int sourceWidth, int sourceHeight)
    {
        using Image<Rgb24> source = Pattern(sourceWidth, sourceHeight);
        using Image<Rgb24> automatic = PilResampler.Resize(source, 256, 256, PilResampler.Filter.Bilinear);
        using Image<Rgb24> vertical = PilResampler.Resize(source, 256, 256, PilResampler.Filter.Bilinear, PilResampler.PassOrder.VerticalFirst);
        using Image<Rgb24> pillow = PilResampler.Resize(source, 256, 256, PilResampler.Filter.Bilinear, PilResampler.PassOrder.HorizontalFirst);

        Assert.Equal(0, MaxDifference(automatic, vertical));
        Assert.InRange(MaxDifference(automatic, pillow), 0, 1);
    }

    [Fact]
    public void Bilinear_BothOrdersAgreeWithinOneLevel_OnAnyImageAndShape()
    {
        // Bilinear taps are positive and sum to one, so each order's single extra rounding moves a value by at most one.
        var random = new Random(7);
        for (int trial = 0; trial < 60; trial++)
        {
            using Image<Rgb24> source = Noise(random, random.Next(1, 40), random.Next(1, 40));
            int width = random.Next(1, 60), height = random.Next(1, 60);
            using Image<Rgb24> first = PilResampler.Resize(source, width, height, PilResampler.Filter.Bilinear, PilResampler.PassOrder.HorizontalFirst);
            using Image<Rgb24> second = PilResampler.Resize(source, width, height, PilResampler.Filter.Bilinear, PilResampler.PassOrder.VerticalFirst);
            Assert.InRange(MaxDifference(first, second), 0, 1);
        }
    }

    [Fact]
    public void Bicubic_OrdersDifferMoreOnlyWhereOvershootIsClipped()
    {
        // Bicubic's negative lobes overshoot at sharp edges; the intermediate clips the overshoot in one order and not
        // the other. On a smooth image there is nothing to clip and the orders agree within rounding.
        using var smooth = new Image<Rgb24>(3, 400);
        smooth.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                rows.GetRowSpan(y).Fill(new Rgb24((byte)(y * 255 / 399), (byte)(128 + (y % 40)), 90));
            }
        });
        using Image<Rgb24> first = PilResampler.Resize(smooth, 64, 64, PilResampler.Filter.Bicubic, PilResampler.PassOrder.HorizontalFirst);
        using Image<Rgb24> second = PilResampler.Resize(smooth, 64, 64, PilResampler.Filter.Bicubic, PilResampler.PassOrder.VerticalFirst);
        Assert.InRange(MaxDifference(first, second), 0, 2);
    }

    private static Image<Rgb24> Pattern(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgb24((byte)(y * 7), (byte)((x * 31) + (y / 3)), (byte)((x ^ y) * 13));
                }
            }
        });
        return image;
    }

    private static Image<Rgb24> Noise(Random random, int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        var bytes = new byte[width * height * 3];
        random.NextBytes(bytes);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                bytes.AsSpan(y * width * 3, width * 3).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.GetRowSpan(y)));
            }
        });
        return image;
    }

    private static int MaxDifference(Image<Rgb24> a, Image<Rgb24> b)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        int max = 0;
        for (int y = 0; y < a.Height; y++)
        {
            for (int x = 0; x < a.Width; x++)
            {
                Rgb24 p = a[x, y], q = b[x, y];
                max = Math.Max(max, Math.Max(Math.Abs(p.R - q.R), Math.Max(Math.Abs(p.G - q.G), Math.Abs(p.B - q.B))));
            }
        }

        return max;
    }
}
