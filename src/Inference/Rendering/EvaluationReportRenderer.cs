using System.Globalization;
using SegServe.Inference.Evaluation;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>
/// A one-picture summary of semantic scores: the confusion matrix as a heat map (each ground-truth row normalised, so
/// the diagonal reads as per-class recall), and per-class IoU as bars, under a title line with the headline figures.
/// </summary>
public static class EvaluationReportRenderer
{
    private static readonly Rgb24 s_background = new(255, 255, 255);
    private static readonly Rgb24 s_text = new(20, 20, 20);
    private static readonly Rgb24 s_bar = new(52, 101, 164);
    private static readonly Rgb24 s_grid = new(200, 200, 200);

    /// <summary>The report as a PNG file.</summary>
    public static byte[] RenderPng(SemanticScores scores, SemanticAccumulator sums, IReadOnlyList<string>? classNames, string title)
    {
        using Image<Rgb24> report = Render(scores, sums, classNames, title);
        return Encoding.PictureEncoder.Encode(report, Encoding.PictureFormat.Png);
    }

    /// <summary>The widest the text lines may make the picture (pixels).</summary>
    public const int MaxWidth = 2048;

    public static Image<Rgb24> Render(SemanticScores scores, SemanticAccumulator sums, IReadOnlyList<string>? classNames, string title)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(sums);
        int classes = sums.ClassCount;
        const int Margin = 16;
        const int Scale = 2;
        int line = (BitmapFont.GlyphHeight + 3) * Scale;
        int cell = Math.Clamp(480 / classes, 2, 32);
        int matrix = cell * classes;
        int labelWidth = 0;
        var labels = new string[classes];
        for (int c = 0; c < classes; c++)
        {
            string name = classNames is not null && c < classNames.Count ? classNames[c] : c.ToString(CultureInfo.InvariantCulture);
            double? iou = scores.Classes[c].Iou;
            labels[c] = string.Create(CultureInfo.InvariantCulture, $"{name} {(iou is double v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "n/a")}");
            labelWidth = Math.Max(labelWidth, BitmapFont.MeasureWidth(labels[c], 1));
        }

        int barRow = Math.Max(BitmapFont.GlyphHeight + 4, Math.Min(cell, 20));
        const int BarLength = 240;
        string headline = string.Create(
            CultureInfo.InvariantCulture,
            $"mIoU {Format(scores.MeanIou)}  aAcc {Format(scores.PixelAccuracy)}  mAcc {Format(scores.MeanAccuracy)}  mBIoU {Format(scores.MeanBoundaryIou)}");

        // Wide enough for the two text lines too (a long model name in the title was cut at the right edge), within
        // MaxWidth: a title longer than that is cut rather than making the picture unbounded.
        int body = Margin + matrix + (2 * Margin) + labelWidth + 8 + BarLength + Margin;
        int text = (2 * Margin) + Math.Max(BitmapFont.MeasureWidth(title, Scale), BitmapFont.MeasureWidth(headline, Scale));
        int width = Math.Max(body, Math.Min(Math.Max(text, 640), MaxWidth));
        int height = Margin + (2 * line) + Math.Max(matrix, barRow * classes) + Margin;
        var image = new Image<Rgb24>(width, height, s_background);
        BitmapFont.Draw(image, title, Margin, Margin, Scale, s_text);
        BitmapFont.Draw(image, headline, Margin, Margin + line, Scale, s_text);
        int top = Margin + (2 * line);

        // Heat map: white (0) to dark blue (1) per row share.
        image.ProcessPixelRows(rows =>
        {
            for (int t = 0; t < classes; t++)
            {
                long rowTotal = sums.PredictedOutside[t];
                for (int p = 0; p < classes; p++)
                {
                    rowTotal += sums.Confusion[(t * classes) + p];
                }

                for (int p = 0; p < classes; p++)
                {
                    double share = rowTotal == 0 ? 0 : (double)sums.Confusion[(t * classes) + p] / rowTotal;
                    var colour = new Rgb24((byte)(255 - (share * 247)), (byte)(255 - (share * 207)), (byte)(255 - (share * 148)));
                    for (int y = 0; y < cell; y++)
                    {
                        Span<Rgb24> row = rows.GetRowSpan(top + (t * cell) + y);
                        row.Slice(Margin + (p * cell), cell).Fill(y == 0 || (cell > 4 && y == cell - 1) ? Blend(colour, s_grid) : colour);
                    }
                }
            }

            // Per-class IoU bars.
            int left = Margin + matrix + (2 * Margin) + labelWidth + 8;
            for (int c = 0; c < classes; c++)
            {
                int length = (int)Math.Round((scores.Classes[c].Iou ?? 0) * BarLength);
                for (int y = 2; y < barRow - 2; y++)
                {
                    Span<Rgb24> row = rows.GetRowSpan(top + (c * barRow) + y);
                    row.Slice(left, BarLength).Fill(s_grid);
                    row.Slice(left, length).Fill(s_bar);
                }
            }
        });

        int textLeft = Margin + matrix + (2 * Margin);
        for (int c = 0; c < classes; c++)
        {
            BitmapFont.Draw(image, labels[c], textLeft, top + (c * barRow) + ((barRow - BitmapFont.GlyphHeight) / 2), 1, s_text);
        }

        return image;
    }

    private static string Format(double? value) => value is double v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";

    private static Rgb24 Blend(Rgb24 a, Rgb24 b) => new((byte)((a.R + b.R) / 2), (byte)((a.G + b.G) / 2), (byte)((a.B + b.B) / 2));
}
