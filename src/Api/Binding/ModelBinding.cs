using Microsoft.AspNetCore.Http.Features;
using SegServe.Api.Problems;
using SegServe.Inference.Models;

namespace SegServe.Api.Binding;

/// <summary>Finds a model by name, once per request; the exceptions become 404 and 503 problems.</summary>
public static class ModelResolution
{
    /// <summary>The model of that name, in whatever state.</summary>
    /// <exception cref="ModelNotFoundException">No model has that name.</exception>
    public static SegmentationModel Find(IModelRegistry registry, string name)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry.TryGet(name, out SegmentationModel? model) ? model : throw new ModelNotFoundException(name);
    }

    /// <summary>The model of that name, if it is ready to serve.</summary>
    /// <exception cref="ModelNotFoundException">No model has that name.</exception>
    /// <exception cref="ModelUnavailableException">It is still loading (retry later) or it failed to load.</exception>
    /// <exception cref="Inference.Execution.ModelSuspendedException">Its circuit is open after repeated run failures.</exception>
    /// <param name="registry">The models.</param>
    /// <param name="name">The model's name.</param>
    /// <param name="user">The request that will use the model: it holds the model until it ends (a reload waits for it).</param>
    public static SegmentationModel Ready(IModelRegistry registry, string name, HttpContext? user = null)
    {
        SegmentationModel model = Find(registry, name);
        TagMetrics(user, name);
        ModelState state = model.State;
        if (state.Status != ModelStatus.Ready)
        {
            throw new ModelUnavailableException(name, state);
        }

        // An open circuit refuses at once: nothing of the request is read, decoded or queued.
        model.Runner?.ThrowIfSuspended();
        user?.Response.RegisterForDispose(model.Lease());
        return model;
    }

    /// <summary>
    /// Tags the request's <c>http.server.request.duration</c> with the model (only a model that exists: the route's
    /// value alone would let callers invent tags).
    /// </summary>
    internal static void TagMetrics(HttpContext? context, string name) =>
        context?.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(new KeyValuePair<string, object?>("model", name));

    /// <summary>The name in the route's <c>{name}</c>, looked up in the request's registry.</summary>
    internal static (IModelRegistry Registry, string Name) FromRoute(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.RouteValues.TryGetValue("name", out object? value) && value is string name
            ? (context.RequestServices.GetRequiredService<IModelRegistry>(), name)
            : throw new InvalidOperationException("The route has no {name} segment.");
    }
}

/// <summary>
/// The ready model named by the route's <c>{name}</c>: resolved and checked once, while the request is bound, so that
/// a handler receives a model that can serve (or the request ends as 404 or 503 before anything is read).
/// </summary>
public sealed class ReadyModel(SegmentationModel model)
{
    public SegmentationModel Model { get; } = model;

    public static ValueTask<ReadyModel?> BindAsync(HttpContext context)
    {
        (IModelRegistry registry, string name) = ModelResolution.FromRoute(context);
        return ValueTask.FromResult<ReadyModel?>(new ReadyModel(ModelResolution.Ready(registry, name, context)));
    }
}

/// <summary>The model named by the route's <c>{name}</c>, in whatever state (for describing it).</summary>
public sealed class KnownModel(SegmentationModel model)
{
    public SegmentationModel Model { get; } = model;

    public static ValueTask<KnownModel?> BindAsync(HttpContext context)
    {
        (IModelRegistry registry, string name) = ModelResolution.FromRoute(context);
        SegmentationModel model = ModelResolution.Find(registry, name);
        ModelResolution.TagMetrics(context, name);
        return ValueTask.FromResult<KnownModel?>(new KnownModel(model));
    }
}
