namespace SegServe.Contracts;

/// <summary>The models the service knows, in name order.</summary>
/// <param name="Models">One entry per model directory, whether it loaded or not.</param>
public sealed record ModelList(IReadOnlyList<ModelDescription> Models);

/// <summary>A model of the repository: what it is, whether it can serve, and where it runs.</summary>
/// <param name="Name">The model's name: its directory under the models folder.</param>
/// <param name="Status"><c>ready</c>, <c>loading</c> or <c>failed</c>.</param>
/// <param name="FailureReason">Why the model failed to load; null unless <paramref name="Status"/> is <c>failed</c>.</param>
/// <param name="ExecutionProvider">The ONNX Runtime execution provider in use (<c>CUDA</c> or <c>CPU</c>); null when the model failed.</param>
/// <param name="ExecutionProviderNote">Why this provider was chosen, e.g. why CUDA could not be used.</param>
/// <param name="Task">Segmentation task: <c>semantic</c> (one class per pixel) or <c>instance</c>.</param>
/// <param name="Family">The model family named in the manifest (decides pre- and post-processing).</param>
/// <param name="Description">Free text from the manifest.</param>
/// <param name="Input">How images are turned into the input tensor.</param>
/// <param name="Output">How the output tensor is read.</param>
/// <param name="Classes">The classes the model predicts, with their overlay colours.</param>
/// <param name="Signature">The input and output tensors declared by the ONNX file; empty when it could not be read.</param>
/// <param name="Batching">Queue and batching settings.</param>
/// <param name="Source">Provenance and licence.</param>
/// <param name="Limitations">Known limitations stated by the manifest.</param>
/// <param name="Loading">While the model loads: how far it has got; null once it is ready or failed.</param>
/// <param name="Circuit">Once ready: the circuit breaker of its runs (open after repeated failures), and its run timeout.</param>
public sealed record ModelDescription(
    string Name,
    string Status,
    string? FailureReason,
    string? ExecutionProvider,
    string? ExecutionProviderNote,
    string? Task,
    string? Family,
    string? Description,
    ModelInputDescription? Input,
    ModelOutputDescription? Output,
    IReadOnlyList<ClassDescription> Classes,
    ModelSignature? Signature,
    BatchingDescription? Batching,
    IReadOnlyDictionary<string, string>? Source,
    IReadOnlyList<string> Limitations,
    ModelLoadProgress? Loading = null,
    ModelCircuit? Circuit = null);

/// <summary>The circuit breaker and timeout of a model's runs.</summary>
/// <param name="State"><c>closed</c> (serving), <c>open</c> (refusing requests with 503 model-suspended after repeated run failures) or <c>half-open</c> (a probe run is allowed).</param>
/// <param name="RetryAfterSeconds">While open: seconds until a probe run is allowed.</param>
/// <param name="LastFailure">Why the last failed run failed, if one has.</param>
/// <param name="RunTimeoutMs">Longest a run may take before it is stopped (503 model-timeout).</param>
public sealed record ModelCircuit(string State, double? RetryAfterSeconds, string? LastFailure, double RunTimeoutMs);

/// <summary>How far a loading model has got.</summary>
/// <param name="Stage"><c>queued</c> (waiting for the models before it), <c>opening</c> (creating the ONNX Runtime session) or <c>warming-up</c>.</param>
/// <param name="WarmUpRunsCompleted">Warm-up runs done (one check run, then one per batch size).</param>
/// <param name="WarmUpRuns">Warm-up runs in all; 0 until the model is opened.</param>
public sealed record ModelLoadProgress(string Stage, int WarmUpRunsCompleted, int WarmUpRuns);

/// <summary>Input preprocessing as the manifest declares it.</summary>
/// <param name="Name">Graph input name.</param>
/// <param name="Layout"><c>NCHW</c> or <c>NHWC</c>.</param>
/// <param name="Width">Network input width for fixed-size resize modes.</param>
/// <param name="Height">Network input height for fixed-size resize modes.</param>
/// <param name="Color">Channel order fed to the network: <c>RGB</c> or <c>BGR</c>.</param>
/// <param name="Scale">Multiplier applied to 0–255 pixel values before the mean is subtracted.</param>
/// <param name="Mean">Per-channel mean, in the network's channel order, on the scaled values.</param>
/// <param name="Std">Per-channel standard deviation, in the network's channel order.</param>
/// <param name="Resize"><c>stretch</c>, <c>letterbox</c>, <c>shorter-side</c> or <c>none</c>.</param>
/// <param name="Interpolation">Resampler used to resize the image: <c>bilinear</c>, <c>bicubic</c> or <c>nearest</c>.</param>
/// <param name="PadValue">Pixel value (0–255) of letterbox or alignment padding.</param>
/// <param name="PadToMultipleOf">Input sides are padded (bottom/right) up to a multiple of this.</param>
/// <param name="ShorterSide">Target of the shorter side for <c>shorter-side</c>.</param>
/// <param name="MaxLongerSide">Upper bound of the longer side for <c>shorter-side</c>.</param>
public sealed record ModelInputDescription(
    string Name,
    string Layout,
    int? Width,
    int? Height,
    string Color,
    double Scale,
    IReadOnlyList<double> Mean,
    IReadOnlyList<double> Std,
    string Resize,
    string Interpolation,
    int PadValue,
    int PadToMultipleOf,
    int? ShorterSide,
    int? MaxLongerSide);

/// <summary>How the main output is decoded.</summary>
/// <param name="Name">Graph output name.</param>
/// <param name="Kind"><c>logits</c>, <c>probabilities</c>, <c>sigmoid</c> or <c>class-indices</c>.</param>
/// <param name="Threshold">Foreground threshold for <c>sigmoid</c> outputs.</param>
public sealed record ModelOutputDescription(string Name, string Kind, double Threshold);

/// <summary>One class of a model.</summary>
/// <param name="Id">Class index as it appears in the class map.</param>
/// <param name="Name">Class name.</param>
/// <param name="Color">Overlay colour as <c>#rrggbb</c>.</param>
public sealed record ClassDescription(int Id, string Name, string Color);

/// <summary>Tensors declared by the ONNX graph.</summary>
/// <param name="Inputs">Graph inputs (initialisers that older exporters list as inputs are left out).</param>
/// <param name="Outputs">Graph outputs.</param>
public sealed record ModelSignature(IReadOnlyList<TensorDescription> Inputs, IReadOnlyList<TensorDescription> Outputs);

/// <summary>A tensor of the graph's signature.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="ElementType">Element type, e.g. <c>float32</c> or <c>int64</c>.</param>
/// <param name="Shape">Dimensions; symbolic or dynamic ones are given by name or as <c>?</c>.</param>
public sealed record TensorDescription(string Name, string ElementType, IReadOnlyList<string> Shape);

/// <summary>Batching settings of a model.</summary>
/// <param name="MaxBatchSize">Most images in one model run.</param>
/// <param name="MaxQueueDelayMs">Longest time the oldest queued image waits for a batch to fill.</param>
/// <param name="QueueCapacity">Most images waiting for this model; more are rejected with 429.</param>
/// <param name="Instances">Model runs in flight at once.</param>
public sealed record BatchingDescription(int MaxBatchSize, double MaxQueueDelayMs, int QueueCapacity, int Instances);
