using System.ComponentModel.DataAnnotations;

namespace SegServe.Inference;

/// <summary>Engine settings, bound from the <c>Inference</c> configuration section.</summary>
public sealed class InferenceOptions
{
    public const string SectionName = "Inference";

    /// <summary>Folder with one sub-folder per model (<c>model.onnx</c> + <c>model.json</c>). Relative paths start at the content root.</summary>
    [Required]
    public string ModelsDirectory { get; set; } = "models";

    /// <summary><c>Auto</c> uses CUDA where it loads and falls back to CPU; <c>Cuda</c> fails a model that cannot use CUDA; <c>Cpu</c> never tries CUDA.</summary>
    public ExecutionProviderPreference ExecutionProvider { get; set; } = ExecutionProviderPreference.Auto;

    /// <summary>
    /// Refuse to start unless the CUDA provider loads, and never fall back to CPU (as <c>Cuda</c> does per model): for
    /// deployments where a CPU fallback would be an outage in disguise. Cannot be combined with <c>ExecutionProvider: Cpu</c>.
    /// </summary>
    public bool RequireGpu { get; set; }

    /// <summary>CUDA device ordinal.</summary>
    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    /// <summary>Settings of the CUDA execution provider.</summary>
    [Required]
    public CudaOptions Cuda { get; set; } = new();

    /// <summary>Threads inside one CPU model run. Two concurrent runs of one thread each use a 2-core machine best.</summary>
    [Range(1, 256)]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Run every model once with a blank image before it reports ready.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>Reload a model when its <c>model.json</c> or <c>model.onnx</c> changes on disk (as <c>POST /v1/models/{name}/reload</c> does).</summary>
    public bool WatchModels { get; set; }

    /// <summary>Limits on uploaded images.</summary>
    [Required]
    public ImageLimits Images { get; set; } = new();

    /// <summary>Request deadlines and per-model batching overrides.</summary>
    [Required]
    public QueueOptions Queue { get; set; } = new();

    /// <summary>Run timeouts and circuit breakers of the models.</summary>
    [Required]
    public Execution.ResilienceOptions Resilience { get; set; } = new();
}

/// <summary>Settings of the per-model queues.</summary>
public sealed class QueueOptions
{
    /// <summary>
    /// How long a request may take until its model run starts, in milliseconds (default 30 s). A request may ask for
    /// less with the <c>Request-Timeout-Ms</c> header, never for more.
    /// </summary>
    [Range(1, 3_600_000)]
    public int DefaultTimeoutMs { get; set; } = 30_000;

    /// <summary>Per-model overrides of the manifest's <c>batching</c> section, by model name.</summary>
    public Dictionary<string, BatchingOverride> Models { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Overrides of a manifest's batching settings; unset values keep the manifest's.</summary>
public sealed class BatchingOverride
{
    /// <summary>Largest batch (1 turns batching off).</summary>
    public int? MaxBatchSize { get; set; }

    /// <summary>How long the oldest request may wait for a fuller batch, in milliseconds.</summary>
    public double? MaxQueueDelayMs { get; set; }

    /// <summary>Requests that may wait; more are rejected with 429.</summary>
    public int? QueueCapacity { get; set; }

    /// <summary>Model runs in flight at once.</summary>
    public int? Instances { get; set; }
}

/// <summary>Settings of ONNX Runtime's CUDA execution provider.</summary>
public sealed class CudaOptions
{
    /// <summary>How the device memory arena grows: <c>NextPowerOfTwo</c> (fewer allocations) or <c>SameAsRequested</c> (less waste).</summary>
    public CudaArenaExtendStrategy ArenaExtendStrategy { get; set; } = CudaArenaExtendStrategy.NextPowerOfTwo;

    /// <summary>
    /// How cuDNN picks convolution algorithms: <c>Exhaustive</c> (benchmarks them on the first run of each shape — the
    /// warm-up at every batch size pays for it), <c>Heuristic</c> or <c>Default</c>.
    /// </summary>
    public CudnnConvAlgoSearch CudnnConvAlgoSearch { get; set; } = CudnnConvAlgoSearch.Exhaustive;

    /// <summary>Upper bound of the arena in bytes; 0 for no limit.</summary>
    [Range(0, long.MaxValue)]
    public long MemoryLimitBytes { get; set; }
}

/// <summary>How the CUDA memory arena grows.</summary>
public enum CudaArenaExtendStrategy
{
    /// <summary>Double the arena when it runs out.</summary>
    NextPowerOfTwo,

    /// <summary>Grow by exactly what was asked.</summary>
    SameAsRequested,
}

/// <summary>cuDNN convolution algorithm search.</summary>
public enum CudnnConvAlgoSearch
{
    /// <summary>Benchmark every algorithm once per shape.</summary>
    Exhaustive,

    /// <summary>cuDNN's heuristics, no benchmarking.</summary>
    Heuristic,

    /// <summary>The default algorithm.</summary>
    Default,
}

/// <summary>Which ONNX Runtime execution provider to use.</summary>
public enum ExecutionProviderPreference
{
    /// <summary>CUDA when its libraries load, otherwise CPU (the reason is reported).</summary>
    Auto,

    /// <summary>CUDA only: a model that cannot use it is marked failed.</summary>
    Cuda,

    /// <summary>CPU only.</summary>
    Cpu,
}

/// <summary>Limits checked before an upload is fully decoded.</summary>
public sealed class ImageLimits
{
    /// <summary>Largest accepted upload, in bytes (default 32 MiB, at most 1 GiB).</summary>
    [Range(1, 1L << 30)]
    public long MaxBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Largest accepted image, in pixels (width × height; default 40 megapixels).</summary>
    [Range(1, long.MaxValue)]
    public long MaxPixels { get; set; } = 40_000_000;

    /// <summary>
    /// The formats accepted (sniffed from the bytes, whatever the file is called); null for
    /// <see cref="Imaging.ImageFormats.DefaultAccepted"/> (JPEG, PNG, WebP). GIF, TIFF, BMP, TGA and PBM are opt-in.
    /// Validated on start: an unknown name stops the service.
    /// </summary>
    public IList<string>? Formats { get; set; }

    /// <summary>Longest side over shortest side (default 64), checked from the header → 422 beyond.</summary>
    [Range(1, 1_000_000)]
    public int MaxAspectRatio { get; set; } = 64;

    /// <summary>How long decoding one image may take, in milliseconds (default 5 s) → 422 beyond.</summary>
    [Range(1, 600_000)]
    public int MaxDecodeMilliseconds { get; set; } = 5_000;

    /// <summary>
    /// Bytes that the images being decoded, or still held by their requests, may take together (default 896 MiB; at least
    /// one image of <see cref="MaxPixels"/> at the decoders' worst case). A request that does not fit waits
    /// <see cref="AdmissionWaitMilliseconds"/>, then gets 429.
    /// </summary>
    [Range(1, long.MaxValue)]
    public long MaxDecodedBytesInFlight { get; set; } = 896L << 20;

    /// <summary>How long a request waits for room in <see cref="MaxDecodedBytesInFlight"/>, in milliseconds (default 50).</summary>
    [Range(0, 60_000)]
    public int AdmissionWaitMilliseconds { get; set; } = 50;

    /// <summary>
    /// Most pixel memory ImageSharp keeps pooled between requests, in MiB (default 32). ImageSharp's own default is an
    /// eighth of the machine's memory, which a burst of large images then holds for good.
    /// </summary>
    [Range(0, 65_536)]
    public int PoolMegabytes { get; set; } = Imaging.ImagingMemory.DefaultPoolMegabytes;
}
