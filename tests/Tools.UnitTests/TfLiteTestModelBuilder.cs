using Google.FlatBuffers;
using SegServe.Tools.SelfieImporter.TfLite;

namespace SegServe.Tools.UnitTests;

/// <summary>
/// Writes small TFLite flatbuffers (schema.fbs field order) for tests: a single subgraph with tensors, operator codes
/// and operators. FlatBuffers are built bottom-up, so everything is collected first and serialised in <see cref="Build"/>.
/// </summary>
internal sealed class TfLiteTestModelBuilder
{
    private readonly List<(string Name, int[] Shape, TfLiteTensorType Type, byte[]? Data)> _tensors = [];
    private readonly List<(int Builtin, string? CustomCode)> _operatorCodes = [];
    private readonly List<OperatorSpec> _operators = [];
    private int[] _inputs = [];
    private int[] _outputs = [];

    /// <summary>Builds an operator's builtin options table and returns (union type, table offset).</summary>
    public delegate (byte UnionType, int Offset) OptionsWriter(FlatBufferBuilder builder);

    private sealed record OperatorSpec(int OpcodeIndex, int[] Inputs, int[] Outputs, OptionsWriter? Options, byte[]? CustomOptions);

    public int AddTensor(string name, int[] shape, TfLiteTensorType type = TfLiteTensorType.Float32, byte[]? data = null)
    {
        _tensors.Add((name, shape, type, data));
        return _tensors.Count - 1;
    }

