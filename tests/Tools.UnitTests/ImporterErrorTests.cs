using SegServe.Tools.SelfieImporter.Conversion;
using SegServe.Tools.SelfieImporter.TfLite;

namespace SegServe.Tools.UnitTests;

/// <summary>An operator the converter does not know stops the import with a message that says which and where.</summary>
public sealed class ImporterErrorTests
{
    [Fact]
    public void Convert_UnsupportedBuiltinOperator_ThrowsNamingOperatorIndexAndOutput()
    {
        var builder = new TfLiteTestModelBuilder();
        int input = builder.AddTensor("input", [1, 4, 4, 3]);
        int output = builder.AddTensor("floored", [1, 4, 4, 3]);
        int floor = builder.AddOperatorCode(TfLiteBuiltinOperator.Floor);
        builder.AddOperator(floor, [input], [output]);
        builder.SetInputsAndOutputs([input], [output]);
        TfLiteModel model = TfLiteModel.Parse(builder.Build());

        var exception = Assert.Throws<UnsupportedOperatorException>(() => TfLiteToOnnxConverter.Convert(model));

        Assert.Contains("Floor", exception.Message, StringComparison.Ordinal);
        Assert.Contains("builtin code 8", exception.Message, StringComparison.Ordinal);
        Assert.Contains("operator index 0", exception.Message, StringComparison.Ordinal);
        Assert.Contains("'floored'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_UnknownCustomOperator_ThrowsNamingCustomCode()
    {
        var builder = new TfLiteTestModelBuilder();
        int input = builder.AddTensor("input", [1, 4, 4, 3]);
        int relu = builder.AddTensor("relu", [1, 4, 4, 3]);
        int output = builder.AddTensor("warped", [1, 4, 4, 3]);
        int reluCode = builder.AddOperatorCode(TfLiteBuiltinOperator.Relu);
        int customCode = builder.AddOperatorCode(TfLiteBuiltinOperator.Custom, "MyWarpOp");
        builder.AddOperator(reluCode, [input], [relu]);
        builder.AddOperator(customCode, [relu], [output], customOptions: [1, 2, 3, 4]);
        builder.SetInputsAndOutputs([input], [output]);
        TfLiteModel model = TfLiteModel.Parse(builder.Build());

        var exception = Assert.Throws<UnsupportedOperatorException>(() => TfLiteToOnnxConverter.Convert(model));

        Assert.Contains("MyWarpOp", exception.Message, StringComparison.Ordinal);
        Assert.Contains("operator index 1", exception.Message, StringComparison.Ordinal);
        Assert.Contains("'warped'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FileWithoutTfliteIdentifier_ThrowsInvalidData()
    {
        byte[] notTflite = [12, 0, 0, 0, (byte)'O', (byte)'N', (byte)'N', (byte)'X', 0, 0, 0, 0, 0, 0, 0, 0];

        var exception = Assert.Throws<InvalidDataException>(() => TfLiteModel.Parse(notTflite));

        Assert.Contains("TFL3", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TruncatedFlatbuffer_ThrowsInvalidData()
    {
        var builder = new TfLiteTestModelBuilder();
        int input = builder.AddTensor("input", [1, 4, 4, 3]);
        builder.SetInputsAndOutputs([input], [input]);
        byte[] complete = builder.Build();

        // Keep the root offset and file identifier but cut the tables off.
        Assert.Throws<InvalidDataException>(() => TfLiteModel.Parse(complete.AsMemory(0, 12)));
    }
}
