using SegServe.Tools.SelfieImporter.Onnx;

namespace SegServe.Tools.UnitTests;

/// <summary>What <see cref="OnnxWriter"/> writes, <see cref="OnnxReader"/> reads back unchanged, and ONNX Runtime accepts.</summary>
public sealed class OnnxRoundTripTests
{
    [Fact]
    public void WriteThenRead_PreservesNodesAttributesInitializersAndShapes()
    {
        var model = new OnnxModel { ProducerName = "test", GraphName = "round_trip", DocString = "doc" };
        model.Inputs.Add(new OnnxValueInfo("x", OnnxDataType.Float, [OnnxDimension.Symbolic("batch"), OnnxDimension.Fixed(2)]));
        model.Outputs.Add(new OnnxValueInfo("y", OnnxDataType.Float, [OnnxDimension.Symbolic("batch"), OnnxDimension.Fixed(2)]));
        model.Initializers.Add(OnnxTensor.FromFloats("low", [], [0.25f]));
        model.Initializers.Add(OnnxTensor.FromFloats("high", [], [0.75f]));
        model.Nodes.Add(new OnnxNode(
            "Clip",
            "clip",
            ["x", "low", "high"],
            ["y"],
            [
                OnnxAttribute.Int("unused_int", -3),
                OnnxAttribute.Ints("unused_ints", 1, 0, -1),
                OnnxAttribute.Float("unused_float", 1.5f),
                OnnxAttribute.String("unused_string", "half_pixel"),
            ]));

        byte[] bytes = OnnxWriter.Serialize(model);
        OnnxModel read = OnnxReader.Parse(bytes);

        Assert.Equal(7, read.IrVersion);
        Assert.Equal(14, read.OpsetVersion);
        Assert.Equal("round_trip", read.GraphName);
        OnnxNode node = Assert.Single(read.Nodes);
        Assert.Equal(["x", "low", "high"], node.Inputs);
        Assert.Equal(-3, node.FindAttribute("unused_int")!.IntValue);
        Assert.Equal([1L, 0, -1], node.FindAttribute("unused_ints")!.IntValues);
        Assert.Equal(1.5f, node.FindAttribute("unused_float")!.FloatValue);
        Assert.Equal("half_pixel", node.FindAttribute("unused_string")!.StringValue);
        Assert.Equal([0.75f], read.Initializers.Single(tensor => tensor.Name == "high").ToFloats());
        Assert.Equal(["batch", "2"], read.Inputs[0].Shape.Select(dimension => dimension.ToString()));
    }

    [Fact]
    public void WrittenModel_RunsInOnnxRuntime_WithEmptyOptionalInputs()
    {
        // Resize with an omitted roi ("") is how the importer upsamples; the writer must keep the empty name.
        var model = new OnnxModel { GraphName = "resize" };
        model.Inputs.Add(new OnnxValueInfo("x", OnnxDataType.Float, [OnnxDimension.Symbolic("batch"), OnnxDimension.Fixed(1), OnnxDimension.Fixed(1), OnnxDimension.Fixed(2)]));
        model.Outputs.Add(new OnnxValueInfo("y", OnnxDataType.Float, [OnnxDimension.Symbolic("batch"), OnnxDimension.Fixed(1), OnnxDimension.Fixed(2), OnnxDimension.Fixed(4)]));
        model.Initializers.Add(OnnxTensor.FromFloats("scales", [4], [1f, 1f, 2f, 2f]));
        model.Nodes.Add(new OnnxNode(
            "Resize",
            "resize",
            ["x", "", "scales"],
            ["y"],
            [OnnxAttribute.String("mode", "linear"), OnnxAttribute.String("coordinate_transformation_mode", "half_pixel")]));

        float[] output = OnnxRunner.Run(OnnxWriter.Serialize(model), [0f, 4f], [1, 1, 1, 2], out long[] shape);

        Assert.Equal([1L, 1, 2, 4], shape);
        // half_pixel: output x maps to (x + 0.5) / 2 - 0.5 → -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        Assert.Equal([0f, 1f, 3f, 4f, 0f, 1f, 3f, 4f], output);
    }
}
