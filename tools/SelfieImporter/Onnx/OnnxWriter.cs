using Google.Protobuf;

namespace SegServe.Tools.SelfieImporter.Onnx;

/// <summary>
/// Serialises an <see cref="OnnxModel"/> as an ONNX <c>ModelProto</c>. Field numbers are those of onnx.proto;
/// there is no generated code (no protoc in the build), so each message is written by hand, nested messages
/// as length-delimited byte strings. The output depends only on the model: no timestamps, no hash-ordered maps.
/// </summary>
public static class OnnxWriter
{
    public static void Write(OnnxModel model, string path) => File.WriteAllBytes(path, Serialize(model));

    public static byte[] Serialize(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Message(output =>
        {
            output.WriteTag(OnnxFields.ModelIrVersion, WireFormat.WireType.Varint);
            output.WriteInt64(model.IrVersion);
            WriteString(output, OnnxFields.ModelProducerName, model.ProducerName);
            WriteString(output, OnnxFields.ModelProducerVersion, model.ProducerVersion);
            WriteString(output, OnnxFields.ModelDocString, model.DocString);
            WriteMessage(output, OnnxFields.ModelGraph, Graph(model));
            WriteMessage(output, OnnxFields.ModelOpsetImport, Message(opset =>
            {
                // The default ONNX domain is the empty string, so only the version is written.
                opset.WriteTag(OnnxFields.OperatorSetVersion, WireFormat.WireType.Varint);
                opset.WriteInt64(model.OpsetVersion);
            }));
        });
    }

    private static byte[] Graph(OnnxModel model) => Message(output =>
    {
        foreach (OnnxNode node in model.Nodes)
        {
            WriteMessage(output, OnnxFields.GraphNode, Node(node));
        }

        WriteString(output, OnnxFields.GraphName, model.GraphName);
        foreach (OnnxTensor initializer in model.Initializers)
        {
            WriteMessage(output, OnnxFields.GraphInitializer, Tensor(initializer));
        }

        foreach (OnnxValueInfo input in model.Inputs)
        {
            WriteMessage(output, OnnxFields.GraphInput, ValueInfo(input));
        }

        foreach (OnnxValueInfo graphOutput in model.Outputs)
        {
            WriteMessage(output, OnnxFields.GraphOutput, ValueInfo(graphOutput));
        }
    });

    private static byte[] Node(OnnxNode node) => Message(output =>
    {
        foreach (string input in node.Inputs)
        {
            // Repeated strings keep empty entries: an empty name is how ONNX spells an omitted optional input.
            output.WriteTag(OnnxFields.NodeInput, WireFormat.WireType.LengthDelimited);
            output.WriteString(input);
        }

        foreach (string nodeOutput in node.Outputs)
        {
            output.WriteTag(OnnxFields.NodeOutput, WireFormat.WireType.LengthDelimited);
            output.WriteString(nodeOutput);
        }

        WriteString(output, OnnxFields.NodeName, node.Name);
        WriteString(output, OnnxFields.NodeOpType, node.OpType);
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            WriteMessage(output, OnnxFields.NodeAttribute, Attribute(attribute));
        }
    });

    private static byte[] Attribute(OnnxAttribute attribute) => Message(output =>
    {
        WriteString(output, OnnxFields.AttributeName, attribute.Name);
        switch (attribute.Type)
        {
            case OnnxAttributeType.Float:
                output.WriteTag(OnnxFields.AttributeFloat, WireFormat.WireType.Fixed32);
                output.WriteFloat(attribute.FloatValue);
                break;
            case OnnxAttributeType.Int:
                output.WriteTag(OnnxFields.AttributeInt, WireFormat.WireType.Varint);
                output.WriteInt64(attribute.IntValue);
                break;
            case OnnxAttributeType.String:
                output.WriteTag(OnnxFields.AttributeString, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(ByteString.CopyFromUtf8(attribute.StringValue));
                break;
            case OnnxAttributeType.Floats:
                foreach (float value in attribute.FloatValues)
                {
                    output.WriteTag(OnnxFields.AttributeFloats, WireFormat.WireType.Fixed32);
                    output.WriteFloat(value);
                }

                break;
            case OnnxAttributeType.Ints:
                foreach (long value in attribute.IntValues)
                {
                    output.WriteTag(OnnxFields.AttributeInts, WireFormat.WireType.Varint);
                    output.WriteInt64(value);
                }

                break;
            default:
                throw new InvalidOperationException($"Attribute '{attribute.Name}' has unsupported type {attribute.Type}.");
        }

        output.WriteTag(OnnxFields.AttributeType, WireFormat.WireType.Varint);
        output.WriteEnum((int)attribute.Type);
    });

    private static byte[] Tensor(OnnxTensor tensor) => Message(output =>
    {
        foreach (long dim in tensor.Dims)
        {
            output.WriteTag(OnnxFields.TensorDims, WireFormat.WireType.Varint);
            output.WriteInt64(dim);
        }

        output.WriteTag(OnnxFields.TensorDataType, WireFormat.WireType.Varint);
        output.WriteInt32((int)tensor.DataType);
        WriteString(output, OnnxFields.TensorName, tensor.Name);
        output.WriteTag(OnnxFields.TensorRawData, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(tensor.RawData));
    });

    private static byte[] ValueInfo(OnnxValueInfo valueInfo) => Message(output =>
    {
        WriteString(output, OnnxFields.ValueInfoName, valueInfo.Name);
        byte[] shape = Message(shapeOutput =>
        {
            foreach (OnnxDimension dimension in valueInfo.Shape)
            {
                WriteMessage(shapeOutput, OnnxFields.ShapeDim, Message(dimOutput =>
                {
                    if (dimension.Symbol is not null)
                    {
                        WriteString(dimOutput, OnnxFields.DimensionParam, dimension.Symbol);
                    }
                    else
                    {
                        dimOutput.WriteTag(OnnxFields.DimensionValue, WireFormat.WireType.Varint);
                        dimOutput.WriteInt64(dimension.Value ?? 0);
                    }
                }));
            }
        });
        byte[] tensorType = Message(tensorOutput =>
        {
            tensorOutput.WriteTag(OnnxFields.TensorTypeElemType, WireFormat.WireType.Varint);
            tensorOutput.WriteInt32((int)valueInfo.ElementType);
            WriteMessage(tensorOutput, OnnxFields.TensorTypeShape, shape);
        });
        WriteMessage(output, OnnxFields.ValueInfoType, Message(typeOutput => WriteMessage(typeOutput, OnnxFields.TypeTensorType, tensorType)));
    });

    private static byte[] Message(Action<CodedOutputStream> writeFields)
    {
        using var memory = new MemoryStream();
        using (var output = new CodedOutputStream(memory, leaveOpen: true))
        {
            writeFields(output);
        }

        return memory.ToArray();
    }

    private static void WriteMessage(CodedOutputStream output, int fieldNumber, byte[] message)
    {
        output.WriteTag(fieldNumber, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(message));
    }

    /// <summary>Writes a singular string field, skipping it when empty (proto3 default).</summary>
    private static void WriteString(CodedOutputStream output, int fieldNumber, string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        output.WriteTag(fieldNumber, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }
}
