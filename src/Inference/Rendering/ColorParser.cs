using System.Globalization;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>Reads <c>#rrggbb</c> (or <c>rrggbb</c>) colours; request parameters also take CSS names and <c>#rgb</c>.</summary>
public static class ColorParser
{
    /// <summary>As <see cref="TryParse"/>, and also the CSS colour names ("black", "rebeccapurple") and <c>#rgb</c>.</summary>
    public static bool TryParseLenient(string? text, out Rgb24 color)
    {
        if (TryParse(text, out color))
        {
            return true;
        }

        if (!string.IsNullOrEmpty(text) && SixLabors.ImageSharp.Color.TryParse(text, out SixLabors.ImageSharp.Color named))
        {
            color = named.ToPixel<Rgb24>();
            return true;
        }

        return false;
    }

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
            return false;
        }

        color = new Rgb24((byte)(value >> 16), (byte)(value >> 8), (byte)value);
        return true;
    }

    /// <summary>True when <see cref="TryParseLenient"/> reads the text (for checking request parameters).</summary>
    public static bool IsColor(string? text) => TryParseLenient(text, out _);

    public static string Format(Rgb24 color) => $"#{color.R:x2}{color.G:x2}{color.B:x2}";
}
