using System.Globalization;
using SegServe.Inference.Models;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Evaluation;

/// <summary>How semantic pairs are read and scored: for one request, or for every sample of an evaluation run.</summary>
/// <param name="NumClasses">Labels 0 … NumClasses − 1.</param>
/// <param name="IgnoreIndex">Ground-truth label left out of scoring.</param>
/// <param name="ClassNames">One name per class, when known.</param>
/// <param name="Palette">The palette as given (<c>voc</c> or <c>#rrggbb,…</c>), for colour-coded label maps.</param>
/// <param name="Model">The model that predicts images sent instead of label maps.</param>
public sealed record ScoringSettings(int NumClasses, int IgnoreIndex, IReadOnlyList<string>? ClassNames, string? Palette, string? Model)
{
    /// <summary>Most classes a score can have (the confusion matrix is classes²); deployments set a lower limit.</summary>
    public const int MaxClasses = 4096;

    /// <summary>The ignore index of mmsegmentation and of most datasets.</summary>
    public const int DefaultIgnoreIndex = 255;

    private IReadOnlyList<Rgb24>? _colours;

    /// <summary>The palette's colours, read once; null without a palette.</summary>
    public IReadOnlyList<Rgb24>? Colours => _colours ??= LabelPalette.Parse(Palette);

    /// <summary>
    /// Settings from what a client sent, with the model's class count and names as defaults when a model predicts.
    /// </summary>
    /// <param name="numClasses">Labels 0 … numClasses − 1; the model's class count when null.</param>
    /// <param name="ignoreIndex">Ground-truth label left out; 255 when null.</param>
    /// <param name="classNames">One name per class; the model's when null.</param>
    /// <param name="palette">Colours of colour-coded label maps.</param>
    /// <param name="model">The model that predicts, if any.</param>
    /// <param name="maxClasses">The deployment's limit on classes (at most <see cref="MaxClasses"/>).</param>
    /// <exception cref="InvalidOptionException">A value is out of range, missing, or does not fit another.</exception>
    public static ScoringSettings Create(int? numClasses, int? ignoreIndex, IReadOnlyList<string>? classNames, string? palette, SegmentationModel? model, int maxClasses = MaxClasses)
    {
        maxClasses = Math.Clamp(maxClasses, 1, MaxClasses);
        ModelManifest? manifest = model?.Manifest;
        if (manifest is { Task: not SegmentationTask.Semantic })
        {
            throw new InvalidOptionException("model", model!.Name, $"Model '{model.Name}' is not a semantic segmentation model.");
        }

        int classes = numClasses ?? manifest?.Classes.Count
            ?? throw new InvalidOptionException("numClasses", null, "numClasses is required (the number of classes, labels 0 … numClasses − 1), unless a model gives it.");
        if (classes < 1 || classes > maxClasses)
        {
            throw new InvalidOptionException("numClasses", classes.ToString(CultureInfo.InvariantCulture), $"numClasses must be a whole number within 1–{maxClasses} (got {classes}).");
        }

        int ignore = ignoreIndex ?? DefaultIgnoreIndex;
        if (ignore is < 0 or > ushort.MaxValue)
        {
            throw new InvalidOptionException("ignoreIndex", ignore.ToString(CultureInfo.InvariantCulture), $"ignoreIndex must be a whole number within 0–65535 (got {ignore}).");
        }

        if (classNames is not null && classNames.Count != classes)
        {
            throw new InvalidOptionException("classNames", null, $"classNames has {classNames.Count} names for {classes} classes.");
        }

        IReadOnlyList<string>? names = classNames;
        if (names is null && model is not null)
        {
            var fromModel = new string[classes];
            for (int i = 0; i < classes; i++)
            {
                fromModel[i] = i < model.ClassNames.Count ? model.ClassNames[i] : i.ToString(CultureInfo.InvariantCulture);
            }

            names = fromModel;
        }

        var settings = new ScoringSettings(classes, ignore, names, string.IsNullOrWhiteSpace(palette) ? null : palette, model?.Name);
        _ = settings.Colours; // a bad palette is the request's fault, found now rather than at the first colour-coded file
        return settings;
    }
}
