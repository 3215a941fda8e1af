namespace SegServe.Tools.SelfieImporter.Onnx;

/// <summary>ONNX <c>TensorProto.DataType</c> values used by the importer.</summary>
public enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    Int32 = 6,
    Int64 = 7,
}

/// <summary>ONNX <c>AttributeProto.AttributeType</c> values used by the importer.</summary>
public enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Floats = 6,
    Ints = 7,
}

/// <summary>A node attribute; only the member matching <see cref="Type"/> is meaningful.</summary>
public sealed record OnnxAttribute(string Name, OnnxAttributeType Type)
{
    public long IntValue { get; init; }

    public float FloatValue { get; init; }

    public string StringValue { get; init; } = "";

    public IReadOnlyList<long> IntValues { get; init; } = [];

    public IReadOnlyList<float> FloatValues { get; init; } = [];

    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeType.Int) { IntValue = value };

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxAttributeType.Ints) { IntValues = values };

    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeType.Float) { FloatValue = value };

    public static OnnxAttribute String(string name, string value) => new(name, OnnxAttributeType.String) { StringValue = value };
}

/// <summary>A graph node. An empty input name marks an omitted optional input.</summary>
public sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<OnnxAttribute> Attributes)
{
    public OnnxAttribute? FindAttribute(string name)
    {
        foreach (OnnxAttribute attribute in Attributes)
        {
            if (attribute.Name == name)
            {
                return attribute;
            }
        }

        return null;
    }
}

/// <summary>A constant tensor (initializer). The data is kept as little-endian raw bytes, as written in <c>raw_data</c>.</summary>
public sealed record OnnxTensor(string Name, OnnxDataType DataType, IReadOnlyList<long> Dims, byte[] RawData)
{
    public static OnnxTensor FromFloats(string name, IReadOnlyList<long> dims, ReadOnlySpan<float> values)
    {
        var raw = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), values[i]);
        }

        return new OnnxTensor(name, OnnxDataType.Float, dims, raw);
    }

    public static OnnxTensor FromInt64s(string name, IReadOnlyList<long> dims, ReadOnlySpan<long> values)
    {
        var raw = new byte[values.Length * sizeof(long)];
        for (int i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * sizeof(long)), values[i]);
        }

        return new OnnxTensor(name, OnnxDataType.Int64, dims, raw);
    }

    public float[] ToFloats()
    {
        if (DataType != OnnxDataType.Float)
        {
            throw new InvalidOperationException($"Initializer '{Name}' is {DataType}, not Float.");
        }

        var values = new float[RawData.Length / sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(RawData.AsSpan(i * sizeof(float)));
        }

        return values;
    }
}

/// <summary>One dimension of a graph input or output: a fixed size, or a symbolic name such as <c>batch</c>.</summary>
public sealed record OnnxDimension(long? Value, string? Symbol)
{
    public static OnnxDimension Fixed(long value) => new(value, null);

    public static OnnxDimension Symbolic(string symbol) => new(null, symbol);

    public override string ToString() => Symbol ?? Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";
}

/// <summary>A typed graph input or output (<c>ValueInfoProto</c> with a tensor type).</summary>
public sealed record OnnxValueInfo(string Name, OnnxDataType ElementType, IReadOnlyList<OnnxDimension> Shape);

/// <summary>An ONNX model with a single graph in the default domain.</summary>
public sealed class OnnxModel
{
    public long IrVersion { get; init; } = 7;

    public long OpsetVersion { get; init; } = 14;

    public string ProducerName { get; init; } = "";

    public string ProducerVersion { get; init; } = "";

    public string GraphName { get; init; } = "";

    public string DocString { get; init; } = "";

    public List<OnnxNode> Nodes { get; } = [];

    public List<OnnxTensor> Initializers { get; } = [];

    public List<OnnxValueInfo> Inputs { get; } = [];

    public List<OnnxValueInfo> Outputs { get; } = [];
}
