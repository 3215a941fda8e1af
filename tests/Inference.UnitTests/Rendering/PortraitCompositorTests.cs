using SegServe.Inference.Memory;
using SegServe.Inference.Rendering;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Rendering;

public sealed class PortraitCompositorTests
{
    private static readonly Rgb24 s_red = new(255, 0, 0);
    private static readonly Rgb24 s_blue = new(0, 0, 255);

    /// <summary>A 64×48 image, red on the left half (the "person", alpha 255) and blue on the right (alpha 0).</summary>
    private static (Image<Rgb24> Image, Plane<byte> Mask) Halves()
    {
        var image = new Image<Rgb24>(64, 48);
        var mask = new Plane<byte>(64, 48);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                Span<byte> alpha = mask.Row(y);
                for (int x = 0; x < row.Length; x++)
                {
                    bool person = x < 32;
                    row[x] = person ? s_red : s_blue;
                    alpha[x] = person ? (byte)255 : (byte)0;
                }
            }
        });
        return (image, mask);
    }

    [Fact]
    public void Replace_HandComputedBlend()
    {
        using var image = new Image<Rgb24>(3, 1);
        image[0, 0] = new Rgb24(200, 100, 0);
        image[1, 0] = new Rgb24(200, 100, 0);
        image[2, 0] = new Rgb24(200, 100, 0);
        using var mask = new Plane<byte>(3, 1);
        mask.Span[0] = 255;
        mask.Span[1] = 0;
        mask.Span[2] = 51; // 0.2

        PortraitCompositor.ReplaceBackground(image, mask, new Rgb24(0, 50, 250));

        Assert.Equal(new Rgb24(200, 100, 0), image[0, 0]);
        Assert.Equal(new Rgb24(0, 50, 250), image[1, 0]);
        // 0.2·(200, 100, 0) + 0.8·(0, 50, 250) = (40, 60, 200).
        Assert.Equal(new Rgb24(40, 60, 200), image[2, 0]);
    }

    [Fact]
    public void Cutout_CopiesColoursAndUsesTheMaskAsAlpha()
    {
        (Image<Rgb24> image, Plane<byte> mask) = Halves();
        using (image)
        using (mask)
        {
            mask.Span[5] = 77;
            using Image<Rgba32> cutout = PortraitCompositor.Cutout(image, mask);

            Assert.Equal(new Rgba32(255, 0, 0, 77), cutout[5, 0]);
            Assert.Equal(new Rgba32(255, 0, 0, 255), cutout[6, 0]);
            Assert.Equal(new Rgba32(0, 0, 255, 0), cutout[40, 10]);
        }
    }

    [Theory]
    [InlineData(3f)]   // blurred at full resolution
    [InlineData(12f)]  // blurred on a reduced copy
    public void Blur_KeepsTheForegroundExactAndDoesNotBleedItIntoTheBackground(float radius)
    {
        (Image<Rgb24> image, Plane<byte> mask) = Halves();
        using (image)
        using (mask)
        {
            PortraitCompositor.BlurBackground(image, mask, radius);

            for (int y = 0; y < image.Height; y++)
            {
                for (int x = 0; x < 32; x++)
                {
                    Assert.Equal(s_red, image[x, y]);
                }

                // The background is blurred from background pixels only (masked blur): no red halo beside the person.
                for (int x = 32; x < 64; x++)
                {
                    Rgb24 p = image[x, y];
                    Assert.True(p.R <= 3 && p.B >= 250, $"({x},{y}) = {p}: the person's colour leaked into the blurred background");
                }
            }
        }
    }

    [Fact]
    public void Blur_SmoothsAnEdgeInsideTheBackground()
    {
        // All background (alpha 0): black left, white right. Blurring must turn the step into a ramp.
        using var image = new Image<Rgb24>(64, 8);
        using var mask = new Plane<byte>(64, 8);
        mask.Span.Clear();
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                row[..32].Fill(new Rgb24(0, 0, 0));
                row[32..].Fill(new Rgb24(255, 255, 255));
            }
        });

        PortraitCompositor.BlurBackground(image, mask, 3f);

        // A Gaussian of σ = 3 across a step: ≈ 50% at the edge, ≈ 16% one σ into the dark side, ≈ 84% one σ into the light.
        Assert.InRange(image[31, 4].R, 100, 150);
        Assert.InRange(image[29, 4].R, 25, 60);
        Assert.InRange(image[34, 4].R, 195, 230);
        Assert.Equal(0, image[5, 4].R);
        Assert.Equal(255, image[60, 4].R);
    }

    [Fact]
    public void SizeMismatch_IsRejected()
    {
        using var image = new Image<Rgb24>(4, 4);
        using var mask = new Plane<byte>(4, 3);
        Assert.Throws<ArgumentException>(() => PortraitCompositor.ReplaceBackground(image, mask, s_red));
    }

    [Theory]
    [InlineData(100, 100, 2f)]
    [InlineData(512, 512, 10f)]
    [InlineData(4000, 3000, 60f)]
    public void DefaultBlurRadius_IsTwoPercentOfTheShorterSide(int width, int height, float expected) =>
        Assert.Equal(expected, PortraitCompositor.DefaultBlurRadius(width, height));
}

public sealed class LenientColorTests
{
    [Theory]
    [InlineData("#00ff00", 0, 255, 0)]
    [InlineData("black", 0, 0, 0)]
    [InlineData("White", 255, 255, 255)]
    [InlineData("#f00", 255, 0, 0)]
    public void TryParseLenient_TakesHexNamesAndShortForms(string text, byte r, byte g, byte b)
    {
        Assert.True(ColorParser.TryParseLenient(text, out Rgb24 color));
        Assert.Equal(new Rgb24(r, g, b), color);
    }

    [Theory]
    [InlineData("notacolour")]
    [InlineData("")]
    [InlineData("#12345")]
    public void TryParseLenient_RejectsTheRest(string text) => Assert.False(ColorParser.TryParseLenient(text, out _));
}

/// <summary>The blur's cost per pixel does not depend on the radius: the σ its taps run with is bounded.</summary>
public sealed class BlurReductionTests
{
    [Theory]
    [InlineData(0.5f, 1)]
    [InlineData(1.99f, 1)]
    [InlineData(2f, 1)]
    [InlineData(2.01f, 2)]
    [InlineData(7.99f, 4)]
    [InlineData(8f, 4)]
    [InlineData(40f, 20)]
    public void TheReducedSigma_IsAtMostTwoPixels(float radius, int factor)
    {
        Assert.Equal(factor, SegServe.Inference.Rendering.PortraitCompositor.ReductionFactor(radius, 8000, 5000));
        Assert.True(radius / factor <= 2f);
    }

    [Fact]
    public void SmallImages_AreNotReducedBelowThirtyTwoPixels()
    {
        Assert.Equal(2, SegServe.Inference.Rendering.PortraitCompositor.ReductionFactor(500f, 64, 100));
        Assert.Equal(1, SegServe.Inference.Rendering.PortraitCompositor.ReductionFactor(500f, 40, 40));
    }
}
