using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Binding;
using SegServe.Api.Mapping;
using SegServe.Api.Problems;
using SegServe.Contracts;
using SegServe.Inference.Models;
using SegServe.Api.Security;

namespace SegServe.Api.Apis;

/// <summary>The model repository over HTTP: what is served, in what state, on which execution provider.</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/v1/models").WithTags("Models").RejectUnknownQueryParameters().RequireUser();

        api.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("List the models with their status and execution provider")
            .WithDescription("Every folder of the models directory, in name order: status (loading with its progress, ready, failed with the reason), the execution provider in use (CUDA or CPU) and why, the manifest and the ONNX signature.");

        api.MapGet("/{name}", GetModel)
            .WithName("GetModel")
            .WithSummary("Describe one model: status, manifest and ONNX signature")
            .WithDescription("The model's status, execution provider, manifest (input preprocessing, output kind, classes and colours, batching, source and licence) and the input/output tensors declared by its ONNX file.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/{name}/stats", GetQueueStatistics)
            .WithName("GetQueueStatistics")
            .WithSummary("The model's queue: outcomes and batch-size distribution")
            .WithDescription("Since the service started: requests by outcome (ok, rejected, expired, cancelled, failed), model runs by batch size, mean batch size, mean queue wait and run time; and the queue depth now. The same figures are exported as metrics on the SegServe.Inference meter. A model that is loading or failed has no queue (503).")
            .ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);

        api.MapPost("/{name}/reload", ReloadModel)
            .WithName("ReloadModel")
            .WithSummary("Load a model's files again, without dropping requests (admin)")
            .WithDescription("Reads the model's folder again (manifest and ONNX file), warms the new version up and, only if it is ready, puts it in the old one's place: requests already queued on the old version are answered by it, which is released once drained. If the new files do not load, the old version keeps serving and the answer (422) says why. A folder added since the start is loaded as a new model. Needs an API key with the admin role.")
            .RequireAuthorization(Roles.AdminPolicy)
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status422UnprocessableEntity);

        return api;
    }

    // Reloads a model.
    /// <param name="name">The model's name (its folder).</param>
    /// <param name="repository">The model repository.</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Ok<ModelDescription>> ReloadModel(string name, ModelRepository repository, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ModelReload reload = await repository.ReloadAsync(name, cancellationToken) ?? throw new ModelNotFoundException(name);
        return reload.FailureReason is string reason
            ? throw new ModelReloadFailedException(name, reason)
            : TypedResults.Ok(reload.Current.ToDescription());
    }

    // Lists the models.
    public static Ok<ModelList> ListModels(IModelRegistry models)
    {
        ArgumentNullException.ThrowIfNull(models);
        return TypedResults.Ok(new ModelList([.. models.Models.Select(static m => m.ToDescription())]));
    }

    // Describes one model.
    public static Ok<ModelDescription> GetModel(KnownModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return TypedResults.Ok(model.Model.ToDescription());
    }

    // The model's queue statistics.
    public static Ok<QueueStatisticsResponse> GetQueueStatistics(ReadyModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return TypedResults.Ok(model.Model.Batcher!.Statistics().ToResponse(model.Model.Name));
    }
}
