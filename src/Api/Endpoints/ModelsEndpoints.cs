using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Problems;
using SegServe.Contracts;
using SegServe.Inference.Models;

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
        repository.TryGet(name, out SegmentationModel model)
            ? TypedResults.Ok(model.ToDescription())
            : ProblemResults.ModelNotFound(name);
}
