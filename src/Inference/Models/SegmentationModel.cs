using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Decoding;
using SegServe.Inference.Execution;
using SegServe.Inference.Preprocessing;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.Models;

/// <summary>
/// One model of the repository: its manifest, its ONNX Runtime session (created once, shared by all requests —
/// <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// is thread-safe), and its status. A model that failed keeps its reason and serves nothing.
/// </summary>
public sealed class SegmentationModel : IBatchRunner, IDisposable
{
    private static readonly RunOptions s_runOptions = new();

    private readonly InferenceSession? _session;
    private readonly string[] _inputNames = [];
    private readonly string[] _outputNames = [];

    private SegmentationModel(string name, string directory, ModelManifest? manifest, string failureReason)
    {
        Name = name;
        Directory = directory;
        Manifest = manifest;
        Status = ModelStatus.Failed;
        FailureReason = failureReason;
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
        IReadOnlyList<TensorInfo> outputs,
        IReadOnlyList<TensorInfo> decoded)
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
        _outputNames = [.. decoded.Select(o => o.Name)];
        if (manifest.Task == SegmentationTask.Instance && Instances.InstanceFamilies.TryParse(manifest.Family, out Instances.InstanceFamily family))
        {
            InstanceFamily = family;
        }
        // A batch axis fixed in the file (e.g. exported with N = 1) cannot take batches.
        SupportsBatching = HasBatchAxis && input.Dimensions[0] < 0;
        Batching = SettingsFrom(manifest.Batching);
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

    /// <summary>For instance models, how their outputs are read; null for semantic models.</summary>
    public Instances.InstanceFamily? InstanceFamily { get; }

    /// <summary>True when the input's batch axis is dynamic, so that several images can share a run.</summary>
    public bool SupportsBatching { get; }

    /// <summary>The queue's settings in force (the manifest's, with configured overrides; batch size 1 without a batch axis).</summary>
    public BatchingSettings? Batching { get; private set; }

    /// <summary>The model's dynamic batcher, once the model is ready.</summary>
    public DynamicBatcher? Batcher { get; private set; }

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
                if (manifest.Task == SegmentationTask.Instance)
                {
                    if (manifest.Classes.Count == 0)
                    {
                        // Ultralytics writes the class names into the ONNX metadata ("names": "{0: 'person', …}").
                        manifest = manifest with { Classes = ClassNamesFromMetadata(session) };
                    }

                    // Validate() has checked the family.
                    _ = Instances.InstanceFamilies.TryParse(manifest.Family, out Instances.InstanceFamily family);
                    List<TensorInfo> selected = Instances.InstanceFamilies.SelectOutputs(family, outputs);
                    return new SegmentationModel(name, directory, manifest, session, provider, input, selected[0], inputs, outputs, selected);
                }

                TensorInfo output = SignatureCheck.SelectOutput(manifest, outputs);
                return new SegmentationModel(name, directory, manifest, session, provider, input, output, inputs, outputs, [output]);
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

    /// <summary>The classes of an Ultralytics export, from its metadata's <c>names</c> (a Python dict literal).</summary>
    /// <exception cref="ModelLoadException">The metadata has no readable names.</exception>
    private static List<ClassSpec> ClassNamesFromMetadata(InferenceSession session)
    {
        if (!session.ModelMetadata.CustomMetadataMap.TryGetValue("names", out string? names) || string.IsNullOrWhiteSpace(names))
        {
            throw new ModelLoadException("model.json lists no classes and the ONNX metadata has no 'names': list the classes in model.json.");
        }

        var classes = new List<ClassSpec>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(names, @"(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|""((?:[^""\\]|\\.)*)"")"))
        {
            int id = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            string name = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
            if (id != classes.Count)
            {
                throw new ModelLoadException($"The ONNX metadata's names are not numbered 0, 1, 2, … (found {id} after {classes.Count - 1}).");
            }

            classes.Add(new ClassSpec { Id = id, Name = name });
        }

