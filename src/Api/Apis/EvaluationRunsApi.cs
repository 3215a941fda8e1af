using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Binding;
using SegServe.Api.Evaluations;
using SegServe.Api.Hosting;
using SegServe.Api.Requests;
using SegServe.Contracts;
using SegServe.Api.Security;

namespace SegServe.Api.Apis;

/// <summary>Whole datasets scored sample by sample in persisted runs: <c>/v1/evaluations</c>.</summary>
public static class EvaluationRunsApi
{
    public static RouteGroupBuilder MapEvaluationRunsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder runs = app.MapGroup("/v1/evaluations").WithTags("Evaluation").RejectUnknownQueryParameters().RequireUser();

        runs.MapPost("/", CreateRun)
            .WithName("CreateEvaluationRun")
            .WithSummary("Start an evaluation run over a dataset")
            .WithDescription("JSON: `task` (`semantic` or `instances`); semantic runs also take `numClasses` (or a `model` that gives it), `ignoreIndex` (default 255), "
                + "optional `classNames`, `model` (samples may then send images) and `palette`. Returns the run; add samples to it, then read its dataset-level scores. "
                + "Runs are kept in a database (embedded SQLite, or PostgreSQL shared by replicas): a restart loses nothing accepted." + EvaluateApi.Semantics)
            .Produces<EvaluationRunResponse>(StatusCodes.Status201Created)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);

        runs.MapGet("/{id}", GetRun)
            .WithName("GetEvaluationRun")
            .WithSummary("Read a run's dataset-level scores, with each sample's own")
            .WithDescription("Semantic runs: scores over all samples (counts summed over every sample before dividing, as mmsegmentation), with each sample's own pixel accuracy and mIoU. "
                + "Instance runs: COCO mask AP over all samples' images evaluated together, with each sample's own AP.")
            .Produces<EvaluationRunResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapDelete("/{id}", DeleteRun)
            .WithName("DeleteEvaluationRun")
            .WithSummary("Delete a run and its samples")
            .WithDescription("Frees the run's place and its samples' bytes in the caller's quotas (MaxRunsPerKey, MaxStoredBytesPerKey).")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapPost("/{id}/samples", AddSamples)
            .WithName("AddEvaluationSamples")
            .WithSummary("Add a sample, or a zip of samples, to a run")
            .WithDescription("Semantic runs, multipart: `groundTruth` with `prediction` (or `image` when the run has a model), optional query `name`; or `archive`, a zip whose folders "
                + "`groundTruth/` (or gt, labels, annotations) and `prediction/` (or predictions; or images/ when the run has a model) hold files matched by name without extension. "
                + "Instance runs: `predictions` (JSON) with `groundTruth` (COCO JSON, or an instance-id PNG with `classMap`). "
                + "All of a request's samples are added, or none. Concurrent uploads to one run are safe.")
            .Accepts<EvaluationSampleForm>("multipart/form-data")
            .AcceptsUploads(files: 3)
            .Produces<SamplesAddedResponse>()
            .ProducesProblems(400, 404, 413, 415, 422, 429, 503);

        runs.MapGet("/{id}/report.png", Report)
            .WithName("GetEvaluationReport")
            .WithSummary("The run's confusion matrix as a heat map and per-class IoU as bars (PNG)")
            .WithDescription("Semantic runs with at least one sample; otherwise 409.")
            .Produces(StatusCodes.Status200OK, contentType: ContentNegotiation.Png)
            .ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);

        return runs;
    }

    // Creates an evaluation run.
    /// <param name="body">The run's settings.</param>
    /// <param name="runs">Evaluation runs.</param>
    /// <param name="user">The caller (runs belong to the key that made them).</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Created<EvaluationRunResponse>> CreateRun(CreateEvaluationRequest body, EvaluationRuns runs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        EvaluationRunResponse run = await runs.CreateAsync(body, user, cancellationToken);
        return TypedResults.Created($"/v1/evaluations/{run.Id}", run);
    }

    // The run's scores.
    /// <param name="id">The run's id, as returned when it was created.</param>
    /// <param name="runs">Evaluation runs.</param>
    /// <param name="user">The caller (runs belong to the key that made them).</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Ok<EvaluationRunResponse>> GetRun(string id, EvaluationRuns runs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return TypedResults.Ok(await runs.GetAsync(id, user, cancellationToken));
    }

    // Deletes a run.
    /// <param name="id">The run's id, as returned when it was created.</param>
    /// <param name="runs">Evaluation runs.</param>
    /// <param name="user">The caller (runs belong to the key that made them).</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<NoContent> DeleteRun(string id, EvaluationRuns runs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        await runs.DeleteAsync(id, user, cancellationToken);
        return TypedResults.NoContent();
    }

    // Adds samples to a run.
    public static async Task<Ok<SamplesAddedResponse>> AddSamples([AsParameters] AddSamplesRequest request, EvaluationRuns runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(runs);
        return TypedResults.Ok(await runs.AddSamplesAsync(request.Id, request.Name, request.Context.Request, cancellationToken));
    }

    // The run's report picture.
    /// <param name="id">The run's id, as returned when it was created.</param>
    /// <param name="runs">Evaluation runs.</param>
    /// <param name="user">The caller (runs belong to the key that made them).</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<FileContentHttpResult> Report(string id, EvaluationRuns runs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return TypedResults.File(await runs.ReportAsync(id, user, cancellationToken), ContentNegotiation.Png);
    }
}

/// <summary>The multipart form of samples added to a run.</summary>
public sealed class EvaluationSampleForm
{
    /// <summary>The ground truth of a single sample: a label map (PNG) for semantic runs; COCO JSON or an instance-id PNG for instance runs.</summary>
    public IFormFile? GroundTruth { get; init; }

    /// <summary>The predicted label map (PNG), for a single semantic sample.</summary>
    public IFormFile? Prediction { get; init; }

    /// <summary>An image for the run's model to predict, for a single semantic sample.</summary>
    public IFormFile? Image { get; init; }

    /// <summary>A zip of semantic pairs: groundTruth/NAME.png with prediction/NAME.png (or images/NAME.* for a run with a model).</summary>
    public IFormFile? Archive { get; init; }

    /// <summary>Instance runs: COCO results JSON or this service's instance response.</summary>
    public IFormFile? Predictions { get; init; }

    /// <summary>Instance runs with an instance-id PNG ground truth: the class index of each pixel (PNG).</summary>
    public IFormFile? ClassMap { get; init; }
}
