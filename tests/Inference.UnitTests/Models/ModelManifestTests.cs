using SegServe.Inference.Models;

namespace SegServe.Inference.UnitTests.Models;

public sealed class ModelManifestTests
{
    // The sample manifest of docs/architecture.md ("A model in the repository"), verbatim.
    private const string Sample = """
        {
          "name": "selfie",
          "task": "semantic",
          "family": "mediapipe-selfie",
          "input":  { "layout": "NCHW", "width": 256, "height": 256, "color": "RGB",
                      "scale": 0.00392156862, "mean": [0,0,0], "std": [1,1,1], "resize": "stretch" },
          "output": { "kind": "sigmoid", "threshold": 0.5 },
          "classes": [ { "id": 0, "name": "background", "color": "#000000" },
                       { "id": 1, "name": "person",     "color": "#ff4d4d" } ],
          "batching": { "maxBatchSize": 8, "maxQueueDelayMs": 2, "queueCapacity": 256 },
          "source": { "package": "npm @mediapipe/selfie_segmentation@0.1.1675465747", "licence": "Apache-2.0" }
        }
        """;

    [Fact]
    public void Parse_ArchitectureSample_ReadsEverySection()
    {
        ModelManifest manifest = ModelManifest.Parse(Sample);

        Assert.Equal("selfie", manifest.Name);
        Assert.Equal(SegmentationTask.Semantic, manifest.Task);
        Assert.Equal("mediapipe-selfie", manifest.Family);
        Assert.Equal(TensorLayout.Nchw, manifest.Input.Layout);
        Assert.Equal(ChannelOrder.Rgb, manifest.Input.Color);
        Assert.Equal(256, manifest.Input.Width);
        Assert.Equal(256, manifest.Input.Height);
        Assert.Equal(0.00392156862, manifest.Input.Scale);
        Assert.Equal([0.0, 0.0, 0.0], manifest.Input.Mean);
        Assert.Equal([1.0, 1.0, 1.0], manifest.Input.Std);
        Assert.Equal(ResizeMode.Stretch, manifest.Input.Resize);
        Assert.Equal(OutputKind.Sigmoid, manifest.Output.Kind);
        Assert.Equal(0.5, manifest.Output.Threshold);
        Assert.Equal(2, manifest.Classes.Count);
        Assert.Equal("person", manifest.Classes[1].Name);
        Assert.Equal("#ff4d4d", manifest.Classes[1].Color);
        Assert.Equal(8, manifest.Batching.MaxBatchSize);
        Assert.Equal(2, manifest.Batching.MaxQueueDelayMs);
        Assert.Equal(256, manifest.Batching.QueueCapacity);
        Assert.Equal(1, manifest.Batching.Instances);
        Assert.Equal("Apache-2.0", manifest.Source!["licence"]);
        Assert.Empty(manifest.Validate());
    }

    [Fact]
    public void Parse_KebabCaseEnums_AreRead()
    {
        ModelManifest manifest = ModelManifest.Parse("""
            {
              "input": { "resize": "shorter-side", "shorterSide": 520, "rounding": "round", "layout": "nhwc", "color": "bgr",
                         "interpolation": "bicubic" },
              "output": { "kind": "class-indices" },
              // comments and trailing commas are allowed
              "classes": [ { "id": 0, "name": "a" }, ],
            }
            """);

        Assert.Equal(ResizeMode.ShorterSide, manifest.Input.Resize);
        Assert.Equal(SizeRounding.Round, manifest.Input.Rounding);
        Assert.Equal(TensorLayout.Nhwc, manifest.Input.Layout);
        Assert.Equal(ChannelOrder.Bgr, manifest.Input.Color);
        Assert.Equal(Interpolation.Bicubic, manifest.Input.Interpolation);
        Assert.Equal(OutputKind.ClassIndices, manifest.Output.Kind);
        Assert.Empty(manifest.Validate());
    }

    [Theory]
    [InlineData("""{ "nmae": "typo" }""")]
    [InlineData("""{ "input": { "widht": 3 } }""")]
    [InlineData("""{ "output": { "kind": "softmax" } }""")]
    [InlineData("""{ "output": { "kind": 1 } }""")]
    [InlineData("""{ "name": """)]
    [InlineData("null")]
    public void Parse_InvalidManifest_ThrowsModelLoadException(string json)
    {
        Assert.Throws<ModelLoadException>(() => ModelManifest.Parse(json));
    }

