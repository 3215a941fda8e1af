using System.Globalization;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>A portrait effect as chosen for one request, with its class and settings resolved against the model.</summary>
/// <param name="Effect">What happens to the background.</param>
/// <param name="ForegroundClass">The class kept sharp (or cut out).</param>
/// <param name="Radius">Blur standard deviation in pixels of the original image; null for the default.</param>
/// <param name="Background">Replacement colour.</param>
public sealed record PortraitOptions(PortraitEffect Effect, int ForegroundClass, float? Radius, Rgb24 Background)
{
    /// <summary>Largest accepted blur radius (pixels of the original image).</summary>
    public const float MaxRadius = 500f;

    /// <summary>Smallest accepted blur radius.</summary>
    public const float MinRadius = 0.5f;

    /// <summary>
    /// Resolves the foreground class — the one named (or numbered) by <paramref name="foreground"/>; by default
    /// <c>person</c>, or class 1 of a two-class model — and the background colour (white by default).
    /// </summary>
    /// <exception cref="InvalidOptionException">The class is not one of the model's, or the model has no default foreground.</exception>
    public static PortraitOptions Create(PortraitEffect effect, string? foreground, float? radius, string? background, IReadOnlyList<string> classNames, string modelName)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        Rgb24 colour = new(255, 255, 255);
        if (!string.IsNullOrEmpty(background) && !ColorParser.TryParseLenient(background, out colour))
        {
            throw new InvalidOptionException("background", background, $"background '{background}' is not a colour: use #rrggbb, rrggbb, #rgb or a CSS colour name.");
        }

        return new PortraitOptions(effect, ResolveForeground(foreground, classNames, modelName), radius, colour);
    }

    private static int ResolveForeground(string? foreground, IReadOnlyList<string> classNames, string modelName)
    {
        if (string.IsNullOrEmpty(foreground))
        {
            int person = IndexOf(classNames, "person");
            return person >= 0 ? person
                : classNames.Count == 2 ? 1
                : throw new InvalidOptionException("foreground", null, $"Model '{modelName}' has no 'person' class: choose the class to keep with foreground=<name or id>.");
        }

        int byName = IndexOf(classNames, foreground);
        if (byName >= 0)
        {
            return byName;
        }

        return int.TryParse(foreground, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && id < classNames.Count
            ? id
            : throw new InvalidOptionException("foreground", foreground, $"foreground '{foreground}' is not a class of model '{modelName}' (it has {classNames.Count} classes, ids 0–{classNames.Count - 1}).");
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }
}
