using System.Text.Json;
using System.Text.Json.Serialization;
using SegServe.Inference.Rendering;

namespace SegServe.Inference.Models;

/// <summary>
/// The <c>model.json</c> beside a <c>model.onnx</c>: everything the service must know that the ONNX file does not say.
/// Nothing about normalisation is guessed from tensor shapes: the same shapes mean different preprocessing in
/// torchvision, SMP and mmseg exports.
/// </summary>
public sealed record ModelManifest
{
    public string? Name { get; init; }

    public string? Description { get; init; }

    public SegmentationTask Task { get; init; } = SegmentationTask.Semantic;

    public string Family { get; init; } = "generic";

    public InputSpec Input { get; init; } = new();

    public OutputSpec Output { get; init; } = new();

    public IReadOnlyList<ClassSpec> Classes { get; init; } = [];

    public BatchingSpec Batching { get; init; } = new();

    /// <summary>The model's own run timeout and circuit-breaker settings, over the service's defaults.</summary>
    public Execution.ResilienceOverride? Resilience { get; init; }

    public IReadOnlyDictionary<string, string>? Source { get; init; }

    public IReadOnlyList<string> Limitations { get; init; } = [];

    /// <summary>Options for reading manifests: camelCase, enums as kebab-case strings, comments allowed.</summary>
    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Reads a manifest; a JSON or schema error becomes a <see cref="ModelLoadException"/> naming the problem.</summary>
    public static ModelManifest Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelManifest>(json, SerializerOptions)
                ?? throw new ModelLoadException("model.json is empty (null).");
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"model.json is invalid: {ex.Message}", ex);
        }
    }

    /// <summary>Checks the manifest on its own (before the ONNX file is opened) and lists every problem found.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Input.Validate(problems);
        Output.Validate(problems);

        if (Task == SegmentationTask.Instance)
        {
            if (!Instances.InstanceFamilies.TryParse(Family, out Instances.InstanceFamily family))
            {
                problems.Add($"family '{Family}' is not an instance-segmentation family this version reads: use 'maskrcnn-torchvision', 'detectron2' or 'yolov8-seg'.");
            }
            else if (family == Instances.InstanceFamily.MaskRcnnTorchvision && (Input.Resize != ResizeMode.None || Input.PadToMultipleOf != 1))
            {
                problems.Add("family 'maskrcnn-torchvision' resizes inside the graph: input.resize must be 'none' with padToMultipleOf 1 (the image goes in at its own size).");
            }
        }

        bool namesFromGraph = Task == SegmentationTask.Instance && Instances.InstanceFamilies.TryParse(Family, out Instances.InstanceFamily f) && f == Instances.InstanceFamily.YoloSeg;
        if (Classes.Count == 0 && !namesFromGraph)
        {
            problems.Add("classes: at least one class is required.");
        }

        var seen = new HashSet<int>();
        for (int i = 0; i < Classes.Count; i++)
        {
            ClassSpec c = Classes[i];
            if (c.Id != i)
            {
                problems.Add($"classes[{i}]: ids must be 0, 1, 2, … in order (found {c.Id}).");
            }

            if (!seen.Add(c.Id))
            {
                problems.Add($"classes[{i}]: duplicate id {c.Id}.");
            }

            if (string.IsNullOrWhiteSpace(c.Name))
            {
                problems.Add($"classes[{i}]: name is required.");
            }

            if (c.Color is not null && !ColorParser.TryParse(c.Color, out _))
            {
                problems.Add($"classes[{i}]: color '{c.Color}' is not #rrggbb.");
            }
        }

        if (Classes.Count > 65536)
        {
            problems.Add("classes: at most 65536 classes fit a 16-bit class map.");
        }

        if (Task == SegmentationTask.Semantic && Output.Kind == OutputKind.Sigmoid && Classes.Count != 2)
        {
            problems.Add("output.kind 'sigmoid' needs exactly two classes (background, foreground).");
        }

        Batching.Validate(problems);
        return problems;
    }
}

/// <summary>What kind of segmentation a model does.</summary>
public enum SegmentationTask
{
    /// <summary>One class per pixel.</summary>
    Semantic,

    /// <summary>Separate objects with their own masks.</summary>
    Instance,
}

/// <summary>Memory layout of the image tensor.</summary>
public enum TensorLayout
{
    /// <summary>[N, C, H, W]: planar channels (PyTorch exports).</summary>
    Nchw,

    /// <summary>[N, H, W, C]: interleaved channels (TensorFlow and TFLite conversions).</summary>
    Nhwc,
}

/// <summary>Channel order the network expects.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue.</summary>
    Rgb,

    /// <summary>Blue, green, red (Caffe, OpenCV and detectron2 training pipelines).</summary>
    Bgr,
}

/// <summary>How an image of any size becomes the network input size.</summary>
public enum ResizeMode
{
    /// <summary>Resize to width×height, aspect ratio not kept.</summary>
    Stretch,

    /// <summary>Resize to fit inside width×height keeping the aspect ratio, centred, padded with <c>padValue</c>.</summary>
    Letterbox,

    /// <summary>Resize so that the shorter side is <c>shorterSide</c> (longer side at most <c>maxLongerSide</c>), aspect kept.</summary>
    ShorterSide,

    /// <summary>Native size, padded bottom/right to a multiple of <c>padToMultipleOf</c> and cropped back after.</summary>
    None,
}

/// <summary>Resampler used on images and score maps.</summary>
public enum Interpolation
{
    /// <summary>Nearest neighbour (PyTorch <c>mode="nearest"</c>: floor of the scaled index).</summary>
    Nearest,

