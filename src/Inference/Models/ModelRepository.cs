using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.Models;

/// <summary>
/// The models folder: one sub-folder per model. Every folder is opened at start; a model that fails is kept with its
/// reason so that it can be reported, and the others still serve.
/// </summary>
public sealed partial class ModelRepository : IDisposable
{
    private readonly InferenceOptions _options;
    private readonly ILogger<ModelRepository> _logger;
    private readonly string _root;
    private readonly TimeProvider _time;
    private readonly InferenceMetrics? _metrics;
    private IReadOnlyDictionary<string, SegmentationModel> _models = new Dictionary<string, SegmentationModel>();

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
    }

    /// <summary>Absolute path of the models folder.</summary>
    public string Root => _root;

    /// <summary>True once <see cref="Load"/> has finished.</summary>
    public bool IsLoaded { get; private set; }

    /// <summary>Every model, loaded or failed, by name.</summary>
    public IReadOnlyCollection<SegmentationModel> Models => (IReadOnlyCollection<SegmentationModel>)_models.Values;

    /// <summary>Opens every model folder, then warms the loaded ones up. Safe to call once.</summary>
    public void Load()
    {
        var models = new SortedDictionary<string, SegmentationModel>(StringComparer.Ordinal);
        if (!Directory.Exists(_root))
        {
            LogNoModelsFolder(_root);
            _models = models;
            IsLoaded = true;
            return;
        }

        foreach (string directory in Directory.EnumerateDirectories(_root))
        {
            SegmentationModel model = SegmentationModel.Open(directory, _options);
            model.ApplyBatchingOverride(_options.Queue.Models.GetValueOrDefault(model.Name));
            if (model.Status != ModelStatus.Failed)
            {
                if (_options.WarmUp)
                {
                    model.WarmUp();
                }
                else
                {
                    model.MarkReady();
                }

                model.StartBatcher(_time, _metrics);
            }

            models[model.Name] = model;
            if (model.Status == ModelStatus.Failed)
            {
                LogModelFailed(model.Name, model.FailureReason);
            }
            else
            {
                LogModelReady(model.Name, model.Provider?.Name, model.Provider?.Note, model.Input?.ShapeText(), model.Output?.ShapeText());
            }
        }

        _models = models;
        IsLoaded = true;
    }

    public bool TryGet(string name, out SegmentationModel model) => _models.TryGetValue(name, out model!);

    public void Dispose()
    {
        foreach (SegmentationModel model in _models.Values)
        {
            model.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Models folder {Root} does not exist: no models are served.")]
    private partial void LogNoModelsFolder(string root);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model} failed to load: {Reason}")]
    private partial void LogModelFailed(string model, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} ready on {Provider} ({Note}); input {Input}, output {Output}.")]
    private partial void LogModelReady(string model, string? provider, string? note, string? input, string? output);
}
