using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Problems;
using SegServe.Inference.Models;
using SegServe.Inference.Rendering;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.Endpoints;

/// <summary>The portrait-mode parameters of the overlay endpoint, parsed and checked.</summary>
/// <param name="Effect">The effect; null for the class-colour overlay.</param>
/// <param name="Radius">Blur standard deviation in pixels; null for the default.</param>
/// <param name="Background">Replacement colour.</param>
internal readonly record struct PortraitParameters(PortraitEffect? Effect, float? Radius, Rgb24 Background)
{
    /// <summary>Largest accepted blur radius (pixels of the original image).</summary>
    public const float MaxRadius = 500f;

    public static bool TryParse(
        string? effect,
        string? radius,
        string? background,
        string? alpha,
        string? outline,
        string? legend,
        out PortraitParameters parameters,
        out ProblemHttpResult? problem)
    {
        parameters = new PortraitParameters(null, null, new Rgb24(255, 255, 255));
        problem = null;
        PortraitEffect? parsedEffect = effect?.ToLowerInvariant() switch
        {
            null or "" or "none" => null,
            "blur" => PortraitEffect.Blur,
            "cutout" => PortraitEffect.Cutout,
            "replace" => PortraitEffect.Replace,
            _ => (PortraitEffect)(-1),
        };
        if (parsedEffect == (PortraitEffect)(-1))
        {
            problem = ProblemResults.InvalidParameter("effect", $"effect '{effect}' is not supported: use 'blur', 'cutout', 'replace' or 'none'.");
            return false;
        }

        if (parsedEffect is not null)
        {
            string? classOverlayParameter = !string.IsNullOrEmpty(alpha) ? "alpha" : !string.IsNullOrEmpty(outline) ? "outline" : !string.IsNullOrEmpty(legend) ? "legend" : null;
            if (classOverlayParameter is not null)
            {
                problem = ProblemResults.InvalidParameter(classOverlayParameter, $"{classOverlayParameter} applies to the class-colour overlay only, not to effect={effect}.");
                return false;
            }
        }

        float? parsedRadius = null;
        if (!string.IsNullOrEmpty(radius))
        {
            if (parsedEffect != PortraitEffect.Blur)
            {
                problem = ProblemResults.InvalidParameter("radius", "radius applies to effect=blur only.");
                return false;
            }

            if (!float.TryParse(radius, NumberStyles.Float, CultureInfo.InvariantCulture, out float r) || !(r >= 0.5f && r <= MaxRadius))
            {
                problem = ProblemResults.InvalidParameter("radius", $"radius must be a number of pixels within 0.5–{MaxRadius} (got '{radius}').");
                return false;
            }

            parsedRadius = r;
        }

        Rgb24 parsedBackground = parameters.Background;
        if (!string.IsNullOrEmpty(background))
        {
            if (parsedEffect != PortraitEffect.Replace)
            {
                problem = ProblemResults.InvalidParameter("background", "background applies to effect=replace only.");
                return false;
            }

            if (!ColorParser.TryParseLenient(background, out parsedBackground))
            {
                problem = ProblemResults.InvalidParameter("background", $"background '{background}' is not a colour: use #rrggbb, rrggbb or a colour name.");
                return false;
            }
        }

        parameters = new PortraitParameters(parsedEffect, parsedRadius, parsedBackground);
        return true;
    }

    /// <summary>
    /// The class a portrait effect keeps: the one named (or numbered) by <paramref name="foreground"/>; by default
    /// <c>person</c>, or class 1 of a two-class model (background/foreground).
    /// </summary>
    public static bool TryResolveForeground(string? foreground, ModelManifest manifest, string modelName, out int classId, out ProblemHttpResult? problem)
    {
        classId = -1;
        problem = null;
        IReadOnlyList<ClassSpec> classes = manifest.Classes;
        if (string.IsNullOrEmpty(foreground))
        {
            classId = IndexOfName(classes, "person");
            if (classId < 0 && classes.Count == 2)
            {
                classId = 1;
            }

            if (classId < 0)
            {
                problem = ProblemResults.InvalidParameter("foreground", $"Model '{modelName}' has no 'person' class: choose the class to keep with foreground=<name or id>.");
                return false;
            }

            return true;
        }

        classId = IndexOfName(classes, foreground);
        if (classId < 0 && int.TryParse(foreground, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && id < classes.Count)
        {
            classId = id;
        }

        if (classId < 0)
        {
            problem = ProblemResults.InvalidParameter("foreground", $"foreground '{foreground}' is not a class of model '{modelName}' (it has {classes.Count} classes, ids 0–{classes.Count - 1}).");
            return false;
        }

        return true;
    }

    private static int IndexOfName(IReadOnlyList<ClassSpec> classes, string name)
    {
        for (int i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }
}
