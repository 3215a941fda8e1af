using System.Diagnostics.CodeAnalysis;

namespace SegServe.Inference.Models;

/// <summary>The models a host serves, by name: what request handling needs of the <see cref="ModelRepository"/>.</summary>
public interface IModelRegistry
{
    /// <summary>Every model found in the models folder — loading, ready or failed — in name order.</summary>
    public IReadOnlyCollection<SegmentationModel> Models { get; }

    /// <summary>The model of that name, in whatever state it is.</summary>
    public bool TryGet(string name, [MaybeNullWhen(false)] out SegmentationModel model);
}

/// <summary>
/// Watches models load. The repository calls it before each warm-up run, so a host can trace warm-up (and a test can
/// hold a model in its loading state for as long as it needs to observe it).
/// </summary>
public interface IModelLoadObserver
{
    /// <summary>Called before the warm-up run of <paramref name="model"/> at <paramref name="batchSize"/>.</summary>
    public ValueTask BeforeWarmUpRunAsync(SegmentationModel model, int batchSize, CancellationToken cancellationToken);
}
