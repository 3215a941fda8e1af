using SegServe.Tools.SelfieImporter.FlatBuffers;

namespace SegServe.Tools.SelfieImporter.TfLite;

/// <summary>
/// The parts of a TFLite model (schema.fbs) that the importer needs: operator codes, buffers and the
/// main subgraph. Field indices below are the declaration order of the fields in schema.fbs.
/// </summary>
public sealed class TfLiteModel
{
    private const int ModelOperatorCodesField = 1;
    private const int ModelSubgraphsField = 2;
    private const int ModelBuffersField = 4;

    private const int OperatorCodeDeprecatedBuiltinCodeField = 0;
    private const int OperatorCodeCustomCodeField = 1;
    private const int OperatorCodeBuiltinCodeField = 3;

    private const int BufferDataField = 0;
    private const int BufferOffsetField = 1;
    private const int BufferSizeField = 2;

    private const int SubgraphTensorsField = 0;
    private const int SubgraphInputsField = 1;
    private const int SubgraphOutputsField = 2;
    private const int SubgraphOperatorsField = 3;

    private const int TensorShapeField = 0;
    private const int TensorTypeField = 1;
    private const int TensorBufferField = 2;
    private const int TensorNameField = 3;

    private const int OperatorOpcodeIndexField = 0;
    private const int OperatorInputsField = 1;
    private const int OperatorOutputsField = 2;
    private const int OperatorBuiltinOptionsField = 4;
    private const int OperatorCustomOptionsField = 5;

    private TfLiteModel(IReadOnlyList<TfLiteTensor> tensors, IReadOnlyList<int> inputs, IReadOnlyList<int> outputs, IReadOnlyList<TfLiteOperator> operators)
    {
        Tensors = tensors;
        Inputs = inputs;
        Outputs = outputs;
        Operators = operators;
    }

    /// <summary>Tensors of the main subgraph, indexed as the operators refer to them.</summary>
    public IReadOnlyList<TfLiteTensor> Tensors { get; }

    public IReadOnlyList<int> Inputs { get; }

    public IReadOnlyList<int> Outputs { get; }

    /// <summary>Operators in execution order (TFLite stores them topologically sorted).</summary>
    public IReadOnlyList<TfLiteOperator> Operators { get; }

    public static TfLiteModel Load(string path) => Parse(File.ReadAllBytes(path));

    public static TfLiteModel Parse(ReadOnlyMemory<byte> fileBytes)
    {
        try
        {
            return ParseUnchecked(fileBytes);
        }
        catch (ArgumentOutOfRangeException exception)
        {
            // A truncated or corrupt flatbuffer sends an offset past the end of the buffer.
            throw new InvalidDataException("The TFLite flatbuffer is malformed: an offset points outside the file.", exception);
        }
    }

    private static TfLiteModel ParseUnchecked(ReadOnlyMemory<byte> fileBytes)
    {
        FlatBufferTable model = FlatBufferTable.OpenRoot(fileBytes, "TFL3");

        FlatBufferTable[] subgraphs = model.GetTableVector(ModelSubgraphsField);
        if (subgraphs.Length != 1)
        {
            throw new InvalidDataException($"Expected exactly one subgraph, found {subgraphs.Length}.");
        }

        ReadOnlyMemory<byte>[] buffers = ReadBuffers(fileBytes, model.GetTableVector(ModelBuffersField));
        TfLiteOperatorCode[] operatorCodes = ReadOperatorCodes(model.GetTableVector(ModelOperatorCodesField));
        FlatBufferTable subgraph = subgraphs[0];

        FlatBufferTable[] tensorTables = subgraph.GetTableVector(SubgraphTensorsField);
        var tensors = new TfLiteTensor[tensorTables.Length];
        for (int i = 0; i < tensorTables.Length; i++)
        {
            FlatBufferTable table = tensorTables[i];
            uint bufferIndex = table.GetUInt32(TensorBufferField);
            if (bufferIndex >= buffers.Length)
            {
                throw new InvalidDataException($"Tensor {i} refers to buffer {bufferIndex}, but the model has {buffers.Length}.");
            }

            tensors[i] = new TfLiteTensor(
                i,
                table.GetString(TensorNameField) ?? $"tensor_{i}",
                table.GetInt32Vector(TensorShapeField),
                (TfLiteTensorType)table.GetByte(TensorTypeField),
                buffers[bufferIndex]);
        }

        FlatBufferTable[] operatorTables = subgraph.GetTableVector(SubgraphOperatorsField);
        var operators = new TfLiteOperator[operatorTables.Length];
        for (int i = 0; i < operatorTables.Length; i++)
        {
            FlatBufferTable table = operatorTables[i];
            uint opcodeIndex = table.GetUInt32(OperatorOpcodeIndexField);
            if (opcodeIndex >= operatorCodes.Length)
            {
                throw new InvalidDataException($"Operator {i} refers to operator code {opcodeIndex}, but the model has {operatorCodes.Length}.");
            }

            operators[i] = new TfLiteOperator(
                i,
                operatorCodes[opcodeIndex],
                table.GetInt32Vector(OperatorInputsField),
                table.GetInt32Vector(OperatorOutputsField),
                table.GetTable(OperatorBuiltinOptionsField),
                table.GetByteVector(OperatorCustomOptionsField));
        }

        return new TfLiteModel(tensors, subgraph.GetInt32Vector(SubgraphInputsField), subgraph.GetInt32Vector(SubgraphOutputsField), operators);
    }

