using SegServe.Inference.Evaluation;
using SegServe.Inference.Rendering;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Rendering;

public sealed class EvaluationReportRendererTests
{
    private const int Margin = 16;
    private const int Scale = 2;

    [Fact]
    public void TheTitle_FitsThePicture_WhenItIsLongerThanTheBody()
    {
        SemanticAccumulator sums = TwoClasses();
        string title = "run 63d973bd  3 samples  11 classes  model espnet-camvid-a-rather-long-model-name";

        using Image<Rgb24> report = EvaluationReportRenderer.Render(SemanticScores.From(sums), sums, ["background", "person"], title);

        // 82 characters × 6 px × 2 = 984 px of text: the picture holds it and its margins, and the last glyph is drawn.
        int text = BitmapFont.MeasureWidth(title, Scale);
        Assert.Equal(text + (2 * Margin), report.Width);
        Assert.True(AnyInk(report, report.Width - Margin - (BitmapFont.GlyphWidth * Scale), report.Width - Margin, Margin, Margin + (BitmapFont.GlyphHeight * Scale)));
    }

    [Fact]
    public void AnAbsurdTitle_IsCut_AtMaxWidth()
    {
        SemanticAccumulator sums = TwoClasses();
        using Image<Rgb24> report = EvaluationReportRenderer.Render(SemanticScores.From(sums), sums, null, new string('x', 5000));
        Assert.Equal(EvaluationReportRenderer.MaxWidth, report.Width);
    }

    [Fact]
    public void TheHeadline_FitsThePicture_UnderAShortTitle()
    {
        // The headline (mIoU, aAcc, mAcc, mBIoU) is wider than 640 px at scale 2: it was cut at the right edge.
        SemanticAccumulator sums = TwoClasses();
        using Image<Rgb24> report = EvaluationReportRenderer.Render(SemanticScores.From(sums), sums, null, "run 1");

        int line = (BitmapFont.GlyphHeight + 3) * Scale;
        Assert.True(report.Width > 640);
        Assert.True(AnyInk(report, report.Width - Margin - (BitmapFont.GlyphWidth * Scale), report.Width - Margin, Margin + line, Margin + line + (BitmapFont.GlyphHeight * Scale)));
        Assert.False(AnyInk(report, report.Width - Margin, report.Width, Margin + line, Margin + line + (BitmapFont.GlyphHeight * Scale)));
    }

    private static SemanticAccumulator TwoClasses()
    {
        // Confusion (2×2), predicted outside, boundary intersection and union per class.
        return SemanticAccumulator.FromArray(2, [90, 10, 5, 95, 0, 0, 10, 12, 20, 22]);
    }

    private static bool AnyInk(Image<Rgb24> image, int x0, int x1, int y0, int y1)
    {
        Rgb24 background = image[0, 0];
        for (int y = y0; y < y1; y++)
        {
            for (int x = x0; x < x1; x++)
            {
                if (!image[x, y].Equals(background))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
