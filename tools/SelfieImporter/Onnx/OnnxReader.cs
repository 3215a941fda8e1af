using System.Buffers.Binary;
using Google.Protobuf;

namespace SegServe.Tools.SelfieImporter.Onnx;

/// <summary>
/// Reads an ONNX <c>ModelProto</c> back into an <see cref="OnnxModel"/>: the same subset that
/// <see cref="OnnxWriter"/> writes, which is enough to inspect and compare models. Unknown fields are skipped;
/// repeated numbers are accepted packed or unpacked, and float initializers in <c>float_data</c> become raw bytes.
/// </summary>
public static class OnnxReader
{
    private const int TensorFloatData = 4;
    private const int TensorInt64Data = 7;

    public static OnnxModel Read(string path) => Parse(File.ReadAllBytes(path));

    public static OnnxModel Parse(byte[] bytes)
    {
        long irVersion = 0;
        long opsetVersion = 0;
        string producerName = "";
        string producerVersion = "";
        string docString = "";
        ByteString? graph = null;

        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case OnnxFields.ModelIrVersion:
                    irVersion = input.ReadInt64();
                    break;
                case OnnxFields.ModelProducerName:
                    producerName = input.ReadString();
                    break;
                case OnnxFields.ModelProducerVersion:
                    producerVersion = input.ReadString();
                    break;
                case OnnxFields.ModelDocString:
                    docString = input.ReadString();
                    break;
                case OnnxFields.ModelGraph:
                    graph = input.ReadBytes();
                    break;
                case OnnxFields.ModelOpsetImport:
                    (string domain, long version) = ReadOpset(input.ReadBytes());
                    if (domain.Length == 0 || domain == "ai.onnx")
                    {
                        opsetVersion = version;
                    }

                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        GraphParts parts = graph is null ? new GraphParts() : ReadGraph(graph);
        var model = new OnnxModel
        {
            IrVersion = irVersion,
            OpsetVersion = opsetVersion,
            ProducerName = producerName,
            ProducerVersion = producerVersion,
            DocString = docString,
            GraphName = parts.Name,
        };
        model.Nodes.AddRange(parts.Nodes);
        model.Initializers.AddRange(parts.Initializers);
        model.Inputs.AddRange(parts.Inputs);
        model.Outputs.AddRange(parts.Outputs);
        return model;
    }

    private sealed class GraphParts
    {
        public string Name { get; set; } = "";

        public List<OnnxNode> Nodes { get; } = [];

        public List<OnnxTensor> Initializers { get; } = [];

        public List<OnnxValueInfo> Inputs { get; } = [];

        public List<OnnxValueInfo> Outputs { get; } = [];
    }

    private static (string Domain, long Version) ReadOpset(ByteString bytes)
    {
        string domain = "";
        long version = 0;
        CodedInputStream input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case OnnxFields.OperatorSetDomain:
                    domain = input.ReadString();
                    break;
                case OnnxFields.OperatorSetVersion:
                    version = input.ReadInt64();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return (domain, version);
    }

