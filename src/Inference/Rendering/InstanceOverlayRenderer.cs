using System.Globalization;
using SegServe.Inference.Instances;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>
/// Draws instances over the photo, in place: each object's mask tinted in its own colour with its contour traced,
/// its box outlined, and a "class score" label above the box. Masks are read from their RLE runs one object at a
/// time (worst score first, so the best ends on top).
/// </summary>
public static class InstanceOverlayRenderer
{
    public static void Render(Image<Rgb24> image, IReadOnlyList<DetectedObject> objects, IReadOnlyList<string> classNames, float alpha)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentNullException.ThrowIfNull(classNames);
        int width = image.Width;
        int height = image.Height;
        int a = (int)MathF.Round(Math.Clamp(alpha, 0f, 1f) * 256f);
        int scale = Math.Max(1, Math.Min(width, height) / 360);
        for (int i = objects.Count - 1; i >= 0; i--)
        {
            DetectedObject o = objects[i];
            Rgb24 colour = ClassPalette.VocColor(i + 1);
            (int xs, int xe, int ys, int ye, bool[] inside) = Rasterise(o);
            int boxWidth = xe - xs;
            image.ProcessPixelRows(rows =>
            {
                for (int y = ys; y < ye; y++)
                {
                    Span<Rgb24> row = rows.GetRowSpan(y);
                    for (int x = xs; x < xe; x++)
                    {
                        int local = ((y - ys) * boxWidth) + (x - xs);
                        if (!inside[local])
                        {
                            continue;
                        }

                        bool edge = x == xs || x == xe - 1 || y == ys || y == ye - 1
                            || !inside[local - 1] || !inside[local + 1] || !inside[local - boxWidth] || !inside[local + boxWidth];
                        ref Rgb24 p = ref row[x];
                        if (edge)
                        {
                            p = colour;
                            continue;
                        }

                        p.R = (byte)(p.R + (((colour.R - p.R) * a) >> 8));
                        p.G = (byte)(p.G + (((colour.G - p.G) * a) >> 8));
                        p.B = (byte)(p.B + (((colour.B - p.B) * a) >> 8));
                    }
                }

                // Box outline, clipped to the image.
                int left = Math.Clamp((int)MathF.Floor(o.X1), 0, width - 1);
                int right = Math.Clamp((int)MathF.Ceiling(o.X2) - 1, 0, width - 1);
                int top = Math.Clamp((int)MathF.Floor(o.Y1), 0, height - 1);
                int bottom = Math.Clamp((int)MathF.Ceiling(o.Y2) - 1, 0, height - 1);
                for (int t = 0; t < scale; t++)
                {
                    rows.GetRowSpan(Math.Min(top + t, bottom))[left..(right + 1)].Fill(colour);
                    rows.GetRowSpan(Math.Max(bottom - t, top))[left..(right + 1)].Fill(colour);
                }

                for (int y = top; y <= bottom; y++)
                {
                    Span<Rgb24> row = rows.GetRowSpan(y);
                    row.Slice(left, Math.Min(scale, right - left + 1)).Fill(colour);
                    row.Slice(Math.Max(left, right - scale + 1), Math.Min(scale, right - left + 1)).Fill(colour);
                }
            });

            string label = string.Create(CultureInfo.InvariantCulture, $"{classNames[o.ClassId]} {o.Score:0.00}");
            int labelHeight = (BitmapFont.GlyphHeight + 2) * scale;
            int labelTop = Math.Max(0, (int)o.Y1 - labelHeight);
            int labelLeft = Math.Clamp((int)o.X1, 0, Math.Max(0, width - 1));
            int labelWidth = Math.Min(BitmapFont.MeasureWidth(label, scale) + (2 * scale), width - labelLeft);
            image.ProcessPixelRows(rows =>
            {
                for (int y = labelTop; y < Math.Min(height, labelTop + labelHeight); y++)
                {
                    rows.GetRowSpan(y).Slice(labelLeft, labelWidth).Fill(colour);
                }
            });
            BitmapFont.Draw(image, label, labelLeft + scale, labelTop + scale, scale, Luminance(colour) > 140 ? new Rgb24(0, 0, 0) : new Rgb24(255, 255, 255));
        }
    }

    /// <summary>The mask over its bounding rectangle, from the RLE runs.</summary>
    private static (int Xs, int Xe, int Ys, int Ye, bool[] Inside) Rasterise(DetectedObject o)
    {
        if (o.Mask.Bounds() is not (int x, int y, int w, int h))
        {
            return (0, 0, 0, 0, []);
        }

        bool[] inside = new bool[w * h];
        o.Mask.Fill<bool>(inside, x, y, w, true);
        return (x, x + w, y, y + h, inside);
    }

    private static int Luminance(Rgb24 c) => ((c.R * 299) + (c.G * 587) + (c.B * 114)) / 1000;
}