    [Fact]
    public void Parse_UnknownMember_NamesTheMember()
    {
        ModelLoadException ex = Assert.Throws<ModelLoadException>(() => ModelManifest.Parse("""{ "nmae": "typo" }"""));

        Assert.Contains("nmae", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_StretchWithoutWidth_ReportsIt()
    {
        ModelManifest manifest = Valid() with { Input = new InputSpec { Resize = ResizeMode.Stretch, Height = 10 } };

        Assert.Contains(manifest.Validate(), p => p.Contains("stretch", StringComparison.Ordinal) && p.Contains("width", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ShorterSideWithoutSize_ReportsIt()
    {
        ModelManifest manifest = Valid() with { Input = new InputSpec { Resize = ResizeMode.ShorterSide } };

        Assert.Contains(manifest.Validate(), p => p.Contains("shorterSide", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ZeroStd_ReportsTheChannel()
    {
        ModelManifest manifest = Valid() with { Input = Valid().Input with { Std = [1, 0, 1] } };

        Assert.Contains(manifest.Validate(), p => p.Contains("std[1]", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SigmoidWithThreeClasses_ReportsIt()
    {
        ModelManifest manifest = Valid() with
        {
            Output = new OutputSpec { Kind = OutputKind.Sigmoid },
            Classes = [Class(0, "background"), Class(1, "a"), Class(2, "b")],
        };

        Assert.Contains(manifest.Validate(), p => p.Contains("sigmoid", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NonSequentialIds_ReportsTheIndex()
    {
        ModelManifest manifest = Valid() with { Classes = [Class(0, "background"), Class(2, "a")] };

        Assert.Contains(manifest.Validate(), p => p.Contains("classes[1]", StringComparison.Ordinal) && p.Contains("found 2", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DuplicateIds_ReportsThem()
    {
        ModelManifest manifest = Valid() with { Classes = [Class(0, "background"), Class(0, "a")] };

        Assert.Contains(manifest.Validate(), p => p.Contains("duplicate id 0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("red")]
    [InlineData("#12345")]
    [InlineData("#12345g")]
    public void Validate_BadColour_ReportsIt(string color)
    {
        ModelManifest manifest = Valid() with { Classes = [Class(0, "background"), Class(1, "a") with { Color = color }] };

        Assert.Contains(manifest.Validate(), p => p.Contains("classes[1]: color", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0, 0, 64, 1)]
    [InlineData(1025, 0, 64, 1)]
    [InlineData(1, -1, 64, 1)]
    [InlineData(1, 0, 0, 1)]
    [InlineData(1, 0, 64, 65)]
    public void Validate_BatchingOutOfRange_ReportsIt(int maxBatchSize, double delay, int capacity, int instances)
    {
        ModelManifest manifest = Valid() with
        {
            Batching = new BatchingSpec { MaxBatchSize = maxBatchSize, MaxQueueDelayMs = delay, QueueCapacity = capacity, Instances = instances },
        };

        Assert.Single(manifest.Validate(), p => p.StartsWith("batching:", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEachOne()
    {
        // Missing height for letterbox, std 0, no classes, threshold 2, instance task: five problems.
        var manifest = new ModelManifest
        {
            Task = SegmentationTask.Instance,
            Input = new InputSpec { Resize = ResizeMode.Letterbox, Width = 640, Std = [0, 1, 1] },
            Output = new OutputSpec { Threshold = 2 },
        };

        IReadOnlyList<string> problems = manifest.Validate();

        Assert.Equal(5, problems.Count);
    }

    [Fact]
    public void Validate_EmptyClasses_ReportsIt()
    {
        ModelManifest manifest = Valid() with { Classes = [] };

        Assert.Contains(manifest.Validate(), p => p.Contains("at least one class", StringComparison.Ordinal));
    }

    private static ModelManifest Valid() => new()
    {
        Input = new InputSpec { Resize = ResizeMode.Stretch, Width = 8, Height = 8 },
        Output = new OutputSpec { Kind = OutputKind.Logits },
        Classes = [Class(0, "background"), Class(1, "a")],
    };

    private static ClassSpec Class(int id, string name) => new() { Id = id, Name = name };
}
