using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SegServe.Inference.Models;

/// <summary>A graph input or output as the ONNX file declares it.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="ElementType">Element type (<c>float32</c>, <c>int64</c>, …).</param>
/// <param name="Dimensions">Dimensions; -1 where dynamic.</param>
/// <param name="SymbolicDimensions">Dimension names where the file gives them, else empty strings.</param>
public sealed record TensorInfo(string Name, string ElementType, IReadOnlyList<long> Dimensions, IReadOnlyList<string> SymbolicDimensions)
{
    public int Rank => Dimensions.Count;

    /// <summary>The dimension as text: its size, its symbolic name, or <c>?</c>.</summary>
    public string DimensionText(int axis)
    {
        long size = Dimensions[axis];
        if (size >= 0)
        {
            return size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        string symbol = axis < SymbolicDimensions.Count ? SymbolicDimensions[axis] : "";
        return string.IsNullOrEmpty(symbol) ? "?" : symbol;
    }

    /// <summary>The shape as text, e.g. <c>[batch,3,256,256]</c>.</summary>
    public string ShapeText()
    {
        var parts = new string[Rank];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = DimensionText(i);
        }

        return "[" + string.Join(',', parts) + "]";
    }

    internal static TensorInfo From(string name, NodeMetadata metadata)
    {
        int[] dims = metadata.Dimensions;
        var dimensions = new long[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            dimensions[i] = dims[i];
        }

        string[] symbols = metadata.SymbolicDimensions ?? [];
        string elementType = metadata.IsTensor ? ElementTypeName(metadata.ElementDataType) : metadata.OnnxValueType.ToString();
        return new TensorInfo(name, elementType, dimensions, symbols);
    }

    private static string ElementTypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Float16 => "float16",
        TensorElementType.Double => "float64",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Int8 => "int8",
        TensorElementType.Bool => "bool",
        _ => type.ToString().ToLowerInvariant(),
    };
}
