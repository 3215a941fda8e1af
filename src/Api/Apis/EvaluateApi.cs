using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Binding;
using SegServe.Api.Evaluations;
using SegServe.Api.Hosting;
using SegServe.Api.Mapping;
using SegServe.Api.Requests;
using SegServe.Api.Uploads;
using SegServe.Contracts;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Evaluation.Instances;
using SegServe.Inference.Models;
using SegServe.Api.Security;

namespace SegServe.Api.Apis;

/// <summary>Scoring uploaded ground truth, one pair at a time: <c>/v1/evaluate/semantic</c> and <c>/v1/evaluate/instances</c>.</summary>
public static class EvaluateApi
{
    /// <summary>The semantics of every semantic score, for the endpoints' descriptions.</summary>
    public const string Semantics =
        " Semantics as mmsegmentation's IoUMetric: counts summed over all pixels (of all samples) before dividing; ground-truth pixels equal to "
        + "`ignoreIndex` are left out (also from the prediction's counts); predictions outside [0, numClasses − 1] count as misses; a class absent "
        + "from both ground truth and prediction has null scores and is left out of the means; a predicted class absent from the ground truth has IoU 0. "
        + "Boundary IoU (Cheng et al. 2021) uses bands of width d = max(1, round(0.02 × image diagonal)), the image border counting as boundary. "
        + "Label maps are PNGs: greyscale 8/16-bit (value = label), palette PNGs (read by palette index), or RGB colour-coded with `palette`.";

    public static RouteGroupBuilder MapEvaluateApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/v1/evaluate").WithTags("Evaluation").RejectUnknownQueryParameters().AcceptsUploads(files: 3).RequireUser();

        api.MapPost("/semantic", EvaluateSemantic)
            .WithName("EvaluateSemantic")
            .WithSummary("Score a predicted class map against ground truth")
            .WithDescription("Multipart: `groundTruth` and either `prediction` (a label map) or `image` with `model` (the model's prediction is scored, through its queue). "
                + "Returns the confusion matrix; per class IoU, Dice, precision, recall, F1, Boundary IoU and pixel counts; pixel accuracy (aAcc), mean accuracy, mIoU, mDice, "
                + "frequency-weighted IoU and mean Boundary IoU." + Semantics)
            .Accepts<EvaluationPairForm>("multipart/form-data")
            .Produces<SemanticScoresResponse>()
            .ProducesProblems(ApiConventions.EvaluationWithModel);

        api.MapPost("/instances", EvaluateInstances)
            .WithName("EvaluateInstances")
            .WithSummary("Score predicted instances against ground truth (COCO mask AP)")
            .WithDescription("Multipart: `predictions` — COCO results JSON ([{image_id, category_id, segmentation: RLE, score}]) or this service's instance response "
                + "({\"instances\": [{classId, score, mask: RLE}]}, scored as image `imageId`) — and `groundTruth` — COCO annotations JSON (polygons, compressed or "
                + "uncompressed RLE, iscrowd, area) or a 16-bit instance-id PNG (0 = none) with `classMap`, a PNG of class indices (each instance takes the class most of "
                + "its pixels have). Returns AP, AP50, AP75, AP small/medium/large, AR@1/10/100, AR small/medium/large and AP per category, exactly as pycocotools' "
                + "COCOeval(iouType=\"segm\"): IoU thresholds 0.50:0.05:0.95, 101-point interpolation, maxDets 100, crowd regions matchable many times with their "
                + "detections ignored; null where COCOeval reports −1.")
            .Accepts<InstanceEvaluationForm>("multipart/form-data")
            .Produces<InstanceScoresResponse>()
            .ProducesProblems(ApiConventions.EvaluationUpload);

        return api;
    }

    // Scores one pair.
    public static async Task<Ok<SemanticScoresResponse>> EvaluateSemantic(
        [AsParameters] EvaluateSemanticRequest request,
        SemanticPairScorer scorer,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(scorer);
        SegmentationModel? model = request.ReadyModel();
        ScoringSettings settings = request.Settings(model);
        using UploadedFiles files = await request.ReadFilesAsync(cancellationToken);
        var pair = PairUpload.From(files);
        var sums = new SemanticAccumulator(settings.NumClasses);
        await scorer.ScoreAsync(settings, pair.GroundTruth.Content, pair.Prediction?.Content, pair.Image?.Content, model, request.Timeout, sums, "", cancellationToken);
        return TypedResults.Ok(sums.ToResponse(settings));
    }

    // Scores instances (COCO mask AP).
    public static async Task<Ok<InstanceScoresResponse>> EvaluateInstances(
        [AsParameters] EvaluateInstancesRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using UploadedFiles files = await request.ReadFilesAsync(cancellationToken);
        const string Needed = "Send 'predictions' (JSON) and 'groundTruth' (COCO JSON, or an instance-id PNG with 'classMap').";
        (CocoGroundTruth truth, List<DetectedInstance> detections) = InstanceInputs.Read(
            files.Require("predictions", Needed).Content,
            files.Require("groundTruth", Needed).Content,
            files["classMap"]?.Content,
            request.ImageIdValue,
            request.MaxPixels,
            request.MaxCategories);
        return TypedResults.Ok(EvaluationMapping.Score(truth, detections));
    }
}

/// <summary>The multipart form of a scored pair (documents the request body in OpenAPI).</summary>
public sealed class EvaluationPairForm
{
    /// <summary>The ground-truth label map (PNG).</summary>
    public required IFormFile GroundTruth { get; init; }

    /// <summary>The predicted label map (PNG); or send <see cref="Image"/> with a model.</summary>
    public IFormFile? Prediction { get; init; }

    /// <summary>An image for the model to predict.</summary>
    public IFormFile? Image { get; init; }
}

/// <summary>The multipart form of an instance evaluation.</summary>
public sealed class InstanceEvaluationForm
{
    /// <summary>COCO results JSON, or this service's instance response.</summary>
    public required IFormFile Predictions { get; init; }

    /// <summary>COCO annotations JSON, or a 16-bit instance-id PNG.</summary>
    public required IFormFile GroundTruth { get; init; }

    /// <summary>With a PNG ground truth: the class index of each pixel (PNG).</summary>
    public IFormFile? ClassMap { get; init; }
}
