using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SegServe.Inference.Models;

/// <summary>
/// Checks an ONNX graph's declared inputs and outputs against its manifest at load (names, element types, ranks, and
/// channel counts where the file states them), and the real output shape after the warm-up run (exporters often leave
/// the class dimension symbolic).
/// </summary>
internal static class SignatureCheck
{
    public static TensorInfo SelectInput(ModelManifest manifest, IReadOnlyList<TensorInfo> inputs)
    {
        InputSpec spec = manifest.Input;
        TensorInfo input = Select(inputs, spec.Name, "input", "input.name");
        if (input.ElementType != "float32")
        {
            throw new ModelLoadException($"Input '{input.Name}' is {input.ElementType}; the service feeds float32 images.");
        }

        if (input.Rank is not (3 or 4))
        {
            throw new ModelLoadException($"Input '{input.Name}' has rank {input.Rank} {input.ShapeText()}; an image input is [N,3,H,W], [N,H,W,3] or [3,H,W].");
        }

        int offset = input.Rank == 4 ? 1 : 0;
        int channelAxis = spec.Layout == TensorLayout.Nchw ? offset : offset + 2;
        int heightAxis = spec.Layout == TensorLayout.Nchw ? offset + 1 : offset;
        int widthAxis = heightAxis + 1;

        long channels = input.Dimensions[channelAxis];
        if (channels >= 0 && channels != 3)
        {
            throw new ModelLoadException(
                $"Input '{input.Name}' {input.ShapeText()} has {channels} channel(s) on axis {channelAxis}; with layout {Layout(spec.Layout)} the service feeds 3.");
        }

        long height = input.Dimensions[heightAxis];
        long width = input.Dimensions[widthAxis];
        bool fixedSize = height >= 0 || width >= 0;
        if (fixedSize)
        {
            if (spec.Resize is ResizeMode.None or ResizeMode.ShorterSide)
            {
                throw new ModelLoadException(
                    $"Input '{input.Name}' {input.ShapeText()} has a fixed size, but resize '{InputSpec.ResizeName(spec.Resize)}' makes sizes that vary per image: use 'stretch' or 'letterbox'.");
            }

            if ((height >= 0 && height != spec.Height) || (width >= 0 && width != spec.Width))
            {
                throw new ModelLoadException(
                    $"Input '{input.Name}' {input.ShapeText()} does not match the manifest's input size {spec.Width}×{spec.Height} (width×height).");
            }
        }

        return input;
    }

    public static TensorInfo SelectOutput(ModelManifest manifest, IReadOnlyList<TensorInfo> outputs)
    {
        OutputSpec spec = manifest.Output;
        TensorInfo output = Select(outputs, spec.Name, "output", "output.name");
        bool indices = spec.Kind == OutputKind.ClassIndices;
        if (indices ? output.ElementType is not ("int64" or "int32") : output.ElementType != "float32")
        {
            throw new ModelLoadException(
                $"Output '{output.Name}' is {output.ElementType}; output.kind '{Kind(spec.Kind)}' needs {(indices ? "int64 or int32" : "float32")}.");
        }

        if (output.Rank != 4 && !(indices && output.Rank == 3))
        {
            throw new ModelLoadException(
                $"Output '{output.Name}' has rank {output.Rank} {output.ShapeText()}; output.kind '{Kind(spec.Kind)}' needs [N,C,H,W]{(indices ? " or [N,H,W]" : "")}.");
        }

        if (output.Rank == 4)
        {
            CheckChannels(manifest, output.Name, output.Dimensions[1], output.ShapeText());
        }

        return output;
    }

    /// <summary>Checks the output of a real run, whose dimensions are all known.</summary>
    public static void CheckRuntimeOutput(ModelManifest manifest, OrtTensorTypeAndShapeInfo info)
    {
        long[] shape = info.Shape;
        if (shape.Length == 4)
        {
            CheckChannels(manifest, "(run)", shape[1], "[" + string.Join(',', shape) + "]");
        }

        bool indices = manifest.Output.Kind == OutputKind.ClassIndices;
        TensorElementType type = info.ElementDataType;
        if (indices ? type is not (TensorElementType.Int64 or TensorElementType.Int32) : type != TensorElementType.Float)
        {
            throw new ModelLoadException($"The output of a run is {type}, which output.kind '{Kind(manifest.Output.Kind)}' cannot read.");
        }
    }

    private static void CheckChannels(ModelManifest manifest, string name, long channels, string shapeText)
    {
        if (channels < 0)
        {
            return;
        }

        long expected = manifest.Output.Kind switch
        {
            OutputKind.Logits or OutputKind.Probabilities => manifest.Classes.Count,
            _ => 1,
        };
        if (channels != expected)
        {
            throw new ModelLoadException(
                $"Output '{name}' {shapeText} has {channels} channel(s); output.kind '{Kind(manifest.Output.Kind)}' with {manifest.Classes.Count} classes needs {expected}.");
        }
    }

    private static TensorInfo Select(IReadOnlyList<TensorInfo> tensors, string? name, string what, string field)
    {
        if (name is not null)
        {
            foreach (TensorInfo tensor in tensors)
            {
                if (tensor.Name == name)
                {
                    return tensor;
                }
            }

            throw new ModelLoadException($"The graph has no {what} named '{name}' (it has: {Names(tensors)}).");
        }

        if (tensors.Count == 1)
        {
            return tensors[0];
        }

        throw new ModelLoadException($"The graph has {tensors.Count} {what}s ({Names(tensors)}): name the main one in {field}.");
    }

    private static string Names(IReadOnlyList<TensorInfo> tensors)
    {
        var names = new string[tensors.Count];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = $"'{tensors[i].Name}' {tensors[i].ShapeText()}";
        }

        return names.Length == 0 ? "none" : string.Join(", ", names);
    }

    private static string Layout(TensorLayout layout) => layout == TensorLayout.Nchw ? "NCHW" : "NHWC";

    private static string Kind(OutputKind kind) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());
}
