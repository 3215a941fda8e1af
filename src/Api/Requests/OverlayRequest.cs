using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using SegServe.Api.Binding;
using SegServe.Api.Uploads;
using SegServe.Inference.Encoding;
using SegServe.Inference.Instances;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Rendering;

namespace SegServe.Api.Requests;

/// <summary><c>POST /v1/models/{name}/overlay</c>: the ready model, the query, the deadline and the request they came with.</summary>
/// <param name="Name">The model to use (its folder name).</param>
/// <param name="Effect">Semantic models, portrait mode: <c>blur</c>, <c>cutout</c> or <c>replace</c>; absent (or <c>none</c>) for the class-colour overlay.</param>
/// <param name="Foreground">The class a portrait effect keeps, by name or id (default: <c>person</c> if the model has it, else class 1 of a two-class model).</param>
/// <param name="Radius">Blur strength for <c>effect=blur</c>: the Gaussian's standard deviation in pixels of the original image, 0.5–500 (default 2% of the shorter side).</param>
/// <param name="Background">Background colour for <c>effect=replace</c>: <c>#rrggbb</c>, <c>rrggbb</c>, <c>#rgb</c> or a CSS colour name (default white).</param>
/// <param name="Alpha">Opacity of the class (or instance) colours, 0–1 (default 0.5). Not with an effect.</param>
/// <param name="Outline">Semantic models: outline class boundaries in white (default false). Not with an effect.</param>
/// <param name="Legend">Semantic models: draw a legend of the classes present (default false). Not with an effect.</param>
/// <param name="Format"><c>png</c> or <c>jpeg</c>; overrides the Accept header (PNG by default; <c>cutout</c> is PNG only).</param>
/// <param name="Upsample">Semantic models: how scores are resampled to the image size — <c>nearest</c>, <c>bilinear</c> (default) or <c>bicubic</c>.</param>
/// <param name="Threshold">Semantic sigmoid models: foreground threshold, 0–1 (default: the manifest's).</param>
/// <param name="ScoreThreshold">Instance models: lowest score drawn, 0–1 (default: the manifest's <c>output.threshold</c>).</param>
/// <param name="MaxInstances">Instance models: most objects drawn, 1–1000 (default 100).</param>
/// <param name="Classes">Instance models: comma-separated class names or ids to draw (default all).</param>
/// <param name="Ready">The model, resolved once and ready to serve.</param>
/// <param name="Deadline">When the model run must have started.</param>
/// <param name="Context">The HTTP request.</param>
/// <param name="Uploads">Reads the upload.</param>
public sealed record OverlayRequest(
    [property: FromRoute] string Name,
    [property: FromQuery(Name = "effect"), OneOf("blur", "cutout", "replace", "none"), DefaultValue("none"), ForTask(SegmentationTask.Semantic)] string? Effect,
    [property: FromQuery(Name = "foreground"), Example("person"), ForTask(SegmentationTask.Semantic)] string? Foreground,
    [property: FromQuery(Name = "radius"), Number(PortraitOptions.MinRadius, PortraitOptions.MaxRadius), Example("8"), ForTask(SegmentationTask.Semantic)] string? Radius,
    [property: FromQuery(Name = "background"), Color, DefaultValue("white"), ForTask(SegmentationTask.Semantic)] string? Background,
    [property: FromQuery(Name = "alpha"), Number(0, 1), DefaultValue("0.5")] string? Alpha,
    [property: FromQuery(Name = "outline"), Flag, DefaultValue("false"), ForTask(SegmentationTask.Semantic)] string? Outline,
    [property: FromQuery(Name = "legend"), Flag, DefaultValue("false"), ForTask(SegmentationTask.Semantic)] string? Legend,
    [property: FromQuery(Name = "format"), OneOf("png", "jpeg", "jpg"), Example("png")] string? Format,
    [property: FromQuery(Name = "upsample"), OneOf("nearest", "bilinear", "bicubic"), DefaultValue("bilinear"), ForTask(SegmentationTask.Semantic)] string? Upsample,
    [property: FromQuery(Name = "threshold"), Number(0, 1), Example("0.5"), ForTask(SegmentationTask.Semantic)] string? Threshold,
    [property: FromQuery(Name = "scoreThreshold"), Number(0, 1), Example("0.5"), ForTask(SegmentationTask.Instance)] string? ScoreThreshold,
    [property: FromQuery(Name = "maxInstances"), WholeNumber(1, InstanceOptions.MaxInstancesLimit), DefaultValue("100"), ForTask(SegmentationTask.Instance)] string? MaxInstances,
    [property: FromQuery(Name = "classes"), Example("person,car"), ForTask(SegmentationTask.Instance)] string? Classes,
    ReadyModel Ready,
    RequestDeadline Deadline,
    HttpContext Context,
    [property: FromServices] UploadReader Uploads) : IModelRequest, IValidatableObject
{
    public SegmentationModel Model => Ready.Model;

    public bool IsInstanceModel => Model.InstanceFamily is not null;

    private PortraitEffect? PortraitEffect => Effect?.ToLowerInvariant() switch
    {
        "blur" => Inference.Rendering.PortraitEffect.Blur,
        "cutout" => Inference.Rendering.PortraitEffect.Cutout,
        "replace" => Inference.Rendering.PortraitEffect.Replace,
        _ => null,
    };

    /// <summary>The rules between parameters: what belongs to the class overlay, and what to which effect.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        PortraitEffect? effect = PortraitEffect;
        if (effect is not null)
        {
            foreach ((string name, string? value) in new[] { ("alpha", Alpha), ("outline", Outline), ("legend", Legend) })
            {
                if (!string.IsNullOrEmpty(value))
                {
                    yield return new ValidationResult($"{name} applies to the class-colour overlay only, not to effect={Effect}.", [name]);
                }
            }
        }
        else if (!string.IsNullOrEmpty(Foreground))
        {
            yield return new ValidationResult("foreground applies to portrait effects only: add effect=blur, cutout or replace.", ["foreground"]);
        }

        if (!string.IsNullOrEmpty(Radius) && effect != Inference.Rendering.PortraitEffect.Blur)
        {
            yield return new ValidationResult("radius applies to effect=blur only.", ["radius"]);
        }

        if (!string.IsNullOrEmpty(Background) && effect != Inference.Rendering.PortraitEffect.Replace)
        {
            yield return new ValidationResult("background applies to effect=replace only.", ["background"]);
        }

        if (effect == Inference.Rendering.PortraitEffect.Cutout && Format?.ToLowerInvariant() is "jpeg" or "jpg")
        {
            yield return new ValidationResult("effect=cutout returns a PNG with an alpha channel; JPEG has none: use format=png.", ["format"]);
        }
    }

    /// <summary>PNG or JPEG: <c>format</c> if given, else the Accept header (a cutout is PNG only).</summary>
    public PictureFormat PictureFormat()
    {
        if (!string.IsNullOrEmpty(Format))
        {
            return Format.Equals("png", StringComparison.OrdinalIgnoreCase) ? Inference.Encoding.PictureFormat.Png : Inference.Encoding.PictureFormat.Jpeg;
        }

        string mediaType = PortraitEffect == Inference.Rendering.PortraitEffect.Cutout
            ? ContentNegotiation.Choose(Context.Request, ContentNegotiation.Png)
            : ContentNegotiation.Choose(Context.Request, ContentNegotiation.Png, ContentNegotiation.Jpeg);
        return mediaType == ContentNegotiation.Png ? Inference.Encoding.PictureFormat.Png : Inference.Encoding.PictureFormat.Jpeg;
    }

    /// <summary>The portrait effect resolved against the model (its foreground class); null for the class-colour overlay.</summary>
    public PortraitOptions? Portrait() =>
        PortraitEffect is PortraitEffect effect
            ? PortraitOptions.Create(effect, Foreground, (float?)QueryValues.Number(Radius), Background, Model.ClassNames, Model.Name)
            : null;

    public SegmentOptions SemanticOptions(PortraitOptions? portrait) =>
        new(SegmentRequest.UpsampleMethod(Upsample), QueryValues.Number(Threshold), IncludeConfidence: false, portrait?.ForegroundClass, Deadline.At);

    public ClassOverlayOptions ClassOverlay() =>
        new((float)(QueryValues.Number(Alpha) ?? 0.5), QueryValues.Flag(Outline), QueryValues.Flag(Legend));

    public InstanceOptions InstanceOptions() =>
        Inference.Instances.InstanceOptions.For(Model, QueryValues.Number(ScoreThreshold), null, QueryValues.WholeNumber(MaxInstances), Classes);

    public float InstanceAlpha => (float)(QueryValues.Number(Alpha) ?? 0.5);

    public Task<UploadedFile> ReadImageAsync(CancellationToken cancellationToken) => Uploads.ReadImageAsync(Context.Request, cancellationToken);
}
