using SegServe.Tools.SelfieImporter.Onnx;

namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>
/// A real ONNX model that ONNX Runtime refuses to run on some inputs, for the fault tests: a 1×1 convolution to two
/// classes, plus a value gathered from a one-element table at the index <c>(int)max(input)</c>. Inputs are scaled by
/// 2/255, so a batch whose brightest channel value is below 128 gathers index 0 and runs; one with a value of 128 or more
/// gathers index 1, and the Gather kernel fails with "indices element out of data bounds".
/// </summary>
public static class FaultyModel
{
    public const int Size = 32;

    /// <summary>Writes <c>model.onnx</c> and <c>model.json</c> into <paramref name="directory"/>.</summary>
    public static void Write(string directory, int maxBatchSize, int maxQueueDelayMs)
    {
        var model = new OnnxModel { OpsetVersion = 13, ProducerName = "segserve-tests", GraphName = "faulty" };
        OnnxDimension[] image = [OnnxDimension.Symbolic("batch"), OnnxDimension.Fixed(3), OnnxDimension.Fixed(Size), OnnxDimension.Fixed(Size)];
        model.Inputs.Add(new OnnxValueInfo("input", OnnxDataType.Float, image));
        model.Outputs.Add(new OnnxValueInfo("logits", OnnxDataType.Float, [OnnxDimension.Symbolic("batch"), OnnxDimension.Fixed(2), OnnxDimension.Fixed(Size), OnnxDimension.Fixed(Size)]));

        // Class 1 wins where red exceeds green.
        model.Initializers.Add(OnnxTensor.FromFloats("weights", [2, 3, 1, 1], [0f, 1f, 0f, 1f, 0f, 0f]));
        model.Initializers.Add(OnnxTensor.FromFloats("bias", [2], [0f, 0f]));
        model.Initializers.Add(OnnxTensor.FromFloats("table", [1], [0f]));

        model.Nodes.Add(new OnnxNode("Conv", "classes", ["input", "weights", "bias"], ["scores"], []));
        model.Nodes.Add(new OnnxNode("ReduceMax", "brightest", ["input"], ["max"], [OnnxAttribute.Int("keepdims", 0)]));
        model.Nodes.Add(new OnnxNode("Cast", "index", ["max"], ["index"], [OnnxAttribute.Int("to", (long)OnnxDataType.Int64)]));
        model.Nodes.Add(new OnnxNode("Gather", "lookup", ["table", "index"], ["offset"], [OnnxAttribute.Int("axis", 0)]));
        model.Nodes.Add(new OnnxNode("Add", "logits", ["scores", "offset"], ["logits"], []));

        OnnxWriter.Write(model, Path.Combine(directory, "model.onnx"));
        File.WriteAllText(Path.Combine(directory, "model.json"), $$"""
            {
              "description": "Fails on bright inputs (a Gather out of bounds): for the fault tests.",
              "task": "semantic",
              "input": { "name": "input", "layout": "NCHW", "width": {{Size}}, "height": {{Size}}, "color": "RGB",
                         "scale": 0.00784313725490196, "mean": [0, 0, 0], "std": [1, 1, 1], "resize": "stretch" },
              "output": { "name": "logits", "kind": "logits" },
              "classes": [ { "id": 0, "name": "green" }, { "id": 1, "name": "red" } ],
              "batching": { "maxBatchSize": {{maxBatchSize}}, "maxQueueDelayMs": {{maxQueueDelayMs}} }
            }
            """);
    }
}
