using System.Globalization;
using System.IO.Compression;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SegServe.Api.Evaluations;
using SegServe.Api.Problems;
using SegServe.Api.Uploads;
using SegServe.Contracts;
using SegServe.Inference;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Evaluation.Instances;
using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Rendering;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.Endpoints;

/// <summary>Scoring uploaded ground truth: one pair at a time, or whole datasets in persisted evaluation runs.</summary>
public static class EvaluationEndpoints
{
    private const string Semantics =
        " Semantics as mmsegmentation's IoUMetric: counts summed over all pixels (of all samples) before dividing; ground-truth pixels equal to "
        + "`ignoreIndex` are left out (also from the prediction's counts); predictions outside [0, numClasses − 1] count as misses; a class absent "
        + "from both ground truth and prediction has null scores and is left out of the means; a predicted class absent from the ground truth has IoU 0. "
        + "Boundary IoU (Cheng et al. 2021) uses bands of width d = max(1, round(0.02 × image diagonal)), the image border counting as boundary. "
        + "Label maps are PNGs: greyscale 8/16-bit (value = label), palette PNGs (read by palette index), or RGB colour-coded with `palette`.";

    private static readonly string[] s_pairFields = ["prediction", "image", "groundTruth"];
    private static readonly string[] s_sampleFields = ["prediction", "image", "groundTruth", "archive", "predictions", "classMap"];
    private static readonly string[] s_instanceFields = ["predictions", "groundTruth", "classMap"];

    public static IEndpointRouteBuilder MapEvaluationApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/evaluate/semantic", EvaluateSemantic)
            .WithTags("Evaluation")
            .WithName("EvaluateSemantic")
            .WithSummary("Score a predicted class map against ground truth")
            .WithDescription("Multipart: `groundTruth` and either `prediction` (a label map) or `image` with `model` (the model's prediction is scored, through its queue). "
                + "Returns the confusion matrix; per class IoU, Dice, precision, recall, F1, Boundary IoU and pixel counts; pixel accuracy (aAcc), mean accuracy, mIoU, mDice, "
                + "frequency-weighted IoU and mean Boundary IoU." + Semantics)
            .Accepts<EvaluationPairForm>("multipart/form-data")
            .Produces<SemanticScoresResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        app.MapPost("/v1/evaluate/instances", EvaluateInstances)
            .WithTags("Evaluation")
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
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        RouteGroupBuilder runs = app.MapGroup("/v1/evaluations").WithTags("Evaluation");
        runs.MapPost("/", CreateRun)
            .WithName("CreateEvaluationRun")
            .WithSummary("Start an evaluation run over a dataset")
            .WithDescription("JSON: task (`semantic`), numClasses, ignoreIndex (default 255), optional classNames, model, palette. Returns the run; add samples to it, then read its dataset-level scores. Runs are kept in an embedded SQLite database: a restart loses nothing accepted." + Semantics)
            .Produces<EvaluationRunResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        runs.MapGet("/{id}", GetRun)
            .WithName("GetEvaluationRun")
            .WithSummary("The run's dataset-level scores")
            .WithDescription("Scores over all samples (counts summed over every sample before dividing, as mmsegmentation), the sample count, and each sample's own pixel accuracy and mIoU.")
            .Produces<EvaluationRunResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        runs.MapPost("/{id}/samples", AddSamples)
            .WithName("AddEvaluationSamples")
            .WithSummary("Add a sample, or a zip of samples, to a run")
            .WithDescription("Multipart: `groundTruth` with `prediction` (or `image` when the run has a model), optional query `name`; or `archive`, a zip whose folders "
                + "`groundTruth/` (or gt, labels, annotations) and `prediction/` (or predictions; or images/ when the run has a model) hold files matched by name without extension. "
                + "All of a request's samples are added, or none. Concurrent uploads to one run are safe.")
            .Accepts<EvaluationSampleForm>("multipart/form-data")
            .Produces<SamplesAddedResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        runs.MapGet("/{id}/report.png", Report)
            .WithName("GetEvaluationReport")
            .WithSummary("The run's confusion matrix as a heat map and per-class IoU as bars (PNG)")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    /// <summary>Scores one pair.</summary>
    /// <param name="numClasses">Number of classes (labels 0 … numClasses − 1); default: the model's class count when `model` is given.</param>
    /// <param name="ignoreIndex">Ground-truth label left out of scoring (default 255).</param>
    /// <param name="classNames">Optional comma-separated class names, one per class (default: the model's).</param>
    /// <param name="palette">For colour-coded RGB PNGs: comma-separated <c>#rrggbb</c>, one per label in order, or <c>voc</c>.</param>
    /// <param name="model">Model that predicts when an `image` is sent instead of a `prediction`.</param>
    /// <param name="request">The HTTP request.</param>
    /// <param name="services">The engine.</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Results<Ok<SemanticScoresResponse>, ProblemHttpResult>> EvaluateSemantic(
        string? numClasses,
        string? ignoreIndex,
        string? classNames,
        string? palette,
        string? model,
        HttpRequest request,
        [AsParameters] SegmentationServices services,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string[]? names = string.IsNullOrWhiteSpace(classNames) ? null : classNames.Split(',', StringSplitOptions.TrimEntries);
        if (!TryCreateSettings(numClasses, ignoreIndex, names, palette, model, services.Repository, out ScoringSettings? settings, out ProblemHttpResult? problem))
        {
            return problem!;
        }

