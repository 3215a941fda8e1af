using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>
/// A small fixed-width bitmap font for legends and labels. ImageSharp.Drawing (and its font stack) is not available
/// to this project, and a legend needs only ASCII at a few sizes: glyphs are drawn as scaled pixel blocks.
/// </summary>
internal static partial class BitmapFont
{
    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/>.</summary>
    public static int MeasureWidth(string text, int scale) => text.Length * (GlyphWidth + 1) * scale;

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (<paramref name="left"/>, <paramref name="top"/>), clipped to the image.</summary>
    public static void Draw(Image<Rgb24> image, string text, int left, int top, int scale, Rgb24 color)
    {
        image.ProcessPixelRows(accessor =>
        {
            for (int i = 0; i < text.Length; i++)
            {
                char ch = text[i];
                int code = ch is >= ' ' and <= '~' ? ch : '?';
                int glyphLeft = left + (i * (GlyphWidth + 1) * scale);
                for (int gy = 0; gy < GlyphHeight; gy++)
                {
                    byte bits = Glyphs[((code - ' ') * GlyphHeight) + gy];
                    if (bits == 0)
                    {
                        continue;
                    }

                    for (int sy = 0; sy < scale; sy++)
                    {
                        int y = top + (gy * scale) + sy;
                        if ((uint)y >= (uint)accessor.Height)
                        {
                            continue;
                        }

                        Span<Rgb24> row = accessor.GetRowSpan(y);
                        for (int gx = 0; gx < GlyphWidth; gx++)
                        {
                            if ((bits & (1 << (GlyphWidth - 1 - gx))) == 0)
                            {
                                continue;
                            }

                            int x0 = glyphLeft + (gx * scale);
                            int x1 = Math.Min(x0 + scale, row.Length);
                            for (int x = Math.Max(x0, 0); x < x1; x++)
                            {
                                row[x] = color;
                            }
                        }
                    }
                }
            }
        });
    }
}
