using SegServe.Inference.Evaluation;
using SegServe.Inference.Memory;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Evaluation;

public sealed class LabelMapReaderTests
{
    /// <summary>65,536 distinct colours: label i is (i / 256, i % 256, 7).</summary>
    private static List<Rgb24> Palette(int count)
    {
        var palette = new List<Rgb24>(count);
        for (int i = 0; i < count; i++)
        {
            palette.Add(new Rgb24((byte)(i >> 8), (byte)i, 7));
        }

        return palette;
    }

    private static byte[] RgbPng(params Rgb24[] pixels)
    {
        using var image = new Image<Rgb24>(pixels.Length, 1);
        for (int x = 0; x < pixels.Length; x++)
        {
            image[x, 0] = pixels[x];
        }

        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    [Fact]
    public void ColourPalette_OfSixteenBits_ReachesTheLastLabel()
    {
        List<Rgb24> palette = Palette(65536);
        byte[] png = RgbPng(palette[0], palette[65535], palette[300]);

        using Plane<ushort> map = LabelMapReader.Read(png, "groundTruth", palette, 1_000_000);

        Assert.Equal(new ushort[] { 0, 65535, 300 }, map.Span.ToArray());
    }

    [Fact]
    public void ColourPalette_BeyondSixteenBits_IsRefused()
    {
        List<Rgb24> palette = Palette(65536);
        palette.Add(new Rgb24(1, 2, 3));
        byte[] png = RgbPng(palette[0]);

        EvaluationInputException ex = Assert.Throws<EvaluationInputException>(() => LabelMapReader.Read(png, "groundTruth", palette, 1_000_000));

        Assert.Contains("65537 colours", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.Unreadable);
    }
}
