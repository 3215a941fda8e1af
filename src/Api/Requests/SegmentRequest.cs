using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using SegServe.Api.Binding;
using SegServe.Api.Uploads;
using SegServe.Inference;
using SegServe.Inference.Encoding;
using SegServe.Inference.Instances;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;

namespace SegServe.Api.Requests;

/// <summary><c>POST /v1/models/{name}/segment</c>: the ready model, the query, the deadline and the request they came with.</summary>
/// <param name="Name">The model to use (its folder name).</param>
/// <param name="Upsample">Semantic models: how scores are resampled to the image size — <c>nearest</c>, <c>bilinear</c> (default; half-pixel centres as PyTorch align_corners=False) or <c>bicubic</c>. Class-index models always use nearest.</param>
/// <param name="Threshold">Semantic sigmoid models: foreground threshold, 0–1 (default: the manifest's <c>output.threshold</c>).</param>
/// <param name="Include">Comma-separated extras. Semantic models: <c>confidence</c> (the probability of each pixel's class as an 8-bit PNG). Instance models: <c>polygons</c> (outlines with holes), <c>mask</c> (each mask cropped to its rectangle as a PNG).</param>
/// <param name="ScoreThreshold">Instance models: lowest score kept, 0–1 (default: the manifest's <c>output.threshold</c> — 0.5, or 0.25 for Ultralytics models).</param>
/// <param name="MaskThreshold">Instance models: mask probability threshold, 0–1 (default 0.5).</param>
/// <param name="MaxInstances">Instance models: most objects returned, best first, 1–1000 (default 100).</param>
/// <param name="Classes">Instance models: comma-separated class names or ids to keep (default all).</param>
/// <param name="Tolerance">Instance models with <c>include=polygons</c>: Douglas–Peucker tolerance in pixels, 0–100 (default 0.5, which keeps the rasterised polygons within about 2% of the mask; 0 keeps every corner: exact).</param>
/// <param name="Ready">The model, resolved once and ready to serve.</param>
/// <param name="Deadline">When the model run must have started.</param>
/// <param name="Context">The HTTP request.</param>
/// <param name="Uploads">Reads the upload.</param>
public sealed record SegmentRequest(
    [property: FromRoute] string Name,
    [property: FromQuery(Name = "upsample"), OneOf("nearest", "bilinear", "bicubic"), DefaultValue("bilinear"), ForTask(SegmentationTask.Semantic)] string? Upsample,
    [property: FromQuery(Name = "threshold"), Number(0, 1), Example("0.5"), ForTask(SegmentationTask.Semantic)] string? Threshold,
    [property: FromQuery(Name = "include"), ListOf("confidence", "polygons", "mask"), Example("polygons")] string? Include,
    [property: FromQuery(Name = "scoreThreshold"), Number(0, 1), Example("0.5"), ForTask(SegmentationTask.Instance)] string? ScoreThreshold,
    [property: FromQuery(Name = "maskThreshold"), Number(0, 1), DefaultValue("0.5"), ForTask(SegmentationTask.Instance)] string? MaskThreshold,
    [property: FromQuery(Name = "maxInstances"), WholeNumber(1, InstanceOptions.MaxInstancesLimit), DefaultValue("100"), ForTask(SegmentationTask.Instance)] string? MaxInstances,
    [property: FromQuery(Name = "classes"), Example("person,car"), ForTask(SegmentationTask.Instance)] string? Classes,
    [property: FromQuery(Name = "tolerance"), Number(0, InstanceExtras.MaxTolerance), DefaultValue("0.5"), ForTask(SegmentationTask.Instance)] string? Tolerance,
    ReadyModel Ready,
    RequestDeadline Deadline,
    HttpContext Context,
    [property: FromServices] UploadReader Uploads) : IModelRequest
{
    public SegmentationModel Model => Ready.Model;

    public bool IsInstanceModel => Model.InstanceFamily is not null;

    /// <summary>JSON, or the class-index (instance-id) PNG, as the Accept header asks.</summary>
    public string ResponseType() => ContentNegotiation.Choose(Context.Request, ContentNegotiation.Json, ContentNegotiation.Png);

    public Task<UploadedFile> ReadImageAsync(CancellationToken cancellationToken) => Uploads.ReadImageAsync(Context.Request, cancellationToken);

    /// <summary>Semantic decoding options; confidence only for JSON responses.</summary>
    public SegmentOptions SemanticOptions(bool json)
    {
        bool confidence = false;
        foreach (string part in QueryValues.Items(Include))
        {
            confidence = part.Equals("confidence", StringComparison.OrdinalIgnoreCase)
                ? true
                : throw new InvalidOptionException("include", Include, $"include '{part}' applies to instance models; '{Model.Name}' is a semantic model (its only extra is 'confidence').");
        }

        return new SegmentOptions(UpsampleMethod(Upsample), QueryValues.Number(Threshold), confidence && json, Deadline: Deadline.At);
    }

    public InstanceOptions InstanceOptions() =>
        Inference.Instances.InstanceOptions.For(Model, QueryValues.Number(ScoreThreshold), QueryValues.Number(MaskThreshold), QueryValues.WholeNumber(MaxInstances), Classes);

    /// <summary>The polygons and cropped masks asked for.</summary>
    public InstanceExtras Extras()
    {
        bool polygons = false, mask = false;
        foreach (string part in QueryValues.Items(Include))
        {
            polygons |= part.Equals("polygons", StringComparison.OrdinalIgnoreCase);
            mask |= part.Equals("mask", StringComparison.OrdinalIgnoreCase);
            if (part.Equals("confidence", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOptionException("include", Include, $"include 'confidence' is not supported for instance models: use 'polygons' and/or 'mask'.");
            }
        }

        return new InstanceExtras(polygons, mask, QueryValues.Number(Tolerance) ?? InstanceExtras.DefaultTolerance);
    }

    /// <summary>The resampler a validated <c>upsample</c> names; null for the default.</summary>
    public static Interpolation? UpsampleMethod(string? upsample) => upsample?.ToLowerInvariant() switch
    {
        "nearest" => Interpolation.Nearest,
        "bilinear" => Interpolation.Bilinear,
        "bicubic" => Interpolation.Bicubic,
        _ => null,
    };
}
