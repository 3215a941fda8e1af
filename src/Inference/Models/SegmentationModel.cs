using SegServe.Inference.Execution;
using SegServe.Inference.Instances;
using SegServe.Inference.Preprocessing;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.Models;

/// <summary>
/// One model of the repository: its name and folder from the start, then — once opened — its manifest, the tensors it
/// is fed and read by, its ONNX Runtime session (<see cref="ModelSession"/>) and its queue. What it is doing now is
/// <see cref="State"/>; a model that failed keeps its reason and serves nothing.
/// </summary>
public sealed class SegmentationModel : IDisposable
{
    // One immutable snapshot, swapped whole: readers on request threads see a consistent status and progress while the
    // loader moves the model along.
    private volatile ModelState _state = ModelState.Queued;
    private int _leases;

    private SegmentationModel(string name, string directory)
    {
        Name = name;
        Directory = directory;
    }

    public string Name { get; }

    /// <summary>Folder holding <c>model.onnx</c> and <c>model.json</c>.</summary>
    public string Directory { get; }

    /// <summary>What the model is doing now.</summary>
    public ModelState State => _state;

    public ModelStatus Status => _state.Status;

    public string? FailureReason => _state.FailureReason;

    /// <summary>The failure as it happened, paths included: for the log, never for clients.</summary>
    public string? FailureDetail { get; private set; }

    /// <summary>The manifest; null until it has been read, or when it could not be.</summary>
    public ModelManifest? Manifest { get; private set; }

    /// <summary>The execution provider in use; null before a session exists.</summary>
    public ExecutionProviderChoice? Provider { get; private set; }

    /// <summary>The image input the service feeds.</summary>
    public TensorInfo? Input { get; private set; }

    /// <summary>The main output the service decodes.</summary>
    public TensorInfo? Output { get; private set; }

    /// <summary>Every graph input (without initialisers).</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; private set; } = [];

    /// <summary>Every graph output.</summary>
    public IReadOnlyList<TensorInfo> Outputs { get; private set; } = [];

    /// <summary>The ONNX Runtime session; null before the model is opened and after it failed.</summary>
    public ModelSession? Session { get; private set; }

    public ImagePreprocessor? Preprocessor { get; private set; }

    /// <summary>False for graphs that take one <c>[3, H, W]</c> image without a batch axis.</summary>
    public bool HasBatchAxis => Session?.HasBatchAxis ?? true;

    /// <summary>Number of classes the model predicts.</summary>
    public int ClassCount => Manifest?.Classes.Count ?? 0;

    /// <summary>The class names by id (built once).</summary>
    public IReadOnlyList<string> ClassNames { get; private set; } = [];

    /// <summary>For instance models, how their outputs are read; null for semantic models.</summary>
    public InstanceFamily? InstanceFamily { get; private set; }

    /// <summary>True when the input's batch axis is dynamic, so that several images can share a run.</summary>
    public bool SupportsBatching { get; private set; }

    /// <summary>The queue's settings in force (the manifest's, with configured overrides; batch size 1 without a batch axis).</summary>
    public BatchingSettings? Batching { get; private set; }

    /// <summary>The model's dynamic batcher, once the model is ready.</summary>
    public DynamicBatcher? Batcher { get; private set; }

    /// <summary>The run timeout and circuit breaker in force.</summary>
    public ResilienceSettings? Resilience { get; private set; }

    /// <summary>The model's runs behind their timeout and circuit breaker, once the model is ready.</summary>
    public ResilientRunner? Runner { get; private set; }

