using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegServe.Inference.Execution;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.Models;

/// <summary>
/// The models folder: one sub-folder per model. <see cref="Discover"/> lists the folders at once (every model is then
/// <see cref="ModelStatus.Loading"/>, visible to clients); <see cref="LoadAsync"/> opens and warms them one at a time,
/// in name order, while the host already serves. A model that fails is kept with its reason so that it can be
/// reported, and the others still serve.
/// </summary>
public sealed partial class ModelRepository : IModelRegistry, IDisposable
{
    private readonly InferenceOptions _options;
    private readonly ILogger<ModelRepository> _logger;
    private readonly string _root;
    private readonly TimeProvider _time;
    private readonly InferenceMetrics? _metrics;
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _discovery = new();
    // Replaced whole (copy on write) when a model is reloaded: readers never see a dictionary being changed.
    private volatile SortedDictionary<string, SegmentationModel>? _models;
    private readonly SemaphoreSlim _reloading = new(1, 1);

    public ModelRepository(
        IOptions<InferenceOptions> options,
        ILogger<ModelRepository> logger,
        string? contentRoot = null,
        TimeProvider? timeProvider = null,
        InferenceMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        _root = Path.GetFullPath(_options.ModelsDirectory, contentRoot ?? AppContext.BaseDirectory);
        _time = timeProvider ?? TimeProvider.System;
        _metrics = metrics;
        _metrics?.ObserveModels(() => Models);
    }

    /// <summary>Absolute path of the models folder (for logs; never shown to clients).</summary>
    public string Root => _root;

    /// <summary>True once every model has finished loading (ready or failed).</summary>
    public bool IsLoaded => _loaded.Task.IsCompleted;

    /// <summary>Completes when every model has finished loading.</summary>
    public Task Loaded => _loaded.Task;

    /// <summary>Every model, in name order; empty before <see cref="Discover"/>.</summary>
    public IReadOnlyCollection<SegmentationModel> Models => (IReadOnlyCollection<SegmentationModel>?)_models?.Values ?? [];

    /// <summary>Lists the model folders; each model is then loading. Cheap, and safe to call more than once.</summary>
    public void Discover()
    {
        lock (_discovery)
        {
            if (_models is not null)
            {
                return;
            }

            var models = new SortedDictionary<string, SegmentationModel>(StringComparer.Ordinal);
            if (Directory.Exists(_root))
            {
                foreach (string directory in Directory.EnumerateDirectories(_root))
                {
                    SegmentationModel model = SegmentationModel.Discover(directory);
                    models[model.Name] = model;
                }
            }
            else
            {
                LogNoModelsFolder(_root);
            }

            _models = models;
        }
    }

    /// <summary>
    /// Opens and warms up every discovered model, one at a time. Cancellation (the host stopping) leaves the models
    /// not reached in their loading state.
    /// </summary>
    public async Task LoadAsync(IModelLoadObserver? observer = null, CancellationToken cancellationToken = default)
    {
        Discover();
        try
        {
            foreach (SegmentationModel model in _models!.Values)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long started = _time.GetTimestamp();
                model.Open(_options);
                if (_options.WarmUp)
                {
                    await ModelWarmUp.RunAsync(model, observer, cancellationToken).ConfigureAwait(false);
                }

                model.MarkReady(_time, _metrics);
                if (model.Status == ModelStatus.Failed)
                {
                    LogModelFailed(model.Name, model.FailureDetail);
                }
                else
                {
                    LogModelReady(model.Name, model.Provider?.Name, model.Provider?.Detail, model.Input?.ShapeText(), model.Output?.ShapeText(), _time.GetElapsedTime(started).TotalMilliseconds);
                }
            }

            _loaded.TrySetResult();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _loaded.TrySetCanceled(cancellationToken);
            throw;
        }
        catch (Exception ex)
        {
            _loaded.TrySetException(ex);
            throw;
        }
    }

    /// <summary>Discovers, opens and warms up every model before returning (tools and benchmarks).</summary>
    public void Load() => LoadAsync().GetAwaiter().GetResult();

    /// <summary>
    /// Loads a model's folder again — new manifest, new ONNX file — warms it up, and only if it is ready puts it in
    /// the old one's place: requests resolved from then on use the new version, those already queued on the old one
    /// are answered by it, and it is disposed once it has drained. A folder that fails to load leaves the old version
    /// serving, and the result says why. A folder that appeared since the start is loaded as a new model.
    /// </summary>
    /// <returns>The model now serving under that name and, when the reload failed, why; null when there is no such folder.</returns>
    public async Task<ModelReload?> ReloadAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Discover();
        string directory = Path.Combine(_root, name);
        if (name.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name is "." or ".." || !Directory.Exists(directory))
        {
            return null;
        }

        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            SegmentationModel fresh = SegmentationModel.Discover(directory);
            fresh.Open(_options);
            if (_options.WarmUp)
            {
                await ModelWarmUp.RunAsync(fresh, null, cancellationToken).ConfigureAwait(false);
            }

            fresh.MarkReady(_time, _metrics);
            _models!.TryGetValue(name, out SegmentationModel? old);
            if (fresh.Status != ModelStatus.Ready && old is not null)
            {
                LogReloadFailed(name, fresh.FailureDetail);
                string reason = fresh.FailureReason ?? "it did not become ready.";
                fresh.Dispose();
                return new ModelReload(old, reason);
            }

            // A folder new since the start is added as it loaded, failed or not (as at start).
            _models = new SortedDictionary<string, SegmentationModel>(_models, StringComparer.Ordinal) { [name] = fresh };
            LogReloaded(name, fresh.Provider?.Name);
            if (old is not null)
            {
                _ = DrainAsync(old);
            }

            return new ModelReload(fresh, fresh.FailureReason);
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>Lets a replaced model answer what it has queued, then releases its session.</summary>
    private async Task DrainAsync(SegmentationModel old)
    {
        DateTimeOffset giveUp = _time.GetUtcNow() + TimeSpan.FromMilliseconds(_options.Queue.DefaultTimeoutMs);
        while ((old.Leases > 0 || (old.Batcher is { } batcher && (batcher.Depth > 0 || batcher.Statistics().InFlightBatches > 0))) && _time.GetUtcNow() < giveUp)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time).ConfigureAwait(false);
        }

        old.Dispose();
    }

    public bool TryGet(string name, [MaybeNullWhen(false)] out SegmentationModel model)
    {
        if (_models is { } models)
        {
            return models.TryGetValue(name, out model);
        }

        model = null;
        return false;
    }

    public void Dispose()
    {
        foreach (SegmentationModel model in Models)
        {
            model.Dispose();
        }

        _reloading.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} reloaded; it runs on {Provider}.")]
    private partial void LogReloaded(string model, string? provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model} could not be reloaded; the version loaded before keeps serving: {Reason}")]
    private partial void LogReloadFailed(string model, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Models folder {Root} does not exist: no models are served.")]
    private partial void LogNoModelsFolder(string root);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model} failed to load: {Reason}")]
    private partial void LogModelFailed(string model, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} ready on {Provider} ({Note}); input {Input}, output {Output}; loaded in {Milliseconds:0} ms.")]
    private partial void LogModelReady(string model, string? provider, string? note, string? input, string? output, double milliseconds);
}
