using System.Globalization;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using SegServe.Api.Binding;
using SegServe.Api.Mapping;
using SegServe.Api.Problems;
using SegServe.Api.Security;
using SegServe.Api.Uploads;
using SegServe.Contracts;
using SegServe.Inference;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Evaluation.Instances;
using SegServe.Inference.Models;
using SegServe.Inference.Rendering;

namespace SegServe.Api.Evaluations;

/// <summary>The three files of a semantic pair, read from an upload.</summary>
/// <param name="GroundTruth">The ground-truth label map.</param>
/// <param name="Prediction">The predicted label map, if sent.</param>
/// <param name="Image">An image for the model to predict, if sent instead.</param>
public readonly record struct PairUpload(UploadedFile GroundTruth, UploadedFile? Prediction, UploadedFile? Image)
{
    /// <exception cref="UploadRejectedException">The ground truth is missing, or both prediction and image are.</exception>
    public static PairUpload From(UploadedFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        UploadedFile truth = files.Require("groundTruth", "Send the ground-truth label map as the multipart file field 'groundTruth'.");
        UploadedFile? prediction = files["prediction"];
        UploadedFile? image = files["image"];
        return prediction is null && image is null
            ? throw new UploadRejectedException(UploadFault.MissingFile, "Send the predicted label map as 'prediction', or an 'image' for the model to predict.", "prediction")
            : new PairUpload(truth, prediction, image);
    }
}

