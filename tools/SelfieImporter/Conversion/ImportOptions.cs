namespace SegServe.Tools.SelfieImporter.Conversion;

/// <summary>Names and metadata of the ONNX model the converter writes.</summary>
public sealed record ImportOptions
{
    public string InputName { get; init; } = "image";

    public string OutputName { get; init; } = "mask";

    /// <summary>The symbolic name of the batch dimension of the input and output.</summary>
    public string BatchDimension { get; init; } = "batch";

    public string GraphName { get; init; } = "selfie_segmentation";

    /// <summary>Free text stored as the model's doc string (for example the source file and its hash).</summary>
    public string DocString { get; init; } = "";
}
