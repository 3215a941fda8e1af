using System.Globalization;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>Reads <c>#rrggbb</c> (or <c>rrggbb</c>) colours, and the CSS colour names and short forms ImageSharp knows.</summary>
public static class ColorParser
{
    public static bool TryParse(string? text, out Rgb24 color)
    {
        color = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        ReadOnlySpan<char> hex = text.AsSpan();
        if (hex[0] == '#')
        {
            hex = hex[1..];
        }

        if (hex.Length != 6 || !int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
        {
            // Names ("black", "rebeccapurple") and #rgb.
            if (SixLabors.ImageSharp.Color.TryParse(text, out SixLabors.ImageSharp.Color named))
            {
                color = named.ToPixel<Rgb24>();
                return true;
            }

            return false;
        }

        color = new Rgb24((byte)(value >> 16), (byte)(value >> 8), (byte)value);
        return true;
    }

    public static string Format(Rgb24 color) => $"#{color.R:x2}{color.G:x2}{color.B:x2}";
}