    /// <summary>A model folder found in the models directory, not opened yet.</summary>
    public static SegmentationModel Discover(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return new SegmentationModel(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), directory);
    }

    /// <summary>Opens and checks the folder (manifest, ONNX session, signature). Never throws for a bad model: it is then <see cref="ModelStatus.Failed"/>.</summary>
    public void Open(InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _state = _state with { Stage = ModelLoadStage.Opening };
        try
        {
            Manifest = ModelOpener.ReadManifest(Name, Directory);
            OpenedModel opened = ModelOpener.Open(Directory, Manifest, options);
            Manifest = opened.Manifest;
            Provider = opened.Provider;
            Input = opened.Input;
            Output = opened.Decoded[0];
            Inputs = opened.Inputs;
            Outputs = opened.Outputs;
            Preprocessor = new ImagePreprocessor(opened.Manifest.Input);
            bool hasBatchAxis = opened.Input.Rank == 4;
            string modelPath = Path.Combine(Directory, "model.onnx");
            Session = new ModelSession(
                Name,
                opened.Session,
                opened.Input.Name,
                [.. opened.Decoded.Select(o => o.Name)],
                hasBatchAxis,
                reopen: () => SessionFactory.Create(modelPath, options).Session);
            ClassNames = [.. opened.Manifest.Classes.Select(c => c.Name)];
            if (opened.Manifest.Task == SegmentationTask.Instance && InstanceFamilies.TryParse(opened.Manifest.Family, out InstanceFamily family))
            {
                InstanceFamily = family;
            }

            // A batch axis fixed in the file (e.g. exported with N = 1) cannot take batches.
            SupportsBatching = hasBatchAxis && opened.Input.Dimensions[0] < 0;
            Batching = SettingsFrom(opened.Manifest.Batching);
            ApplyBatchingOverride(options.Queue.Models.GetValueOrDefault(Name));
            Resilience = ResilienceSettings.For(options.Resilience, opened.Manifest.Resilience, options.Resilience.Models.GetValueOrDefault(Name));
            if (Resilience.Problems() is { Count: > 0 } problems)
            {
                throw new ModelLoadException("Resilience settings (manifest or configuration): " + string.Join(" ", problems));
            }
        }
        catch (ModelLoadException ex)
        {
            Fail(ex.Message);
        }
    }

    /// <summary>Records warm-up progress: <paramref name="completed"/> of <paramref name="total"/> runs done.</summary>
    public void ReportWarmUp(int completed, int total)
    {
        if (_state.Status == ModelStatus.Loading)
        {
            _state = _state with { Stage = ModelLoadStage.WarmingUp, WarmUpRunsCompleted = completed, WarmUpRuns = total };
        }
    }

    /// <summary>Marks a loading model ready and starts its queue.</summary>
    public void MarkReady(TimeProvider timeProvider, InferenceMetrics? metrics)
    {
        if (_state.Status != ModelStatus.Loading || Session is null)
        {
            return;
        }

        // The queue exists before the status says ready: a request that sees Ready always finds it.
        Runner = new ResilientRunner(Name, Session, Resilience!, timeProvider);
        Batcher = new DynamicBatcher(Name, Runner, Batching!, timeProvider, metrics);
        _state = _state with { Status = ModelStatus.Ready, Stage = ModelLoadStage.Done };
    }

    /// <summary>Fails the model with a reason that is shown to users (file-system paths are removed from it).</summary>
    public void Fail(string reason)
    {
        FailureDetail = reason;
        _state = ModelState.Failed(PathRedaction.Redact(reason));
        Batcher?.Dispose();
        Batcher = null;
        Session?.Dispose();
        Session = null;
    }

    /// <summary>Requests holding the model now (see <see cref="Lease"/>).</summary>
    public int Leases => Volatile.Read(ref _leases);

    /// <summary>
    /// Marks the model as in use by one request, from the moment the request resolves it until the lease is disposed:
    /// a model replaced by a reload is released only when no request holds it, so a request that found the old version
    /// is served by it even if it reaches the queue after the swap.
    /// </summary>
    public IDisposable Lease()
    {
        Interlocked.Increment(ref _leases);
        return new ModelLease(this);
    }

    /// <summary>Shape of the input tensor for <paramref name="batchSize"/> images of <paramref name="geometry"/>.</summary>
    public long[] InputShape(InputGeometry geometry, int batchSize)
    {
        bool nchw = Manifest!.Input.Layout == TensorLayout.Nchw;
        long[] image = nchw
            ? [3, geometry.InputHeight, geometry.InputWidth]
            : [geometry.InputHeight, geometry.InputWidth, 3];
        return HasBatchAxis ? [batchSize, .. image] : image;
    }

    public void Dispose()
    {
        Batcher?.Dispose();
        Session?.Dispose();
    }

    /// <summary>Applies configured batching overrides; invalid values fail the model with the reason.</summary>
    private void ApplyBatchingOverride(BatchingOverride? settings)
    {
        if (settings is null || Manifest is null)
        {
            return;
        }

        BatchingSpec spec = Manifest.Batching with
        {
            MaxBatchSize = settings.MaxBatchSize ?? Manifest.Batching.MaxBatchSize,
            MaxQueueDelayMs = settings.MaxQueueDelayMs ?? Manifest.Batching.MaxQueueDelayMs,
            QueueCapacity = settings.QueueCapacity ?? Manifest.Batching.QueueCapacity,
            Instances = settings.Instances ?? Manifest.Batching.Instances,
        };
        var problems = new List<string>();
        spec.Validate(problems);
        if (problems.Count > 0)
        {
            throw new ModelLoadException("Configured batching override: " + string.Join(" ", problems));
        }

        Batching = SettingsFrom(spec);
    }

    private sealed class ModelLease(SegmentationModel model) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Decrement(ref model._leases);
            }
        }
    }

    private BatchingSettings SettingsFrom(BatchingSpec spec) => new(
        SupportsBatching ? spec.MaxBatchSize : 1,
        TimeSpan.FromMilliseconds(spec.MaxQueueDelayMs),
        spec.QueueCapacity,
        spec.Instances);
}