    public int AddFloatConstant(string name, int[] shape, float[] values)
    {
        var data = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, data, 0, data.Length);
        return AddTensor(name, shape, TfLiteTensorType.Float32, data);
    }

    public int AddOperatorCode(TfLiteBuiltinOperator builtin, string? customCode = null)
    {
        _operatorCodes.Add(((int)builtin, customCode));
        return _operatorCodes.Count - 1;
    }

    public void AddOperator(int opcodeIndex, int[] inputs, int[] outputs, OptionsWriter? options = null, byte[]? customOptions = null) =>
        _operators.Add(new OperatorSpec(opcodeIndex, inputs, outputs, options, customOptions));

    public void SetInputsAndOutputs(int[] inputs, int[] outputs)
    {
        _inputs = inputs;
        _outputs = outputs;
    }

    public byte[] Build()
    {
        var builder = new FlatBufferBuilder(1024);

        // Buffer 0 is the empty buffer by TFLite convention; each constant tensor gets its own.
        var bufferOffsets = new List<int> { EmptyTable(builder, 3) };
        var tensorBufferIndex = new uint[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            if (_tensors[i].Data is { } data)
            {
                int dataVector = ByteVector(builder, data);
                builder.StartTable(3);
                builder.AddOffset(0, dataVector, 0);
                bufferOffsets.Add(builder.EndTable());
                tensorBufferIndex[i] = (uint)(bufferOffsets.Count - 1);
            }
        }

        var tensorOffsets = new int[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            int shape = IntVector(builder, _tensors[i].Shape);
            int name = builder.CreateString(_tensors[i].Name).Value;
            builder.StartTable(4);
            builder.AddOffset(0, shape, 0);
            builder.AddByte(1, (byte)_tensors[i].Type, 0);
            builder.AddUint(2, tensorBufferIndex[i], 0);
            builder.AddOffset(3, name, 0);
            tensorOffsets[i] = builder.EndTable();
        }

        var operatorOffsets = new int[_operators.Count];
        for (int i = 0; i < _operators.Count; i++)
        {
            OperatorSpec spec = _operators[i];
            int inputs = IntVector(builder, spec.Inputs);
            int outputs = IntVector(builder, spec.Outputs);
            (byte unionType, int options) = spec.Options?.Invoke(builder) ?? ((byte)0, 0);
            int customOptions = spec.CustomOptions is null ? 0 : ByteVector(builder, spec.CustomOptions);
            builder.StartTable(6);
            builder.AddUint(0, (uint)spec.OpcodeIndex, 0);
            builder.AddOffset(1, inputs, 0);
            builder.AddOffset(2, outputs, 0);
            builder.AddByte(3, unionType, 0);
            builder.AddOffset(4, options, 0);
            builder.AddOffset(5, customOptions, 0);
            operatorOffsets[i] = builder.EndTable();
        }

        int tensorsVector = OffsetVector(builder, tensorOffsets);
        int subgraphInputs = IntVector(builder, _inputs);
        int subgraphOutputs = IntVector(builder, _outputs);
        int operatorsVector = OffsetVector(builder, operatorOffsets);
        builder.StartTable(5);
        builder.AddOffset(0, tensorsVector, 0);
        builder.AddOffset(1, subgraphInputs, 0);
        builder.AddOffset(2, subgraphOutputs, 0);
        builder.AddOffset(3, operatorsVector, 0);
        int subgraph = builder.EndTable();

        var codeOffsets = new int[_operatorCodes.Count];
        for (int i = 0; i < _operatorCodes.Count; i++)
        {
            (int builtin, string? customCode) = _operatorCodes[i];
            int custom = customCode is null ? 0 : builder.CreateString(customCode).Value;
            builder.StartTable(4);
            builder.AddSbyte(0, (sbyte)Math.Min(builtin, 127), 0);
            builder.AddOffset(1, custom, 0);
            builder.AddInt(2, 1, 1);
            builder.AddInt(3, builtin, 0);
            codeOffsets[i] = builder.EndTable();
        }

        int codesVector = OffsetVector(builder, codeOffsets);
        int subgraphsVector = OffsetVector(builder, [subgraph]);
        int buffersVector = OffsetVector(builder, [.. bufferOffsets]);
        builder.StartTable(5);
        builder.AddUint(0, 3, 0);
        builder.AddOffset(1, codesVector, 0);
        builder.AddOffset(2, subgraphsVector, 0);
        builder.AddOffset(4, buffersVector, 0);
        int model = builder.EndTable();
        builder.Finish(model, "TFL3");
        return builder.SizedByteArray();
    }

    /// <summary>Conv2DOptions: padding, stride_w, stride_h, fused_activation_function.</summary>
    public static OptionsWriter Conv2DOptions(TfLitePadding padding, int stride, TfLiteActivation activation = TfLiteActivation.None) => builder =>
    {
        builder.StartTable(6);
        builder.AddByte(0, (byte)padding, 0);
        builder.AddInt(1, stride, 0);
        builder.AddInt(2, stride, 0);
        builder.AddByte(3, (byte)activation, 0);
        const byte Conv2DOptionsUnionType = 1;
        return (Conv2DOptionsUnionType, builder.EndTable());
    };

    /// <summary>AddOptions / MulOptions: fused_activation_function.</summary>
    public static OptionsWriter ElementwiseOptions(byte unionType, TfLiteActivation activation) => builder =>
    {
        builder.StartTable(1);
        builder.AddByte(0, (byte)activation, 0);
        return (unionType, builder.EndTable());
    };

    private static int EmptyTable(FlatBufferBuilder builder, int fieldCount)
    {
        builder.StartTable(fieldCount);
        return builder.EndTable();
    }

    private static int IntVector(FlatBufferBuilder builder, int[] values)
    {
        builder.StartVector(sizeof(int), values.Length, sizeof(int));
        for (int i = values.Length - 1; i >= 0; i--)
        {
            builder.AddInt(values[i]);
        }

        return builder.EndVector().Value;
    }

    private static int ByteVector(FlatBufferBuilder builder, byte[] values)
    {
        // 16-byte alignment as TFLite's own writer uses for buffer data.
        builder.StartVector(1, values.Length, 16);
        for (int i = values.Length - 1; i >= 0; i--)
        {
            builder.AddByte(values[i]);
        }

        return builder.EndVector().Value;
    }

    private static int OffsetVector(FlatBufferBuilder builder, int[] offsets)
    {
        builder.StartVector(sizeof(int), offsets.Length, sizeof(int));
        for (int i = offsets.Length - 1; i >= 0; i--)
        {
            builder.AddOffset(offsets[i]);
        }

        return builder.EndVector().Value;
    }
}
