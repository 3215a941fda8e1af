using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SegServe.Api.Binding;
using SegServe.Api.Uploads;
using SegServe.Inference;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Models;

namespace SegServe.Api.Requests;

/// <summary><c>POST /v1/evaluate/semantic</c>: how the pair is scored, and the request it came with.</summary>
/// <param name="NumClasses">Number of classes (labels 0 … numClasses − 1), 1–4096; default: the model's class count when <c>model</c> is given.</param>
/// <param name="IgnoreIndex">Ground-truth label left out of scoring, 0–65535 (default 255).</param>
/// <param name="ClassNames">Comma-separated class names, one per class (default: the model's).</param>
/// <param name="Palette">For colour-coded RGB label maps: comma-separated <c>#rrggbb</c>, one per label in order, or <c>voc</c>.</param>
/// <param name="Model">The model that predicts when an <c>image</c> is sent instead of a <c>prediction</c>.</param>
/// <param name="Context">The HTTP request.</param>
/// <param name="Uploads">Reads the upload.</param>
/// <param name="Models">Where the model is found.</param>
/// <param name="Options">The queue's default deadline.</param>
/// <param name="Evaluation">The limit on classes.</param>
public sealed record EvaluateSemanticRequest(
    [property: FromQuery(Name = "numClasses"), WholeNumber(1, ScoringSettings.MaxClasses), Example("21")] string? NumClasses,
    [property: FromQuery(Name = "ignoreIndex"), WholeNumber(0, ushort.MaxValue), DefaultValue("255")] string? IgnoreIndex,
    [property: FromQuery(Name = "classNames"), Example("background,person")] string? ClassNames,
    [property: FromQuery(Name = "palette"), Example("voc")] string? Palette,
    [property: FromQuery(Name = "model"), Example("espnetv2-voc")] string? Model,
    HttpContext Context,
    [property: FromServices] UploadReader Uploads,
    [property: FromServices] IModelRegistry Models,
    [property: FromServices] IOptions<InferenceOptions> Options,
    [property: FromServices] IOptions<Evaluations.EvaluationOptions> Evaluation)
{
    /// <summary>The multipart fields of a pair.</summary>
    public static readonly string[] Fields = ["prediction", "image", "groundTruth"];

    /// <summary>How long the model's run may take to start.</summary>
    public TimeSpan Timeout => TimeSpan.FromMilliseconds(Options.Value.Queue.DefaultTimeoutMs);

    /// <summary>The ready model named by <c>model</c>; null without one.</summary>
    public SegmentationModel? ReadyModel() => string.IsNullOrEmpty(Model) ? null : ModelResolution.Ready(Models, Model, Context);

    public ScoringSettings Settings(SegmentationModel? model) => ScoringSettings.Create(
        QueryValues.WholeNumber(NumClasses),
        QueryValues.WholeNumber(IgnoreIndex),
        string.IsNullOrWhiteSpace(ClassNames) ? null : ClassNames.Split(',', StringSplitOptions.TrimEntries),
        Palette,
        model,
        Evaluation.Value.MaxClasses);

    public Task<UploadedFiles> ReadFilesAsync(CancellationToken cancellationToken) => Uploads.ReadFilesAsync(Context.Request, Fields, cancellationToken);
}

/// <summary><c>POST /v1/evaluate/instances</c>.</summary>
/// <param name="ImageId">Image id of a service-format prediction, and of a PNG ground truth (default 1).</param>
/// <param name="Context">The HTTP request.</param>
/// <param name="Uploads">Reads the upload.</param>
/// <param name="Options">The pixel limit of label maps.</param>
/// <param name="Evaluation">The category limit (Evaluation:MaxClasses).</param>
public sealed record EvaluateInstancesRequest(
    [property: FromQuery(Name = "imageId"), WholeNumber(long.MinValue, long.MaxValue), DefaultValue("1")] string? ImageId,
    HttpContext Context,
    [property: FromServices] UploadReader Uploads,
    [property: FromServices] IOptions<InferenceOptions> Options,
    [property: FromServices] IOptions<Evaluations.EvaluationOptions> Evaluation)
{
    /// <summary>The multipart fields of an instance evaluation.</summary>
    public static readonly string[] Fields = ["predictions", "groundTruth", "classMap"];

    public long ImageIdValue => QueryValues.LongNumber(ImageId) ?? 1;

    public long MaxPixels => Options.Value.Images.MaxPixels;

    public int MaxCategories => Evaluation.Value.MaxClasses;

    public Task<UploadedFiles> ReadFilesAsync(CancellationToken cancellationToken) => Uploads.ReadFilesAsync(Context.Request, Fields, cancellationToken);
}

/// <summary><c>POST /v1/evaluations/{id}/samples</c>.</summary>
/// <param name="Id">The run.</param>
/// <param name="Name">Name of a single sample (default: the ground-truth file's name without extension).</param>
/// <param name="Context">The HTTP request.</param>
public sealed record AddSamplesRequest(
    [property: FromRoute] string Id,
    [property: FromQuery(Name = "name"), Example("sample-001")] string? Name,
    HttpContext Context);