        return classes.Count > 0 ? classes : throw new ModelLoadException($"The ONNX metadata's names '{names[..Math.Min(80, names.Length)]}' could not be read.");
    }

    /// <summary>Applies configured batching overrides; invalid values fail the model with the reason.</summary>
    public void ApplyBatchingOverride(BatchingOverride? settings)
    {
        if (settings is null || Manifest is null || Status == ModelStatus.Failed)
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
            Fail("Configured batching override: " + string.Join(" ", problems));
            return;
        }

        Batching = SettingsFrom(spec);
    }

    /// <summary>Starts the model's queue; the model must be ready.</summary>
    public void StartBatcher(TimeProvider timeProvider, InferenceMetrics? metrics)
    {
        if (Status == ModelStatus.Ready && Batcher is null)
        {
            Batcher = new DynamicBatcher(Name, this, Batching!, timeProvider, metrics);
        }
    }

    /// <inheritdoc/>
    public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(itemShape);
        int count = inputs.Count;
        if (count < 1 || (!HasBatchAxis && count != 1))
        {
            throw new ArgumentException($"A batch of {count} cannot run on model '{Name}'.", nameof(inputs));
        }

        int perItem = 1;
        foreach (long d in itemShape)
        {
            perItem *= (int)d;
        }

        long[] shape = HasBatchAxis ? [count, .. itemShape] : itemShape;
        if (count == 1)
        {
            // A batch of one (the common case on CPU): the request's own tensor goes in, ONNX Runtime's output comes out.
            if (inputs[0].Length != perItem)
            {
                throw new ArgumentException($"Input 0 holds {inputs[0].Length} values, not {perItem}.", nameof(inputs));
            }

            IDisposableReadOnlyCollection<OrtValue> single = RunPinned(inputs[0], shape);
            try
            {
                long[] outputShape = single[0].GetTensorTypeAndShape().Shape;
                if (HasBatchAxis && (outputShape.Length == 0 || outputShape[0] != 1))
                {
                    throw new ModelOutputException($"The model's output has shape [{string.Join(',', outputShape)}] for a batch of 1.");
                }

                return [ModelOutput.Wrap(single, single[0], outputShape)];
            }
            catch
            {
                single.Dispose();
                throw;
            }
        }

        // One contiguous [N, …] tensor in a pooled buffer: each request's tensor copied into its slot.
        float[] batch = ArrayPool<float>.Shared.Rent(count * perItem);
        try
        {
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<float> input = inputs[i].Span;
                if (input.Length != perItem)
                {
                    throw new ArgumentException($"Input {i} holds {input.Length} values, not {perItem}.", nameof(inputs));
                }

                input.CopyTo(batch.AsSpan(i * perItem, perItem));
            }

            using IDisposableReadOnlyCollection<OrtValue> outputs = Run(batch.AsMemory(0, count * perItem), shape);
            return Split(outputs[0], count);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(batch);
        }
    }

    /// <summary>Runs the model on one batch; the single result is the main output (the caller disposes the collection).</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(Memory<float> input, long[] shape)
    {
        InferenceSession session = _session ?? throw new InvalidOperationException($"Model '{Name}' is not loaded.");
        using OrtValue inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, shape);
        return session.Run(s_runOptions, _inputNames, [inputValue], _outputNames);
    }

    /// <summary>Runs on read-only input memory (ONNX Runtime does not write its inputs).</summary>
    private IDisposableReadOnlyCollection<OrtValue> RunPinned(ReadOnlyMemory<float> input, long[] shape) =>
        Run(System.Runtime.InteropServices.MemoryMarshal.AsMemory(input), shape);

    /// <summary>Shape of the input tensor for <paramref name="batchSize"/> images of <paramref name="geometry"/>.</summary>
    public long[] InputShape(InputGeometry geometry, int batchSize)
    {
        bool nchw = Manifest!.Input.Layout == TensorLayout.Nchw;
        long[] image = nchw
            ? [3, geometry.InputHeight, geometry.InputWidth]
            : [geometry.InputHeight, geometry.InputWidth, 3];
        return HasBatchAxis ? [batchSize, .. image] : image;
    }

    /// <summary>
    /// Runs the model on a blank image at every batch size its queue can form (1 to the maximum), so that no request
    /// pays for a first run's allocations, and checks that the output matches the manifest.
    /// </summary>
    public void WarmUp()
    {
        if (Status != ModelStatus.Loading)
        {
            return;
        }

        int batchSize = 1;
        try
        {
            InputGeometry geometry = Preprocessor!.Plan(64, 48);
            var tensor = new float[ImagePreprocessor.TensorLength(geometry)];
            using (IDisposableReadOnlyCollection<OrtValue> outputs = Run(tensor, InputShape(geometry, 1)))
            {
                if (InstanceFamily is null)
                {
                    SignatureCheck.CheckRuntimeOutput(Manifest!, outputs[0].GetTensorTypeAndShape());
                }
            }

            long[] itemShape = InputShape(geometry, 1)[(HasBatchAxis ? 1 : 0)..];
            var inputs = new List<ReadOnlyMemory<float>>();
            for (batchSize = 1; batchSize <= Batching!.MaxBatchSize; batchSize++)
            {
                inputs.Add(tensor);
                foreach (ModelOutput output in RunBatch(inputs, itemShape))
                {
                    output.Dispose();
                }
            }

            Status = ModelStatus.Ready;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or ModelLoadException or ModelOutputException)
        {
            Fail($"Warm-up run failed (batch size {batchSize}): {ex.Message}");
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
        Batcher?.Dispose();
        _session?.Dispose();
    }

    private BatchingSettings SettingsFrom(BatchingSpec spec) => new(
        SupportsBatching ? spec.MaxBatchSize : 1,
        TimeSpan.FromMilliseconds(spec.MaxQueueDelayMs),
        spec.QueueCapacity,
        spec.Instances);

    /// <summary>Copies each image's slice of the batch's output into its own pooled buffer.</summary>
    private ModelOutput[] Split(OrtValue output, int count)
    {
        OrtTensorTypeAndShapeInfo info = output.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        if (HasBatchAxis && (shape.Length == 0 || shape[0] != count))
        {
            throw new ModelOutputException($"The model's output has shape [{string.Join(',', shape)}] for a batch of {count}.");
        }

        long[] itemShape = (long[])shape.Clone();
        if (HasBatchAxis)
        {
            itemShape[0] = 1;
        }

        int perItem = (int)(info.ElementCount / count);
        var results = new ModelOutput[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                results[i] = info.ElementDataType switch
                {
                    TensorElementType.Float => ModelOutput.Copy(output.GetTensorDataAsSpan<float>().Slice(i * perItem, perItem), TensorElementType.Float, itemShape),
                    TensorElementType.Int64 => ModelOutput.Copy(output.GetTensorDataAsSpan<long>().Slice(i * perItem, perItem), TensorElementType.Int64, itemShape),
                    TensorElementType.Int32 => ModelOutput.Copy(output.GetTensorDataAsSpan<int>().Slice(i * perItem, perItem), TensorElementType.Int32, itemShape),
                    _ => throw new ModelOutputException($"The model's output is {info.ElementDataType}; expected float32, int64 or int32."),
                };
            }
        }
        catch
        {
            foreach (ModelOutput? result in results)
            {
                result?.Dispose();
            }

            throw;
        }

        return results;
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
