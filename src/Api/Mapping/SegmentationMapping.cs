using System.Globalization;
using SegServe.Api.Binding;
using SegServe.Contracts;
using SegServe.Inference.Encoding;
using SegServe.Inference.Instances;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;

namespace SegServe.Api.Mapping;

/// <summary>Results and their encodings as the public contracts describe them; stage timings as a Server-Timing header.</summary>
internal static class SegmentationMapping
{
    public static SegmentationResponse ToResponse(this SemanticSegmentation result, SegmentationModel model, EncodedClassMap encoded)
    {
        var classes = new ClassPresence[encoded.Classes.Count];
        for (int i = 0; i < classes.Length; i++)
        {
            ClassArea c = encoded.Classes[i];
            classes[i] = new ClassPresence(c.Id, c.Name, c.Pixels, c.Fraction);
        }

        return new SegmentationResponse(
            Model: model.Name,
            Width: result.Map.Width,
            Height: result.Map.Height,
            Upsample: ModelMapping.EnumText(result.Upsample),
            ExecutionProvider: model.Provider?.Name ?? "",
            Classes: classes,
            BatchSize: result.BatchSize,
            ClassMap: new EncodedImage(ContentNegotiation.Png, encoded.BitDepth, Convert.ToBase64String(encoded.ClassMapPng)),
            Confidence: encoded.ConfidencePng is null ? null : new EncodedImage(ContentNegotiation.Png, 8, Convert.ToBase64String(encoded.ConfidencePng)),
            Timings: result.Timer.ToDurations().ToContract());
    }

    public static InstanceSegmentationResponse ToResponse(this InstanceSegmentation result, SegmentationModel model, IReadOnlyList<EncodedInstance> encoded)
    {
        int width = result.Image.Width, height = result.Image.Height;
        var instances = new InstanceResponse[encoded.Count];
        for (int i = 0; i < instances.Length; i++)
        {
            EncodedInstance e = encoded[i];
            DetectedObject o = e.Detection;
            instances[i] = new InstanceResponse(
                i + 1,
                o.ClassId,
                e.ClassName,
                Math.Round(o.Score, 6),
                new BoxResponse(Math.Round(o.X1, 3), Math.Round(o.Y1, 3), Math.Round(o.X2, 3), Math.Round(o.Y2, 3)),
                o.Mask.Area,
                new RleMask([height, width], e.Rle),
                e.Polygons?.Select(static p => new PolygonResponse(p.Outer, [.. p.Holes])).ToArray(),
                e.Crop is { } c ? new CroppedMaskResponse(c.X, c.Y, c.Width, c.Height, Convert.ToBase64String(c.Png)) : null);
        }

        return new InstanceSegmentationResponse(model.Name, width, height, model.Provider?.Name ?? "", instances, result.Timer.ToDurations().ToContract());
    }

    public static StageTimings ToContract(this StageDurations durations) => new(
        Math.Round(durations.DecodeMs, 3),
        Math.Round(durations.PreprocessMs, 3),
        Math.Round(durations.QueueMs, 3),
        Math.Round(durations.InferenceMs, 3),
        Math.Round(durations.PostprocessMs, 3),
        Math.Round(durations.EncodeMs, 3),
        Math.Round(durations.TotalMs, 3));

    /// <summary>Adds the stage timings as a W3C Server-Timing header (readable in browser dev tools) and returns <paramref name="result"/>.</summary>
    public static T WithServerTiming<T>(this HttpContext context, StageTimer timer, T result)
    {
        StageDurations d = timer.ToDurations();
        context.Response.Headers["Server-Timing"] = string.Create(
            CultureInfo.InvariantCulture,
            $"decode;dur={d.DecodeMs:0.###}, preprocess;dur={d.PreprocessMs:0.###}, queue;dur={d.QueueMs:0.###}, inference;dur={d.InferenceMs:0.###}, postprocess;dur={d.PostprocessMs:0.###}, encode;dur={d.EncodeMs:0.###}");
        return result;
    }
}