    private static TfLiteOperatorCode[] ReadOperatorCodes(FlatBufferTable[] tables)
    {
        var codes = new TfLiteOperatorCode[tables.Length];
        for (int i = 0; i < tables.Length; i++)
        {
            // Codes below 127 live in the old byte field; newer writers fill both, so take the larger.
            int deprecatedCode = tables[i].GetByte(OperatorCodeDeprecatedBuiltinCodeField);
            int builtinCode = tables[i].GetInt32(OperatorCodeBuiltinCodeField);
            codes[i] = new TfLiteOperatorCode((TfLiteBuiltinOperator)Math.Max(deprecatedCode, builtinCode), tables[i].GetString(OperatorCodeCustomCodeField));
        }

        return codes;
    }

    private static ReadOnlyMemory<byte>[] ReadBuffers(ReadOnlyMemory<byte> fileBytes, FlatBufferTable[] tables)
    {
        var buffers = new ReadOnlyMemory<byte>[tables.Length];
        for (int i = 0; i < tables.Length; i++)
        {
            FlatBufferTable table = tables[i];
            ulong offset = table.GetUInt64(BufferOffsetField);

            // Models over 2 GB keep buffer data after the flatbuffer, addressed from the file start.
            if (offset > 1)
            {
                ulong size = table.GetUInt64(BufferSizeField);
                if (offset + size > (ulong)fileBytes.Length)
                {
                    throw new InvalidDataException($"Buffer {i} lies outside the file.");
                }

                buffers[i] = fileBytes.Slice((int)offset, (int)size);
            }
            else
            {
                buffers[i] = table.GetByteVector(BufferDataField);
            }
        }

        return buffers;
    }
}

/// <summary>An operator code: a builtin operator, or <see cref="TfLiteBuiltinOperator.Custom"/> with its custom name.</summary>
public sealed record TfLiteOperatorCode(TfLiteBuiltinOperator Builtin, string? CustomCode)
{
    /// <summary>A name for messages: the custom op's name, or the builtin's enum name (its number when unnamed).</summary>
    public string DisplayName => Builtin == TfLiteBuiltinOperator.Custom
        ? $"custom op '{CustomCode}'"
        : Enum.IsDefined(Builtin) ? $"{Builtin} (builtin code {(int)Builtin})" : $"builtin code {(int)Builtin}";
}

/// <summary>A tensor of the main subgraph; <see cref="Data"/> is empty unless it is a constant.</summary>
public sealed record TfLiteTensor(int Index, string Name, int[] Shape, TfLiteTensorType Type, ReadOnlyMemory<byte> Data)
{
    public bool IsConstant => !Data.IsEmpty;

    public int ElementCount
    {
        get
        {
            int count = 1;
            foreach (int dimension in Shape)
            {
                count = checked(count * dimension);
            }

            return count;
        }
    }
}

/// <summary>One operator of the main subgraph. Input index -1 marks an omitted optional input.</summary>
public sealed record TfLiteOperator(int Index, TfLiteOperatorCode Code, int[] Inputs, int[] Outputs, FlatBufferTable? BuiltinOptions, ReadOnlyMemory<byte> CustomOptions);
