using SegServe.Inference.Rendering;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Evaluation;

/// <summary>
/// The colours of colour-coded label maps, one per label in order: <c>voc</c> (the PASCAL VOC colour map, 256 labels)
/// or comma-separated <c>#rrggbb</c>.
/// </summary>
public static class LabelPalette
{
    /// <summary>Most colours a palette may list: one per 16-bit label.</summary>
    public const int MaxColours = 65536;

    /// <summary>The colours of <paramref name="palette"/>; null when none is given.</summary>
    /// <exception cref="InvalidOptionException">An entry is not a colour, or there are too many.</exception>
    public static IReadOnlyList<Rgb24>? Parse(string? palette)
    {
        if (string.IsNullOrWhiteSpace(palette))
        {
            return null;
        }

        var colours = new List<Rgb24>();
        if (palette.Trim().Equals("voc", StringComparison.OrdinalIgnoreCase))
        {
            for (int i = 0; i < 256; i++)
            {
                colours.Add(ClassPalette.VocColor(i));
            }

            return colours;
        }

        foreach (string part in palette.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!ColorParser.TryParse(part, out Rgb24 colour))
            {
                throw new InvalidOptionException("palette", palette, $"palette entry '{part}' is not a #rrggbb colour (the palette lists one colour per label, comma-separated, or 'voc').");
            }

            if (colours.Count == MaxColours)
            {
                throw new InvalidOptionException("palette", null, $"palette lists more than {MaxColours} colours; labels are 16-bit.");
            }

            colours.Add(colour);
        }

        return colours;
    }
}