    private static GraphParts ReadGraph(ByteString bytes)
    {
        var parts = new GraphParts();
        CodedInputStream input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case OnnxFields.GraphNode:
                    parts.Nodes.Add(ReadNode(input.ReadBytes()));
                    break;
                case OnnxFields.GraphName:
                    parts.Name = input.ReadString();
                    break;
                case OnnxFields.GraphInitializer:
                    parts.Initializers.Add(ReadTensor(input.ReadBytes()));
                    break;
                case OnnxFields.GraphInput:
                    parts.Inputs.Add(ReadValueInfo(input.ReadBytes()));
                    break;
                case OnnxFields.GraphOutput:
                    parts.Outputs.Add(ReadValueInfo(input.ReadBytes()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return parts;
    }

    private static OnnxNode ReadNode(ByteString bytes)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        string name = "";
        string opType = "";
        CodedInputStream input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case OnnxFields.NodeInput:
                    inputs.Add(input.ReadString());
                    break;
                case OnnxFields.NodeOutput:
                    outputs.Add(input.ReadString());
                    break;
                case OnnxFields.NodeName:
                    name = input.ReadString();
                    break;
                case OnnxFields.NodeOpType:
                    opType = input.ReadString();
                    break;
                case OnnxFields.NodeAttribute:
                    attributes.Add(ReadAttribute(input.ReadBytes()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return new OnnxNode(opType, name, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(ByteString bytes)
    {
        string name = "";
        var type = OnnxAttributeType.Undefined;
        long intValue = 0;
        float floatValue = 0;
        string stringValue = "";
        var ints = new List<long>();
        var floats = new List<float>();
        CodedInputStream input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case OnnxFields.AttributeName:
                    name = input.ReadString();
                    break;
                case OnnxFields.AttributeFloat:
                    floatValue = input.ReadFloat();
                    break;
                case OnnxFields.AttributeInt:
                    intValue = input.ReadInt64();
                    break;
                case OnnxFields.AttributeString:
                    stringValue = input.ReadBytes().ToStringUtf8();
                    break;
                case OnnxFields.AttributeFloats:
                    ReadRepeatedFloats(input, tag, floats);
                    break;
                case OnnxFields.AttributeInts:
                    ReadRepeatedInt64s(input, tag, ints);
                    break;
                case OnnxFields.AttributeType:
                    type = (OnnxAttributeType)input.ReadEnum();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return new OnnxAttribute(name, type)
        {
            IntValue = intValue,
            FloatValue = floatValue,
            StringValue = stringValue,
            IntValues = ints,
            FloatValues = floats,
        };
    }

    private static OnnxTensor ReadTensor(ByteString bytes)
    {
        var dims = new List<long>();
        var dataType = OnnxDataType.Undefined;
        string name = "";
        byte[] rawData = [];
        var floatData = new List<float>();
        var int64Data = new List<long>();
        CodedInputStream input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case OnnxFields.TensorDims:
                    ReadRepeatedInt64s(input, tag, dims);
                    break;
                case OnnxFields.TensorDataType:
                    dataType = (OnnxDataType)input.ReadInt32();
                    break;
                case OnnxFields.TensorName:
                    name = input.ReadString();
                    break;
                case OnnxFields.TensorRawData:
                    rawData = input.ReadBytes().ToByteArray();
                    break;
                case TensorFloatData:
                    ReadRepeatedFloats(input, tag, floatData);
                    break;
                case TensorInt64Data:
                    ReadRepeatedInt64s(input, tag, int64Data);
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        if (floatData.Count > 0)
        {
            return OnnxTensor.FromFloats(name, dims, floatData.ToArray()) with { DataType = dataType };
        }

        if (int64Data.Count > 0)
        {
            return OnnxTensor.FromInt64s(name, dims, int64Data.ToArray()) with { DataType = dataType };
        }

        return new OnnxTensor(name, dataType, dims, rawData);
    }

    private static OnnxValueInfo ReadValueInfo(ByteString bytes)
    {
        string name = "";
        var elementType = OnnxDataType.Undefined;
        var shape = new List<OnnxDimension>();
        CodedInputStream input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case OnnxFields.ValueInfoName:
                    name = input.ReadString();
                    break;
                case OnnxFields.ValueInfoType:
                    ReadTypeProto(input.ReadBytes(), ref elementType, shape);
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return new OnnxValueInfo(name, elementType, shape);
    }

    private static void ReadTypeProto(ByteString bytes, ref OnnxDataType elementType, List<OnnxDimension> shape)
    {
        CodedInputStream input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != OnnxFields.TypeTensorType)
            {
                input.SkipLastField();
                continue;
            }

            CodedInputStream tensorType = input.ReadBytes().CreateCodedInput();
            uint tensorTag;
            while ((tensorTag = tensorType.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tensorTag))
                {
                    case OnnxFields.TensorTypeElemType:
                        elementType = (OnnxDataType)tensorType.ReadInt32();
                        break;
                    case OnnxFields.TensorTypeShape:
                        ReadShape(tensorType.ReadBytes(), shape);
                        break;
                    default:
                        tensorType.SkipLastField();
                        break;
                }
            }
        }
    }

    private static void ReadShape(ByteString bytes, List<OnnxDimension> shape)
    {
        CodedInputStream input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != OnnxFields.ShapeDim)
            {
                input.SkipLastField();
                continue;
            }

            long? value = null;
            string? symbol = null;
            CodedInputStream dimension = input.ReadBytes().CreateCodedInput();
            uint dimensionTag;
            while ((dimensionTag = dimension.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(dimensionTag))
                {
                    case OnnxFields.DimensionValue:
                        value = dimension.ReadInt64();
                        break;
                    case OnnxFields.DimensionParam:
                        symbol = dimension.ReadString();
                        break;
                    default:
                        dimension.SkipLastField();
                        break;
                }
            }

            shape.Add(new OnnxDimension(value, symbol));
        }
    }

    private static void ReadRepeatedInt64s(CodedInputStream input, uint tag, List<long> values)
    {
        if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
        {
            values.Add(input.ReadInt64());
            return;
        }

        CodedInputStream packed = input.ReadBytes().CreateCodedInput();
        while (!packed.IsAtEnd)
        {
            values.Add(packed.ReadInt64());
        }
    }

    private static void ReadRepeatedFloats(CodedInputStream input, uint tag, List<float> values)
    {
        if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
        {
            values.Add(input.ReadFloat());
            return;
        }

        byte[] packed = input.ReadBytes().ToByteArray();
        for (int offset = 0; offset + sizeof(float) <= packed.Length; offset += sizeof(float))
        {
            values.Add(BinaryPrimitives.ReadSingleLittleEndian(packed.AsSpan(offset)));
        }
    }
}
