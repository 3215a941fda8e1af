using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Problems;
using SegServe.Contracts;
using SegServe.Inference.Models;
using SegServe.Inference.Scheduling;

namespace SegServe.Api.Endpoints;

/// <summary>The model repository over HTTP: what is served, in what state, on which execution provider.</summary>
public static class ModelsEndpoints
{
    public static RouteGroupBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/v1/models").WithTags("Models");

        api.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("List the models")
            .WithDescription("Every folder of the models directory, in name order: status (ready, loading, failed with the reason), the execution provider in use (CUDA or CPU), the manifest and the ONNX signature.");

        api.MapGet("/{name}", GetModel)
            .WithName("GetModel")
            .WithSummary("Describe one model")
            .WithDescription("The model's status, execution provider, manifest (input preprocessing, output kind, classes and colours, batching, source and licence) and the input/output tensors declared by its ONNX file.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/{name}/stats", GetQueueStatistics)
            .WithName("GetQueueStatistics")
            .WithSummary("The model's queue: outcomes and batch-size distribution")
            .WithDescription("Since the service started: requests by outcome (ok, rejected, expired, cancelled, failed), model runs by batch size, mean batch size, mean queue wait and run time; and the queue depth now. The same figures are exported as metrics on the SegServe.Inference meter.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return api;
    }

    /// <summary>Lists the models.</summary>
    public static Ok<ModelList> ListModels(ModelRepository repository)
    {
        var models = new List<ModelDescription>(repository.Models.Count);
        foreach (SegmentationModel model in repository.Models)
        {
            models.Add(model.ToDescription());
        }

        return TypedResults.Ok(new ModelList(models));
    }

    /// <summary>Describes one model.</summary>
    /// <param name="name">The model's name (its folder).</param>
    /// <param name="repository">The model repository.</param>
    public static Results<Ok<ModelDescription>, ProblemHttpResult> GetModel(string name, ModelRepository repository) =>
        repository.TryGet(name, out SegmentationModel? model)
            ? TypedResults.Ok(model.ToDescription())
            : ProblemResults.ModelNotFound(name);

    /// <summary>The model's queue statistics.</summary>
    /// <param name="name">The model's name.</param>
    /// <param name="repository">The model repository.</param>
    public static Results<Ok<QueueStatisticsResponse>, ProblemHttpResult> GetQueueStatistics(string name, ModelRepository repository)
    {
        if (!repository.TryGet(name, out SegmentationModel? model))
        {
            return ProblemResults.ModelNotFound(name);
        }

        if (model.Batcher is not { } batcher)
        {
            return ProblemResults.Create(StatusCodes.Status503ServiceUnavailable, "Model unavailable", $"Model '{name}' has no queue: it is {ContractMapping.EnumText(model.Status)}.", ProblemTypes.ModelUnavailable);
        }

        QueueStatistics statistics = batcher.Statistics();
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        long runs = 0;
        long items = 0;
        for (int size = 1; size < statistics.BatchSizes.Count; size++)
        {
            long count = statistics.BatchSizes[size];
            if (count > 0)
            {
                sizes[size.ToString(System.Globalization.CultureInfo.InvariantCulture)] = count;
                runs += count;
                items += count * size;
            }
        }

        return TypedResults.Ok(new QueueStatisticsResponse(
            name,
            statistics.Depth,
            statistics.InFlightBatches,
            statistics.Outcomes,
            sizes,
            runs == 0 ? 0 : Math.Round((double)items / runs, 3),
            Math.Round(statistics.MeanQueueWaitMs, 3),
            Math.Round(statistics.MeanRunMs, 3)));
    }
}