/// <summary>
/// Evaluation runs: a dataset's samples scored as they arrive and kept in the <see cref="IEvaluationStore"/>, its scores
/// computed over all of them when asked. Host logic — persistence and request handling around the engine's scorers.
/// </summary>
public sealed class EvaluationRuns(
    IEvaluationStore store,
    IModelRegistry models,
    SemanticPairScorer scorer,
    UploadReader uploads,
    IOptions<EvaluationOptions> evaluation,
    IOptions<InferenceOptions> inference,
    TimeProvider time)
{
    private static readonly string[] s_sampleFields = ["prediction", "image", "groundTruth", "archive", "predictions", "classMap"];

    private TimeSpan Timeout => TimeSpan.FromMilliseconds(inference.Value.Queue.DefaultTimeoutMs);

    /// <exception cref="QuotaExceededException">The caller has as many runs as it may.</exception>
    public async Task<EvaluationRunResponse> CreateAsync(CreateEvaluationRequest body, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        string owner = SecurityExtensions.OwnerOf(user);
        string id = Guid.NewGuid().ToString("N");
        EvaluationRun run;
        if (string.Equals(body.Task, "instances", StringComparison.OrdinalIgnoreCase))
        {
            run = new EvaluationRun(id, "instances", time.GetUtcNow(), 0, 0, body.ClassNames, null, null, owner);
        }
        else if (string.Equals(body.Task, "semantic", StringComparison.OrdinalIgnoreCase))
        {
            SegmentationModel? model = string.IsNullOrEmpty(body.Model) ? null : ModelResolution.Ready(models, body.Model);
            var settings = ScoringSettings.Create(body.NumClasses, body.IgnoreIndex, body.ClassNames, body.Palette, model, evaluation.Value.MaxClasses);
            run = new EvaluationRun(id, "semantic", time.GetUtcNow(), settings.NumClasses, settings.IgnoreIndex, settings.ClassNames, settings.Model, settings.Palette, owner);
        }
        else
        {
            throw new InvalidOptionException("task", body.Task, $"task '{body.Task}' is not supported: evaluation runs score 'semantic' or 'instances'.");
        }

        // The store counts the owner's runs and adds this one under one lock: replicas cannot both take the last place.
        run = await store.CreateAsync(run, evaluation.Value.MaxRunsPerKey, cancellationToken).ConfigureAwait(false);
        return new EvaluationRunResponse(run.Id, run.Task, run.Created, run.Model, 0, null, []);
    }

    /// <exception cref="EvaluationRunNotFoundException">No such run.</exception>
    public async Task<EvaluationRunResponse> GetAsync(string id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        EvaluationRun run = await FindAsync(id, user, cancellationToken).ConfigureAwait(false);
        (List<StoredSample> samples, SemanticAccumulator? sums) = await store.LoadSamplesAsync(run, cancellationToken).ConfigureAwait(false);
        List<SampleSummary> summaries = [.. samples.Select(ToSummary)];
        if (run.Task == "instances")
        {
            InstanceScoresResponse? scores = null;
            if (samples.Count > 0)
            {
                (CocoGroundTruth truth, List<DetectedInstance> detections) = InstanceSamples.Combine(samples.Select(static s => s.Payload));
                scores = EvaluationMapping.Score(truth, detections);
            }

            return new EvaluationRunResponse(run.Id, run.Task, run.Created, null, samples.Count, null, summaries, scores);
        }

        return new EvaluationRunResponse(run.Id, run.Task, run.Created, run.Model, samples.Count, sums?.ToResponse(SettingsOf(run)), summaries);
    }

    /// <summary>
    /// Scores the request's samples — a pair, a zip of pairs, or an instance sample — and adds them all, or none: each is
    /// staged as soon as it is scored (memory holds one pair of an archive at a time) and the batch is published at the
    /// end, or discarded if anything fails.
    /// </summary>
    public async Task<SamplesAddedResponse> AddSamplesAsync(string id, string? name, HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        EvaluationRun run = await FindAsync(id, request.HttpContext.User, cancellationToken).ConfigureAwait(false);
        using UploadedFiles files = await uploads.ReadFilesAsync(request, s_sampleFields, cancellationToken).ConfigureAwait(false);
        int existing = await store.CountSamplesAsync(run.Id, cancellationToken).ConfigureAwait(false);
        var batch = new Batch(Guid.NewGuid().ToString("N"), existing, await store.StoredBytesAsync(run.Owner, cancellationToken).ConfigureAwait(false));
        var added = new List<SampleSummary>();
        try
        {
            if (run.Task == "instances")
            {
                await StageAsync(run, batch, InstanceSample(files, name), added, cancellationToken).ConfigureAwait(false);
            }
            else if (files["archive"] is UploadedFile archive)
            {
                using PairArchive pairs = PairArchive.Open(archive.Content, imagesAllowed: run.Model is not null, evaluation.Value.MaxArchivePairs);
                SegmentationModel? model = pairs.Pairs.Any(static p => p.IsImage) ? ModelOf(run, request.HttpContext) : null;
                await foreach (ScoredSample scored in scorer.ScoreArchiveAsync(SettingsOf(run), pairs, model, Timeout, cancellationToken).ConfigureAwait(false))
                {
                    await StageAsync(run, batch, ToStored(scored.Name, scored.Sums), added, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                StoredSample pair = await PairSampleAsync(run, PairUpload.From(files), name, request.HttpContext, cancellationToken).ConfigureAwait(false);
                await StageAsync(run, batch, pair, added, cancellationToken).ConfigureAwait(false);
            }

            // The checks above used counts read when the request began, to refuse early; these are checked again
            // where they cannot change meanwhile, as the batch is published (another request, or replica, may have
            // added samples since).
            int total = await store.PublishAsync(run, batch.Id, new SampleQuotas(evaluation.Value.MaxSamplesPerRun, evaluation.Value.MaxStoredBytesPerKey), cancellationToken).ConfigureAwait(false);
            return new SamplesAddedResponse(run.Id, added, total);
        }
        catch
        {
            await store.DiscardAsync(batch.Id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Deletes the run and its samples (which no longer count against its owner's quotas).</summary>
    /// <exception cref="EvaluationRunNotFoundException">No such run.</exception>
    public async Task DeleteAsync(string id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        EvaluationRun run = await FindAsync(id, user, cancellationToken).ConfigureAwait(false);
        if (!await store.DeleteAsync(run.Id, cancellationToken).ConfigureAwait(false))
        {
            throw new EvaluationRunNotFoundException(id); // deleted meanwhile by another request
        }
    }

    /// <summary>The run's confusion-matrix heat map and per-class IoU bars, as a PNG.</summary>
    /// <exception cref="ReportUnavailableException">The run scores instances, or has no samples yet.</exception>
    public async Task<byte[]> ReportAsync(string id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        EvaluationRun run = await FindAsync(id, user, cancellationToken).ConfigureAwait(false);
        if (run.Task != "semantic")
        {
            throw new ReportUnavailableException($"Evaluation run '{id}' scores instances: its report is the JSON of GET /v1/evaluations/{id} (the picture is drawn for semantic runs).");
        }

        (List<StoredSample> samples, SemanticAccumulator? sums) = await store.LoadSamplesAsync(run, cancellationToken).ConfigureAwait(false);
        if (sums is null)
        {
            throw new ReportUnavailableException($"Evaluation run '{id}' has no samples yet: add some before asking for its report.");
        }

        string title = string.Create(CultureInfo.InvariantCulture, $"run {id[..Math.Min(8, id.Length)]}  {samples.Count} samples  {run.NumClasses} classes{(run.Model is null ? "" : "  model " + run.Model)}");
        return EvaluationReportRenderer.RenderPng(SemanticScores.From(sums), sums, run.ClassNames, title);
    }

    /// <summary>The run, if the caller may see it: its owner's, or any for an admin (others' runs are as good as absent).</summary>
    private async Task<EvaluationRun> FindAsync(string id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        EvaluationRun? run = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return run is not null && (run.Owner == SecurityExtensions.OwnerOf(user) || user.IsInRole(Roles.Admin))
            ? run
            : throw new EvaluationRunNotFoundException(id);
    }

    private async Task<StoredSample> PairSampleAsync(EvaluationRun run, PairUpload pair, string? name, HttpContext user, CancellationToken cancellationToken)
    {
        SegmentationModel? model = pair.Prediction is null ? ModelOf(run, user) : null;
        var sums = new SemanticAccumulator(run.NumClasses);
        await scorer.ScoreAsync(SettingsOf(run), pair.GroundTruth.Content, pair.Prediction?.Content, pair.Image?.Content, model, Timeout, sums, "", cancellationToken).ConfigureAwait(false);
        string sampleName = !string.IsNullOrWhiteSpace(name) ? name : Path.GetFileNameWithoutExtension(pair.GroundTruth.FileName) ?? "";
        return ToStored(sampleName.Length == 0 ? $"sample-{Guid.NewGuid():N}" : sampleName, sums);
    }

    /// <exception cref="QuotaExceededException">The run is full, or its owner's stored bytes would pass their quota.</exception>
    private async Task StageAsync(EvaluationRun run, Batch batch, StoredSample sample, List<SampleSummary> added, CancellationToken cancellationToken)
    {
        int limit = evaluation.Value.MaxSamplesPerRun;
        if (batch.ExistingSamples + added.Count >= limit)
        {
            throw new QuotaExceededException($"Evaluation run '{run.Id}' would hold more than {limit} samples (it has {batch.ExistingSamples}; this request adds {added.Count + 1} or more); start another run.");
        }

        batch.StoredBytes += sample.Payload.Length + sample.Name.Length;
        if (batch.StoredBytes > evaluation.Value.MaxStoredBytesPerKey)
        {
            throw new QuotaExceededException($"'{run.Owner}' would store more than {evaluation.Value.MaxStoredBytesPerKey} bytes of evaluation samples (its quota); runs can still be read, but new samples need room.");
        }

        await store.StageAsync(run.Id, batch.Id, sample, cancellationToken).ConfigureAwait(false);
        added.Add(ToSummary(sample));
    }

    /// <summary>One request's staged samples: their batch id, and the counts its limits are checked against.</summary>
    private sealed class Batch(string id, int existingSamples, long storedBytes)
    {
        public string Id { get; } = id;

        public int ExistingSamples { get; } = existingSamples;

        public long StoredBytes { get; set; } = storedBytes;
    }

    private StoredSample InstanceSample(UploadedFiles files, string? name)
    {
        UploadedFile predictions = files.Require("predictions", "An instance sample is 'predictions' (JSON) with 'groundTruth' (COCO JSON, or an instance-id PNG with 'classMap').");
        UploadedFile truthFile = files.Require("groundTruth", "An instance sample is 'predictions' (JSON) with 'groundTruth' (COCO JSON, or an instance-id PNG with 'classMap').");
        (CocoGroundTruth truth, List<DetectedInstance> detections) = InstanceInputs.Read(predictions.Content, truthFile.Content, files["classMap"]?.Content, 1, inference.Value.Images.MaxPixels, evaluation.Value.MaxClasses);
        CocoScores scores = CocoEvaluator.Evaluate(truth.Instances, detections, truth.ImageIds, truth.CategoryIds);
        string sampleName = !string.IsNullOrWhiteSpace(name) ? name : Path.GetFileNameWithoutExtension(truthFile.FileName) ?? $"sample-{Guid.NewGuid():N}";
        return new StoredSample(sampleName, 0, null, null, InstanceSamples.Serialize(truth, detections), scores.Ap);
    }

    /// <summary>The run's model, when it has one, if it is ready now.</summary>
    private SegmentationModel? ModelOf(EvaluationRun run, HttpContext user) => run.Model is null ? null : ModelResolution.Ready(models, run.Model, user);

    private static ScoringSettings SettingsOf(EvaluationRun run) => new(run.NumClasses, run.IgnoreIndex, run.ClassNames, run.Palette, run.Model);

    private static StoredSample ToStored(string name, SemanticAccumulator sums)
    {
        SemanticScores scores = SemanticScores.From(sums);
        return new StoredSample(name, scores.Pixels, scores.PixelAccuracy, scores.MeanIou, sums.ToSparse());
    }

    private static SampleSummary ToSummary(StoredSample sample) => new(sample.Name, sample.Pixels, sample.PixelAccuracy, sample.MeanIou, sample.Ap);
}
