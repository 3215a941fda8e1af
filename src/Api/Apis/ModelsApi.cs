using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Binding;
using SegServe.Api.Mapping;
using SegServe.Contracts;
using SegServe.Inference.Models;

namespace SegServe.Api.Apis;

/// <summary>The model repository over HTTP: what is served, in what state, on which execution provider.</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/v1/models").WithTags("Models").RejectUnknownQueryParameters();

        api.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("List the models")
            .WithDescription("Every folder of the models directory, in name order: status (loading with its progress, ready, failed with the reason), the execution provider in use (CUDA or CPU) and why, the manifest and the ONNX signature.");

        api.MapGet("/{name}", GetModel)
            .WithName("GetModel")
            .WithSummary("Describe one model")
            .WithDescription("The model's status, execution provider, manifest (input preprocessing, output kind, classes and colours, batching, source and licence) and the input/output tensors declared by its ONNX file.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/{name}/stats", GetQueueStatistics)
            .WithName("GetQueueStatistics")
            .WithSummary("The model's queue: outcomes and batch-size distribution")
            .WithDescription("Since the service started: requests by outcome (ok, rejected, expired, cancelled, failed), model runs by batch size, mean batch size, mean queue wait and run time; and the queue depth now. The same figures are exported as metrics on the SegServe.Inference meter. A model that is loading or failed has no queue (503).")
            .ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);

        return api;
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
