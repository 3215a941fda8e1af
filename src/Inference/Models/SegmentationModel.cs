using Microsoft.ML.OnnxRuntime;
using SegServe.Inference.Execution;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.Models;

/// <summary>
/// One model of the repository: its manifest, its ONNX Runtime session (created once, shared by all requests —
/// <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// is thread-safe), and its status. A model that failed keeps its reason and serves nothing.
/// </summary>
public sealed class SegmentationModel : IDisposable
{
    private static readonly RunOptions s_runOptions = new();

    private readonly InferenceSession? _session;
    private readonly SemaphoreSlim _instances;
    private readonly string[] _inputNames = [];
    private readonly string[] _outputNames = [];

    private SegmentationModel(string name, string directory, ModelManifest? manifest, string failureReason)
    {
        Name = name;
        Directory = directory;
        Manifest = manifest;
        Status = ModelStatus.Failed;
        FailureReason = failureReason;
        _instances = new SemaphoreSlim(1, 1);
    }

    private SegmentationModel(
        string name,
        string directory,
        ModelManifest manifest,
        InferenceSession session,
        ExecutionProviderChoice provider,
        TensorInfo input,
        TensorInfo output,
        IReadOnlyList<TensorInfo> inputs,
        IReadOnlyList<TensorInfo> outputs)
    {
        Name = name;
        Directory = directory;
        Manifest = manifest;
        _session = session;
        Provider = provider;
        Input = input;
        Output = output;
        Inputs = inputs;
        Outputs = outputs;
        Status = ModelStatus.Loading;
        Preprocessor = new ImagePreprocessor(manifest.Input);
        HasBatchAxis = input.Rank == 4;
        _inputNames = [input.Name];
        _outputNames = [output.Name];
        _instances = new SemaphoreSlim(manifest.Batching.Instances, manifest.Batching.Instances);
    }

    public string Name { get; }

    /// <summary>Folder holding <c>model.onnx</c> and <c>model.json</c>.</summary>
    public string Directory { get; }

    /// <summary>The manifest; null when it could not be read.</summary>
    public ModelManifest? Manifest { get; }

    public ModelStatus Status { get; private set; }

    public string? FailureReason { get; private set; }

    /// <summary>The execution provider in use; null when the model failed before a session existed.</summary>
    public ExecutionProviderChoice? Provider { get; }

    /// <summary>The image input the service feeds.</summary>
    public TensorInfo? Input { get; }

    /// <summary>The main output the service decodes.</summary>
    public TensorInfo? Output { get; }

    /// <summary>Every graph input (without initialisers).</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; } = [];

    /// <summary>Every graph output.</summary>
    public IReadOnlyList<TensorInfo> Outputs { get; } = [];

    public ImagePreprocessor? Preprocessor { get; }

    /// <summary>False for graphs that take one <c>[3, H, W]</c> image without a batch axis.</summary>
    public bool HasBatchAxis { get; }

    /// <summary>Number of classes the model predicts.</summary>
    public int ClassCount => Manifest?.Classes.Count ?? 0;

    /// <summary>Gate on concurrent runs of this model (<c>batching.instances</c>).</summary>
    internal SemaphoreSlim Instances => _instances;

    /// <summary>Opens and checks a model folder. Never throws for a bad model: the result is then <see cref="ModelStatus.Failed"/>.</summary>
    public static SegmentationModel Open(string directory, InferenceOptions options)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        string manifestPath = Path.Combine(directory, "model.json");
        string modelPath = Path.Combine(directory, "model.onnx");
        ModelManifest? manifest = null;
        try
        {
            if (!File.Exists(manifestPath))
            {
                throw new ModelLoadException("model.json is missing.");
            }

            manifest = ModelManifest.Parse(File.ReadAllText(manifestPath));
            if (manifest.Name is not null && !string.Equals(manifest.Name, name, StringComparison.Ordinal))
            {
                throw new ModelLoadException($"model.json names the model '{manifest.Name}' but its folder is '{name}'.");
            }

            IReadOnlyList<string> problems = manifest.Validate();
            if (problems.Count > 0)
            {
                throw new ModelLoadException("model.json: " + string.Join(" ", problems));
            }

            if (!File.Exists(modelPath))
            {
                throw new ModelLoadException("model.onnx is missing.");
            }

            (InferenceSession session, ExecutionProviderChoice provider) = OpenSession(modelPath, options);
            try
            {
                IReadOnlyList<TensorInfo> inputs = Describe(session.InputMetadata);
                IReadOnlyList<TensorInfo> outputs = Describe(session.OutputMetadata);
                TensorInfo input = SignatureCheck.SelectInput(manifest, inputs);
                TensorInfo output = SignatureCheck.SelectOutput(manifest, outputs);
                return new SegmentationModel(name, directory, manifest, session, provider, input, output, inputs, outputs);
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }
        catch (ModelLoadException ex)
        {
            return new SegmentationModel(name, directory, manifest, ex.Message);
        }
    }

    /// <summary>Runs the model on one batch; the single result is the main output (the caller disposes the collection).</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(Memory<float> input, long[] shape)
    {
        InferenceSession session = _session ?? throw new InvalidOperationException($"Model '{Name}' is not loaded.");
        using OrtValue inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, shape);
        return session.Run(s_runOptions, _inputNames, [inputValue], _outputNames);
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

    /// <summary>Runs the model once on a blank image and checks that the output matches the manifest.</summary>
    public void WarmUp()
    {
        if (Status != ModelStatus.Loading)
        {
            return;
        }

        try
        {
            InputGeometry geometry = Preprocessor!.Plan(64, 48);
            var tensor = new float[ImagePreprocessor.TensorLength(geometry)];
            using IDisposableReadOnlyCollection<OrtValue> outputs = Run(tensor, InputShape(geometry, 1));
            SignatureCheck.CheckRuntimeOutput(Manifest!, outputs[0].GetTensorTypeAndShape());
            Status = ModelStatus.Ready;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or ModelLoadException)
        {
            Fail($"Warm-up run failed: {ex.Message}");
        }
    }

    /// <summary>Marks the model ready without a warm-up run.</summary>
    public void MarkReady()
    {
        if (Status == ModelStatus.Loading)
        {
            Status = ModelStatus.Ready;
        }
    }

    public void Dispose()
    {
        _session?.Dispose();
        _instances.Dispose();
    }

    private void Fail(string reason)
    {
        Status = ModelStatus.Failed;
        FailureReason = reason;
    }

    private static (InferenceSession, ExecutionProviderChoice) OpenSession(string modelPath, InferenceOptions options)
    {
        try
        {
            return SessionFactory.Create(modelPath, options);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException)
        {
            throw new ModelLoadException($"model.onnx could not be opened by ONNX Runtime: {ex.Message}", ex);
        }
    }

    private static List<TensorInfo> Describe(IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        var list = new List<TensorInfo>(metadata.Count);
        foreach (KeyValuePair<string, NodeMetadata> pair in metadata)
        {
            list.Add(TensorInfo.From(pair.Key, pair.Value));
        }

        return list;
    }
}
