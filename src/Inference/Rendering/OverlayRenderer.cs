using SegServe.Inference.Decoding;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>Options of a class-colour overlay.</summary>
/// <param name="Alpha">Opacity of the class colours, 0–1.</param>
/// <param name="Outline">Draw class boundaries in <paramref name="OutlineColor"/>.</param>
/// <param name="Legend">Draw a legend of the classes present in the top-left corner.</param>
/// <param name="OutlineColor">Colour of the boundaries.</param>
public readonly record struct OverlayOptions(float Alpha, bool Outline, bool Legend, Rgb24 OutlineColor);

/// <summary>Blends class colours over the photo, in place, one row at a time.</summary>
public static class OverlayRenderer
{
    public static void Render(Image<Rgb24> image, ClassMap map, ClassPalette palette, IReadOnlyList<string> classNames, OverlayOptions options)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(palette);
        ArgumentNullException.ThrowIfNull(classNames);
        if (image.Width != map.Width || image.Height != map.Height)
        {
            throw new ArgumentException($"The image is {image.Width}×{image.Height} but the class map is {map.Width}×{map.Height}.", nameof(map));
        }

        // Fixed-point blend: out = p + (c - p) * alpha, with alpha in 1/256 steps.
        int alpha = (int)MathF.Round(Math.Clamp(options.Alpha, 0f, 1f) * 256f);
        Rgb24[] colors = palette.Colors.ToArray();
        bool[] tinted = palette.Tinted.ToArray();
        image.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < accessor.Height; y++)
            {
                Span<Rgb24> row = accessor.GetRowSpan(y);
                ReadOnlySpan<ushort> classes = map.Classes.Row(y);
                ReadOnlySpan<ushort> below = y + 1 < map.Height ? map.Classes.Row(y + 1) : classes;
                for (int x = 0; x < row.Length; x++)
                {
                    int id = classes[x];
                    if (options.Outline && IsBoundary(classes, below, x))
                    {
                        row[x] = options.OutlineColor;
                        continue;
                    }

                    if (!tinted[id] || alpha == 0)
                    {
                        continue;
                    }

                    Rgb24 c = colors[id];
                    ref Rgb24 p = ref row[x];
                    p.R = (byte)(p.R + (((c.R - p.R) * alpha) >> 8));
                    p.G = (byte)(p.G + (((c.G - p.G) * alpha) >> 8));
                    p.B = (byte)(p.B + (((c.B - p.B) * alpha) >> 8));
                }
            }
        });

        if (options.Legend)
        {
            DrawLegend(image, map, palette, classNames);
        }
    }

    private static bool IsBoundary(ReadOnlySpan<ushort> row, ReadOnlySpan<ushort> below, int x)
    {
        ushort id = row[x];
        return (x + 1 < row.Length && row[x + 1] != id) || below[x] != id;
    }

    /// <summary>A dark panel listing each class present: colour swatch, name and share of the image.</summary>
    private static void DrawLegend(Image<Rgb24> image, ClassMap map, ClassPalette palette, IReadOnlyList<string> classNames)
    {
        var lines = new List<(int Id, string Text)>();
        long total = (long)map.Width * map.Height;
        for (int id = 0; id < map.PixelCounts.Length; id++)
        {
            long pixels = map.PixelCounts[id];
            if (pixels > 0)
            {
                double percent = 100.0 * pixels / total;
                lines.Add((id, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{classNames[id]} {percent:0.#}%")));
            }
        }

        int scale = Math.Max(1, Math.Min(image.Width, image.Height) / 360);
        int lineHeight = (BitmapFont.GlyphHeight + 4) * scale;
        int swatch = BitmapFont.GlyphHeight * scale;
        int padding = 4 * scale;
        int maxLines = Math.Max(0, (image.Height - (2 * padding)) / lineHeight);
        int count = Math.Min(lines.Count, maxLines);
        if (count == 0)
        {
            return;
        }

        int textWidth = 0;
        for (int i = 0; i < count; i++)
        {
            textWidth = Math.Max(textWidth, BitmapFont.MeasureWidth(lines[i].Text, scale));
        }

        int panelWidth = Math.Min(image.Width, padding + swatch + padding + textWidth + padding);
        int panelHeight = Math.Min(image.Height, (2 * padding) + (count * lineHeight));
        image.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < panelHeight; y++)
            {
                Span<Rgb24> row = accessor.GetRowSpan(y)[..panelWidth];
                for (int x = 0; x < row.Length; x++)
                {
                    // Darken to 30% so the text reads on any photo.
                    ref Rgb24 p = ref row[x];
                    p.R = (byte)((p.R * 77) >> 8);
                    p.G = (byte)((p.G * 77) >> 8);
                    p.B = (byte)((p.B * 77) >> 8);
                }
            }

            for (int i = 0; i < count; i++)
            {
                Rgb24 color = palette[lines[i].Id];
                int top = padding + (i * lineHeight);
                for (int y = top; y < Math.Min(top + swatch, accessor.Height); y++)
                {
                    accessor.GetRowSpan(y).Slice(padding, Math.Min(swatch, panelWidth - padding)).Fill(color);
                }
            }
        });

        var white = new Rgb24(255, 255, 255);
        for (int i = 0; i < count; i++)
        {
            BitmapFont.Draw(image, lines[i].Text, padding + swatch + padding, padding + (i * lineHeight), scale, white);
        }
    }
}