        (Dictionary<string, ImageUpload>? files, problem) = await ImageUploadReader.ReadFilesAsync(request, s_pairFields, services.Options.Value.Images.MaxBytes, cancellationToken).ConfigureAwait(false);
        if (files is null)
        {
            return problem!;
        }

        try
        {
            var sums = new SemanticAccumulator(settings!.NumClasses);
            problem = await ScorePairAsync(files.GetValueOrDefault("prediction"), files.GetValueOrDefault("image"), files.GetValueOrDefault("groundTruth"), "", settings, sums, services, request, cancellationToken).ConfigureAwait(false);
            return problem ?? (Results<Ok<SemanticScoresResponse>, ProblemHttpResult>)TypedResults.Ok(ToContract(SemanticScores.From(sums), sums, settings));
        }
        finally
        {
            foreach (ImageUpload upload in files.Values)
            {
                upload.Dispose();
            }
        }
    }

    /// <summary>Scores instances (COCO mask AP).</summary>
    /// <param name="imageId">Image id of a service-format prediction, and of a PNG ground truth (default 1).</param>
    /// <param name="request">The HTTP request.</param>
    /// <param name="options">Engine options (limits).</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Results<Ok<InstanceScoresResponse>, ProblemHttpResult>> EvaluateInstances(
        string? imageId,
        HttpRequest request,
        IOptions<InferenceOptions> options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        long image = 1;
        if (!string.IsNullOrEmpty(imageId) && !long.TryParse(imageId, NumberStyles.Integer, CultureInfo.InvariantCulture, out image))
        {
            return ProblemResults.InvalidParameter("imageId", $"imageId must be a whole number (got '{imageId}').");
        }

        (Dictionary<string, ImageUpload>? files, ProblemHttpResult? problem) = await ImageUploadReader.ReadFilesAsync(request, s_instanceFields, options.Value.Images.MaxBytes, cancellationToken).ConfigureAwait(false);
        if (files is null)
        {
            return problem!;
        }

        try
        {
            if (!files.TryGetValue("predictions", out ImageUpload? predictions) || !files.TryGetValue("groundTruth", out ImageUpload? truthFile))
            {
                return ProblemResults.Create(StatusCodes.Status400BadRequest, "Missing file", "Send 'predictions' (JSON) and 'groundTruth' (COCO JSON, or an instance-id PNG with 'classMap').", ProblemTypes.MissingImage);
            }

            (CocoGroundTruth truth, List<DetectedInstance> detections) = ReadInstanceFiles(predictions, truthFile, files.GetValueOrDefault("classMap"), image, options.Value.Images.MaxPixels);
            return TypedResults.Ok(ToContract(CocoEvaluator.Evaluate(truth.Instances, detections, truth.ImageIds, truth.CategoryIds), truth));
        }
        catch (EvaluationInputException ex)
        {
            return ex.Unreadable
                ? ProblemResults.Create(StatusCodes.Status400BadRequest, "Unreadable file", ex.Message, ProblemTypes.InvalidImage)
                : ProblemResults.Create(StatusCodes.Status422UnprocessableEntity, "Cannot score", ex.Message, ProblemTypes.CannotScore);
        }
        finally
        {
            foreach (ImageUpload upload in files.Values)
            {
                upload.Dispose();
            }
        }
    }

    /// <summary>Reads an instance pair: ground truth from COCO JSON or an instance-id PNG + class map, detections from JSON.</summary>
    /// <exception cref="EvaluationInputException">A file cannot be read or does not fit the other.</exception>
    private static (CocoGroundTruth Truth, List<DetectedInstance> Detections) ReadInstanceFiles(
        ImageUpload predictions,
        ImageUpload truthFile,
        ImageUpload? classFile,
        long imageId,
        long maxPixels)
    {
        CocoGroundTruth truth;
        if (truthFile.Content.Length > 0 && truthFile.Content.Span[0] == 0x89)
        {
            if (classFile is null)
            {
                throw new EvaluationInputException("A PNG ground truth of instance ids needs 'classMap', a PNG of class indices of the same size.", unreadable: true);
            }

            using Plane<ushort> ids = LabelMapReader.Read(truthFile.Content, "groundTruth", null, maxPixels);
            using Plane<ushort> classes = LabelMapReader.Read(classFile.Content, "classMap", null, maxPixels);
            truth = CocoJson.FromInstanceMaps(ids, classes, imageId);
        }
        else
        {
            truth = CocoJson.ReadGroundTruth(truthFile.Content, "groundTruth");
        }

        return (truth, CocoJson.ReadDetections(predictions.Content, "predictions", truth.ImageSizes, imageId));
    }

    private static InstanceScoresResponse ToContract(CocoScores scores, CocoGroundTruth truth)
    {
        var categories = new List<CategoryScoresResponse>(truth.CategoryIds.Count);
        foreach (long id in truth.CategoryIds)
        {
            categories.Add(new CategoryScoresResponse(id, truth.CategoryNames.GetValueOrDefault(id), scores.ApByCategory[id]));
        }

        return new InstanceScoresResponse(
            scores.Ap, scores.Ap50, scores.Ap75, scores.ApSmall, scores.ApMedium, scores.ApLarge,
            scores.Ar1, scores.Ar10, scores.Ar100, scores.ArSmall, scores.ArMedium, scores.ArLarge,
            categories, scores.Images, scores.GroundTruthInstances, scores.Detections);
    }

    /// <summary>Creates an evaluation run.</summary>
    /// <param name="body">The run's settings.</param>
    /// <param name="store">Where runs are kept.</param>
    /// <param name="repository">The model repository (to check the model).</param>
    /// <param name="time">The clock.</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Results<Created<EvaluationRunResponse>, ProblemHttpResult>> CreateRun(
        CreateEvaluationRequest body,
        EvaluationStore store,
        ModelRepository repository,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(store);
        if (string.Equals(body.Task, "instances", StringComparison.OrdinalIgnoreCase))
        {
            var instanceRun = new EvaluationRun(Guid.NewGuid().ToString("N"), "instances", time.GetUtcNow(), 0, 0, body.ClassNames, null, null);
            await store.CreateAsync(instanceRun, cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/v1/evaluations/{instanceRun.Id}", new EvaluationRunResponse(instanceRun.Id, instanceRun.Task, instanceRun.Created, null, 0, null, []));
        }

        if (!string.Equals(body.Task, "semantic", StringComparison.OrdinalIgnoreCase))
        {
            return ProblemResults.InvalidParameter("task", $"task '{body.Task}' is not supported: evaluation runs score 'semantic' or 'instances'.");
        }

        if (!TryCreateSettings(
                body.NumClasses?.ToString(CultureInfo.InvariantCulture),
                body.IgnoreIndex?.ToString(CultureInfo.InvariantCulture),
                body.ClassNames,
                body.Palette,
                body.Model,
                repository,
                out ScoringSettings? settings,
                out ProblemHttpResult? problem))
        {
            return problem!;
        }

        var run = new EvaluationRun(Guid.NewGuid().ToString("N"), "semantic", time.GetUtcNow(), settings!.NumClasses, settings.IgnoreIndex, settings.ClassNames, settings.Model, body.Palette);
        await store.CreateAsync(run, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/v1/evaluations/{run.Id}", new EvaluationRunResponse(run.Id, run.Task, run.Created, run.Model, 0, null, []));
    }

    /// <summary>The run's scores.</summary>
    /// <param name="id">Run id.</param>
    /// <param name="store">Where runs are kept.</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Results<Ok<EvaluationRunResponse>, ProblemHttpResult>> GetRun(string id, EvaluationStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        EvaluationRun? run = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (run is null)
        {
            return RunNotFound(id);
        }

        (List<StoredSample> samples, SemanticAccumulator? sums) = await store.LoadSamplesAsync(run, cancellationToken).ConfigureAwait(false);
        var summaries = new List<SampleSummary>(samples.Count);
        foreach (StoredSample sample in samples)
        {
            summaries.Add(new SampleSummary(sample.Name, sample.Pixels, sample.PixelAccuracy, sample.MeanIou, sample.Ap));
        }

        if (run.Task == "instances")
        {
            InstanceScoresResponse? instanceScores = null;
            if (samples.Count > 0)
            {
                (CocoGroundTruth truth, List<DetectedInstance> detections) = InstanceSamples.Combine(samples.Select(x => x.Payload));
                instanceScores = ToContract(CocoEvaluator.Evaluate(truth.Instances, detections, truth.ImageIds, truth.CategoryIds), truth);
            }

            return TypedResults.Ok(new EvaluationRunResponse(run.Id, run.Task, run.Created, null, samples.Count, null, summaries, instanceScores));
        }

        var settings = ScoringSettings.From(run);

        return TypedResults.Ok(new EvaluationRunResponse(
            run.Id,
            run.Task,
            run.Created,
            run.Model,
            samples.Count,
            sums is null ? null : ToContract(SemanticScores.From(sums), sums, settings),
            summaries));
    }

    /// <summary>Adds samples to a run.</summary>
    /// <param name="id">Run id.</param>
    /// <param name="name">Name of a single sample (default: the ground-truth file's name without extension).</param>
    /// <param name="request">The HTTP request.</param>
    /// <param name="store">Where runs are kept.</param>
    /// <param name="evaluationOptions">Evaluation settings.</param>
    /// <param name="services">The engine.</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Results<Ok<SamplesAddedResponse>, ProblemHttpResult>> AddSamples(
        string id,
        string? name,
        HttpRequest request,
        EvaluationStore store,
        IOptions<EvaluationOptions> evaluationOptions,
        [AsParameters] SegmentationServices services,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(evaluationOptions);
        EvaluationRun? run = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (run is null)
        {
            return RunNotFound(id);
        }

        var settings = ScoringSettings.From(run);
        (Dictionary<string, ImageUpload>? files, ProblemHttpResult? problem) = await ImageUploadReader.ReadFilesAsync(request, s_sampleFields, services.Options.Value.Images.MaxBytes, cancellationToken).ConfigureAwait(false);
        if (files is null)
        {
            return problem!;
        }

        var stored = new List<StoredSample>();
        try
        {
            if (run.Task == "instances")
            {
                problem = AddInstanceSample(files, name, services.Options.Value.Images.MaxPixels, stored);
            }
            else if (files.TryGetValue("archive", out ImageUpload? archive))
            {
                problem = await ScoreArchiveAsync(archive, settings, evaluationOptions.Value.MaxArchivePairs, stored, services, request, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                ImageUpload? truth = files.GetValueOrDefault("groundTruth");
                string sampleName = !string.IsNullOrWhiteSpace(name) ? name : Path.GetFileNameWithoutExtension(truth?.FileName) ?? "";
                var sums = new SemanticAccumulator(settings.NumClasses);
                problem = await ScorePairAsync(files.GetValueOrDefault("prediction"), files.GetValueOrDefault("image"), truth, "", settings, sums, services, request, cancellationToken).ConfigureAwait(false);
                if (problem is null)
                {
                    stored.Add(ToStored(sampleName.Length == 0 ? $"sample-{Guid.NewGuid():N}" : sampleName, sums));
                }
            }
        }
        finally
        {
            foreach (ImageUpload upload in files.Values)
            {
                upload.Dispose();
            }
        }

        if (problem is not null)
        {
            return problem;
        }

        await store.AddSamplesAsync(run.Id, stored, cancellationToken).ConfigureAwait(false);
        (List<StoredSample> all, _) = await store.LoadSamplesAsync(run, cancellationToken).ConfigureAwait(false);
        var added = new List<SampleSummary>(stored.Count);
        foreach (StoredSample sample in stored)
        {
            added.Add(new SampleSummary(sample.Name, sample.Pixels, sample.PixelAccuracy, sample.MeanIou, sample.Ap));
        }

        return TypedResults.Ok(new SamplesAddedResponse(run.Id, added, all.Count));
    }

    /// <summary>The run's report picture.</summary>
    /// <param name="id">Run id.</param>
    /// <param name="store">Where runs are kept.</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Report(string id, EvaluationStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        EvaluationRun? run = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (run is null)
        {
            return RunNotFound(id);
        }

        if (run.Task != "semantic")
        {
            return ProblemResults.Create(StatusCodes.Status409Conflict, "No report", $"Evaluation run '{id}' scores instances: its report is the JSON of GET /v1/evaluations/{id} (the picture is drawn for semantic runs).", ProblemTypes.InvalidParameter);
        }

        (List<StoredSample> samples, SemanticAccumulator? sums) = await store.LoadSamplesAsync(run, cancellationToken).ConfigureAwait(false);
        if (sums is null)
        {
            return ProblemResults.Create(StatusCodes.Status409Conflict, "No samples", $"Evaluation run '{id}' has no samples yet: add some before asking for its report.", ProblemTypes.InvalidParameter);
        }

        SemanticScores scores = SemanticScores.From(sums);
        string title = string.Create(CultureInfo.InvariantCulture, $"run {id[..8]}  {samples.Count} samples  {run.NumClasses} classes{(run.Model is null ? "" : "  model " + run.Model)}");
        using Image<Rgb24> report = EvaluationReportRenderer.Render(scores, sums, run.ClassNames, title);
        using var stream = new MemoryStream();
        await report.SaveAsPngAsync(stream, cancellationToken).ConfigureAwait(false);
        return TypedResults.File(stream.ToArray(), "image/png");
    }

    /// <summary>Reads one instance sample (its own AP computed) into <paramref name="stored"/>; returns the problem if it cannot be read.</summary>
    private static ProblemHttpResult? AddInstanceSample(Dictionary<string, ImageUpload> files, string? name, long maxPixels, List<StoredSample> stored)
    {
        if (!files.TryGetValue("predictions", out ImageUpload? predictions) || !files.TryGetValue("groundTruth", out ImageUpload? truthFile))
        {
            return ProblemResults.Create(StatusCodes.Status400BadRequest, "Missing file", "An instance sample is 'predictions' (JSON) with 'groundTruth' (COCO JSON, or an instance-id PNG with 'classMap').", ProblemTypes.MissingImage);
        }

        try
        {
            (CocoGroundTruth truth, List<DetectedInstance> detections) = ReadInstanceFiles(predictions, truthFile, files.GetValueOrDefault("classMap"), 1, maxPixels);
            CocoScores scores = CocoEvaluator.Evaluate(truth.Instances, detections, truth.ImageIds, truth.CategoryIds);
            string sampleName = !string.IsNullOrWhiteSpace(name) ? name : Path.GetFileNameWithoutExtension(truthFile.FileName) ?? $"sample-{Guid.NewGuid():N}";
            stored.Add(new StoredSample(sampleName, 0, null, null, InstanceSamples.Serialize(truth, detections), scores.Ap));
            return null;
        }
        catch (EvaluationInputException ex)
        {
            return ex.Unreadable
                ? ProblemResults.Create(StatusCodes.Status400BadRequest, "Unreadable file", ex.Message, ProblemTypes.InvalidImage)
                : ProblemResults.Create(StatusCodes.Status422UnprocessableEntity, "Cannot score", ex.Message, ProblemTypes.CannotScore);
        }
    }

    /// <summary>Reads and scores one pair into <paramref name="sums"/>; returns the problem if it cannot be scored.</summary>
    private static async Task<ProblemHttpResult?> ScorePairAsync(
        ImageUpload? prediction,
        ImageUpload? image,
        ImageUpload? groundTruth,
        string label,
        ScoringSettings settings,
        SemanticAccumulator sums,
        SegmentationServices services,
        HttpRequest request,
        CancellationToken cancellationToken)
    {
        string where = label.Length == 0 ? "" : $" ({label})";
        if (groundTruth is null)
        {
            return ProblemResults.Create(StatusCodes.Status400BadRequest, "Missing ground truth", $"Send the ground-truth label map as the multipart file field 'groundTruth'{where}.", ProblemTypes.MissingImage);
        }

        if (prediction is null && image is null)
        {
            return ProblemResults.Create(StatusCodes.Status400BadRequest, "Missing prediction", $"Send the predicted label map as 'prediction', or an 'image' for the model to predict{where}.", ProblemTypes.MissingImage);
        }

        long maxPixels = services.Options.Value.Images.MaxPixels;
        Plane<ushort>? truth = null;
        Plane<ushort>? predicted = null;
        SemanticSegmentation? segmentation = null;
        try
        {
            truth = LabelMapReader.Read(groundTruth.Content, "groundTruth" + where, settings.Palette, maxPixels);
            if (prediction is not null)
            {
                predicted = LabelMapReader.Read(prediction.Content, "prediction" + where, settings.Palette, maxPixels);
            }
            else
            {
                if (settings.Model is null)
                {
                    return ProblemResults.InvalidParameter("model", $"An 'image' needs a model to predict it: give 'model', or send a 'prediction' label map instead{where}.");
                }

                ProblemHttpResult? problem = SegmentationEndpoints.CheckReady(settings.Model, request, services.Repository, out SegmentationModel? model);
                if (problem is not null)
                {
                    return problem;
                }

                var options = new SegmentOptions(null, null, false, null, services.Time.GetUtcNow() + TimeSpan.FromMilliseconds(services.Options.Value.Queue.DefaultTimeoutMs));
                (SemanticSegmentation? result, problem) = await SegmentationEndpoints.SegmentUploadAsync(model!, image!.Content, options, services, request, cancellationToken).ConfigureAwait(false);
                if (result is null)
                {
                    return problem;
                }

                // The model's class map is scored as it is: keep the segmentation alive until accumulation is done.
                segmentation = result;
                predicted = result.Map.Classes;
            }

            SemanticEvaluator.Accumulate(predicted, truth, settings.IgnoreIndex, sums);
            return null;
        }
        catch (EvaluationInputException ex)
        {
            return ex.Unreadable
                ? ProblemResults.Create(StatusCodes.Status400BadRequest, "Invalid label map", ex.Message, ProblemTypes.InvalidImage)
                : ProblemResults.Create(StatusCodes.Status422UnprocessableEntity, "Cannot score", ex.Message + where, ProblemTypes.CannotScore);
        }
        finally
        {
            truth?.Dispose();
            if (segmentation is not null)
            {
                segmentation.Dispose();
            }
            else
            {
                predicted?.Dispose();
            }
        }
    }

    /// <summary>Scores every pair of a zip archive; all or nothing.</summary>
    private static async Task<ProblemHttpResult?> ScoreArchiveAsync(
        ImageUpload archive,
        ScoringSettings settings,
        int maxPairs,
        List<StoredSample> stored,
        SegmentationServices services,
        HttpRequest request,
        CancellationToken cancellationToken)
    {
        long maxEntryBytes = services.Options.Value.Images.MaxBytes;
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(ImageDecoder.AsStream(archive.Content), ZipArchiveMode.Read);
        }
        catch (InvalidDataException ex)
        {
            return ProblemResults.Create(StatusCodes.Status400BadRequest, "Invalid archive", $"'archive' is not a readable zip file: {ex.Message}", ProblemTypes.InvalidImage);
        }

        using (zip)
        {
            var truths = new SortedDictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            var predictions = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            var images = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                if (entry.FullName.EndsWith('/') || entry.Length == 0)
                {
                    continue;
                }

                string[] parts = entry.FullName.Split('/', StringSplitOptions.RemoveEmptyEntries);
                string folder = parts.Length >= 2 ? parts[^2].ToLowerInvariant() : "";
                string stem = Path.GetFileNameWithoutExtension(parts[^1]);
                Dictionary<string, ZipArchiveEntry>? target = folder switch
                {
                    "prediction" or "predictions" or "pred" => predictions,
                    "image" or "images" => images,
                    _ => null,
                };
                if (folder is "groundtruth" or "gt" or "label" or "labels" or "annotation" or "annotations")
                {
                    truths[stem] = entry;
                }
                else
                {
                    target?.TryAdd(stem, entry);
                }
            }

            if (truths.Count == 0)
            {
                return ProblemResults.Create(StatusCodes.Status422UnprocessableEntity, "Cannot score", "The archive has no ground truth: put the label maps in a folder 'groundTruth/' (or gt, labels, annotations).", ProblemTypes.CannotScore);
            }

            if (truths.Count > maxPairs)
            {
                return ProblemResults.Create(StatusCodes.Status413PayloadTooLarge, "Archive too large", $"The archive holds {truths.Count} pairs; at most {maxPairs} per request.", ProblemTypes.ImageTooLarge);
            }

            var unmatched = new List<string>();
            foreach (string stem in truths.Keys)
            {
                if (!predictions.ContainsKey(stem) && !(settings.Model is not null && images.ContainsKey(stem)))
                {
                    unmatched.Add(stem);
                }
            }

            if (unmatched.Count > 0)
            {
                string which = settings.Model is null ? "'prediction/'" : "'prediction/' or 'images/'";
                return ProblemResults.Create(
                    StatusCodes.Status422UnprocessableEntity,
                    "Cannot score",
                    $"{unmatched.Count} ground-truth files have no match by name in {which}: {string.Join(", ", unmatched.Take(5))}{(unmatched.Count > 5 ? ", …" : "")}.",
                    ProblemTypes.CannotScore);
            }

            foreach ((string stem, ZipArchiveEntry truthEntry) in truths)
            {
                bool fromPrediction = predictions.TryGetValue(stem, out ZipArchiveEntry? predictionEntry);
                ZipArchiveEntry other = fromPrediction ? predictionEntry! : images[stem];
                if (truthEntry.Length > maxEntryBytes || other.Length > maxEntryBytes)
                {
                    return ProblemResults.Create(StatusCodes.Status413PayloadTooLarge, "Image too large", $"'{stem}' in the archive is larger than the limit of {maxEntryBytes} bytes.", ProblemTypes.ImageTooLarge);
                }

                using ImageUpload truth = await ReadEntryAsync(truthEntry, cancellationToken).ConfigureAwait(false);
                using ImageUpload second = await ReadEntryAsync(other, cancellationToken).ConfigureAwait(false);
                var sums = new SemanticAccumulator(settings.NumClasses);
                ProblemHttpResult? problem = await ScorePairAsync(
                    fromPrediction ? second : null,
                    fromPrediction ? null : second,
                    truth,
                    stem,
                    settings,
                    sums,
                    services,
                    request,
                    cancellationToken).ConfigureAwait(false);
                if (problem is not null)
                {
                    return problem;
                }

                stored.Add(ToStored(stem, sums));
            }
        }

        return null;
    }

    private static async Task<ImageUpload> ReadEntryAsync(ZipArchiveEntry entry, CancellationToken cancellationToken)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)entry.Length);
        await using Stream stream = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
        int length = 0;
        int read;
        while (length < entry.Length && (read = await stream.ReadAsync(buffer.AsMemory(length, (int)entry.Length - length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        return new ImageUpload(buffer, length, entry.Name);
    }

    private static StoredSample ToStored(string name, SemanticAccumulator sums)
    {
        SemanticScores scores = SemanticScores.From(sums);
        return new StoredSample(name, scores.Pixels, scores.PixelAccuracy, scores.MeanIou, System.Runtime.InteropServices.MemoryMarshal.AsBytes(sums.ToArray().AsSpan()).ToArray());
    }

    private static SemanticScoresResponse ToContract(SemanticScores scores, SemanticAccumulator sums, ScoringSettings settings)
    {
        int n = sums.ClassCount;
        var classes = new List<ClassScoresResponse>(n);
        var matrix = new List<IReadOnlyList<long>>(n);
        foreach (ClassScores c in scores.Classes)
        {
            string? className = settings.ClassNames is not null && c.Id < settings.ClassNames.Count ? settings.ClassNames[c.Id] : null;
            classes.Add(new ClassScoresResponse(c.Id, className, c.GroundTruthPixels, c.PredictedPixels, c.IntersectionPixels, c.Iou, c.Dice, c.Precision, c.Recall, c.F1, c.BoundaryIou));
            matrix.Add(sums.Confusion.AsSpan(c.Id * n, n).ToArray());
        }

        return new SemanticScoresResponse(
            n,
            settings.IgnoreIndex,
            scores.Pixels,
            scores.PixelAccuracy,
            scores.MeanAccuracy,
            scores.MeanIou,
            scores.MeanDice,
            scores.MeanPrecision,
            scores.MeanRecall,
            scores.MeanF1,
            scores.FrequencyWeightedIou,
            scores.MeanBoundaryIou,
            classes,
            matrix,
            sums.PredictedOutside);
    }

    private static bool TryCreateSettings(
        string? numClasses,
        string? ignoreIndex,
        IReadOnlyList<string>? classNames,
        string? palette,
        string? model,
        ModelRepository repository,
        out ScoringSettings? settings,
        out ProblemHttpResult? problem)
    {
        settings = null;
        problem = null;
        ModelManifest? manifest = null;
        if (!string.IsNullOrEmpty(model))
        {
            if (!repository.TryGet(model, out SegmentationModel? found))
            {
                problem = ProblemResults.ModelNotFound(model);
                return false;
            }

            manifest = found.Manifest;
            if (manifest is { Task: not SegmentationTask.Semantic })
            {
                problem = ProblemResults.InvalidParameter("model", $"Model '{model}' is not a semantic segmentation model.");
                return false;
            }
        }

        int classes;
        if (string.IsNullOrEmpty(numClasses))
        {
            if (manifest is null)
            {
                problem = ProblemResults.InvalidParameter("numClasses", "numClasses is required (the number of classes, labels 0 … numClasses − 1), unless a model gives it.");
                return false;
            }

            classes = manifest.Classes.Count;
        }
        else if (!int.TryParse(numClasses, NumberStyles.None, CultureInfo.InvariantCulture, out classes) || classes is < 1 or > 4096)
        {
            problem = ProblemResults.InvalidParameter("numClasses", $"numClasses must be a whole number within 1–4096 (got '{numClasses}').");
            return false;
        }

        int ignore = 255;
        if (!string.IsNullOrEmpty(ignoreIndex) && (!int.TryParse(ignoreIndex, NumberStyles.None, CultureInfo.InvariantCulture, out ignore) || ignore > 65535))
        {
            problem = ProblemResults.InvalidParameter("ignoreIndex", $"ignoreIndex must be a whole number within 0–65535 (got '{ignoreIndex}').");
            return false;
        }

        if (classNames is not null && classNames.Count != classes)
        {
            problem = ProblemResults.InvalidParameter("classNames", $"classNames has {classNames.Count} names for {classes} classes.");
            return false;
        }

        IReadOnlyList<string>? names = classNames;
        if (names is null && manifest is not null)
        {
            var fromModel = new List<string>(classes);
            for (int i = 0; i < classes; i++)
            {
                fromModel.Add(i < manifest.Classes.Count ? manifest.Classes[i].Name : i.ToString(CultureInfo.InvariantCulture));
            }

            names = fromModel;
        }

        List<Rgb24>? colours = ParsePalette(palette, out string? badEntry);
        if (badEntry is not null)
        {
            problem = ProblemResults.InvalidParameter("palette", $"palette entry '{badEntry}' is not a #rrggbb colour (the palette lists one colour per label, comma-separated, or 'voc').");
            return false;
        }

        settings = new ScoringSettings(classes, ignore, names, colours, string.IsNullOrEmpty(model) ? null : model);
        return true;
    }

    /// <summary>The label colours of a <c>palette</c> parameter (<c>voc</c>, or comma-separated <c>#rrggbb</c>); null when none; <paramref name="badEntry"/> names an unreadable entry.</summary>
    private static List<Rgb24>? ParsePalette(string? palette, out string? badEntry)
    {
        badEntry = null;
        if (string.IsNullOrWhiteSpace(palette))
        {
            return null;
        }

        var colours = new List<Rgb24>();
        if (palette.Trim().Equals("voc", StringComparison.OrdinalIgnoreCase))
        {
            for (int i = 0; i < 256; i++)
            {
                colours.Add(ClassPalette.VocColor(i));
            }

            return colours;
        }

        foreach (string part in palette.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!ColorParser.TryParse(part, out Rgb24 colour))
            {
                badEntry = part;
                return null;
            }

            colours.Add(colour);
        }

        return colours;
    }

    private static ProblemHttpResult RunNotFound(string id) =>
        ProblemResults.Create(StatusCodes.Status404NotFound, "Evaluation run not found", $"There is no evaluation run '{id}'.", ProblemTypes.RunNotFound);

    /// <summary>How pairs are read and scored.</summary>
    private sealed record ScoringSettings(int NumClasses, int IgnoreIndex, IReadOnlyList<string>? ClassNames, IReadOnlyList<Rgb24>? Palette, string? Model)
    {
        /// <summary>A stored run's settings (its palette was checked when the run was created).</summary>
        public static ScoringSettings From(EvaluationRun run) =>
            new(run.NumClasses, run.IgnoreIndex, run.ClassNames, ParsePalette(run.Palette, out _), run.Model);
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

/// <summary>The multipart form of samples added to a run.</summary>
public sealed class EvaluationSampleForm
{
    /// <summary>The ground-truth label map (PNG), for a single sample.</summary>
    public IFormFile? GroundTruth { get; init; }

    /// <summary>The predicted label map (PNG), for a single sample.</summary>
    public IFormFile? Prediction { get; init; }

    /// <summary>An image for the run's model to predict, for a single sample.</summary>
    public IFormFile? Image { get; init; }

    /// <summary>A zip of pairs: groundTruth/NAME.png with prediction/NAME.png (or images/NAME.* for a run with a model).</summary>
    public IFormFile? Archive { get; init; }
}