    /// <summary>Bilinear with half-pixel centres (PyTorch <c>align_corners=False</c>).</summary>
    Bilinear,

    /// <summary>Bicubic, a = -0.75, half-pixel centres (PyTorch <c>mode="bicubic"</c>).</summary>
    Bicubic,
}

/// <summary>How resized sides are rounded to whole pixels.</summary>
public enum SizeRounding
{
    /// <summary>Truncate toward zero (torchvision <c>Resize([s])</c>).</summary>
    Truncate,

    /// <summary>Round half up (mmcv <c>rescale_size</c>: <c>int(x + 0.5)</c>).</summary>
    Round,
}

/// <summary>What the main output tensor holds.</summary>
public enum OutputKind
{
    /// <summary>[N, C, H, W] raw class scores; argmax picks the class.</summary>
    Logits,

    /// <summary>[N, C, H, W] softmax probabilities.</summary>
    Probabilities,

    /// <summary>[N, 1, H, W] foreground probability, thresholded into classes 0/1.</summary>
    Sigmoid,

    /// <summary>[N, 1, H, W] or [N, H, W] int64/int32 class indices (argmax inside the graph).</summary>
    ClassIndices,
}

/// <summary>The manifest's input section.</summary>
public sealed record InputSpec
{
    /// <summary>Graph input name; may be omitted when the graph has one input.</summary>
    public string? Name { get; init; }

    public TensorLayout Layout { get; init; } = TensorLayout.Nchw;

    public int? Width { get; init; }

    public int? Height { get; init; }

    public ChannelOrder Color { get; init; } = ChannelOrder.Rgb;

    public double Scale { get; init; } = 1.0 / 255.0;

    public IReadOnlyList<double> Mean { get; init; } = [0, 0, 0];

    public IReadOnlyList<double> Std { get; init; } = [1, 1, 1];

    public ResizeMode Resize { get; init; } = ResizeMode.Stretch;

    public Interpolation Interpolation { get; init; } = Interpolation.Bilinear;

    public int PadValue { get; init; }

    public int PadToMultipleOf { get; init; } = 1;

    public int? ShorterSide { get; init; }

    public int? MaxLongerSide { get; init; }

    public SizeRounding Rounding { get; init; } = SizeRounding.Truncate;

    internal void Validate(List<string> problems)
    {
        bool fixedSize = Resize is ResizeMode.Stretch or ResizeMode.Letterbox;
        if (fixedSize && (Width is null or < 1 || Height is null or < 1))
        {
            problems.Add($"input: resize '{ResizeName(Resize)}' needs a positive width and height.");
        }

        if (Resize == ResizeMode.ShorterSide && ShorterSide is null or < 1)
        {
            problems.Add("input: resize 'shorter-side' needs a positive shorterSide.");
        }

        if (MaxLongerSide is < 1)
        {
            problems.Add("input: maxLongerSide must be positive.");
        }

        if (Mean.Count != 3 || Std.Count != 3)
        {
            problems.Add("input: mean and std need three values each (in the network's channel order).");
        }

        for (int i = 0; i < Std.Count; i++)
        {
            if (Std[i] == 0 || !double.IsFinite(Std[i]))
            {
                problems.Add($"input: std[{i}] must be a non-zero finite number.");
            }
        }

        if (Scale == 0 || !double.IsFinite(Scale))
        {
            problems.Add("input: scale must be a non-zero finite number.");
        }

        if (PadValue is < 0 or > 255)
        {
            problems.Add("input: padValue must be within 0–255.");
        }

        if (PadToMultipleOf is < 1 or > 1024)
        {
            problems.Add("input: padToMultipleOf must be within 1–1024.");
        }
    }

    internal static string ResizeName(ResizeMode mode) => JsonNamingPolicy.KebabCaseLower.ConvertName(mode.ToString());
}

/// <summary>The manifest's output section.</summary>
public sealed record OutputSpec
{
    /// <summary>Name of the main output; required when the graph has several outputs (e.g. torchvision's <c>out</c> and <c>aux</c>).</summary>
    public string? Name { get; init; }

    public OutputKind Kind { get; init; } = OutputKind.Logits;

    public double Threshold { get; init; } = 0.5;

    internal void Validate(List<string> problems)
    {
        if (Threshold is < 0 or > 1 || double.IsNaN(Threshold))
        {
            problems.Add("output: threshold must be within 0–1.");
        }
    }
}

/// <summary>One class of the manifest.</summary>
public sealed record ClassSpec
{
    public int Id { get; init; }

    public string Name { get; init; } = "";

    /// <summary>Overlay colour, <c>#rrggbb</c>; a distinct colour is chosen when omitted.</summary>
    public string? Color { get; init; }
}

/// <summary>The manifest's batching section (used by the per-model queue).</summary>
public sealed record BatchingSpec
{
    public int MaxBatchSize { get; init; } = 1;

    public double MaxQueueDelayMs { get; init; }

    public int QueueCapacity { get; init; } = 64;

    public int Instances { get; init; } = 1;

    internal void Validate(List<string> problems)
    {
        if (MaxBatchSize is < 1 or > 1024)
        {
            problems.Add("batching: maxBatchSize must be within 1–1024.");
        }

        if (MaxQueueDelayMs is < 0 or > 10_000 || double.IsNaN(MaxQueueDelayMs))
        {
            problems.Add("batching: maxQueueDelayMs must be within 0–10000.");
        }

        if (QueueCapacity is < 1 or > 100_000)
        {
            problems.Add("batching: queueCapacity must be within 1–100000.");
        }

        if (Instances is < 1 or > 64)
        {
            problems.Add("batching: instances must be within 1–64.");
        }
    }
}
