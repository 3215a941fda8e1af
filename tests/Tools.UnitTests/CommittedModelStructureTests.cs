using System.Globalization;
using SegServe.Tools.SelfieImporter.Onnx;

namespace SegServe.Tools.UnitTests;

/// <summary>The committed models keep the shape the service relies on: plain NCHW, float32, dynamic batch.</summary>
public sealed class CommittedModelStructureTests
{
    [Theory]
    [InlineData("selfie", 256, 256)]
    [InlineData("selfie-landscape", 144, 256)]
    public void CommittedModel_HasImageInputAndMaskOutput_WithSymbolicBatch(string modelName, int height, int width)
    {
        OnnxModel model = OnnxReader.Read(TestPaths.CommittedModel(modelName));

        OnnxValueInfo input = Assert.Single(model.Inputs);
        OnnxValueInfo output = Assert.Single(model.Outputs);
        Assert.Equal("image", input.Name);
        Assert.Equal("mask", output.Name);
        Assert.Equal(OnnxDataType.Float, input.ElementType);
        Assert.Equal(OnnxDataType.Float, output.ElementType);
        Assert.Equal(["batch", "3", height.ToString(CultureInfo.InvariantCulture), width.ToString(CultureInfo.InvariantCulture)], input.Shape.Select(d => d.ToString()));
        Assert.Equal(["batch", "1", height.ToString(CultureInfo.InvariantCulture), width.ToString(CultureInfo.InvariantCulture)], output.Shape.Select(d => d.ToString()));
        Assert.Null(input.Shape[0].Value);
    }

    [Theory]
    [InlineData("selfie")]
    [InlineData("selfie-landscape")]
    public void CommittedModel_IsOpset14_WithoutTransposeOrAutoPad(string modelName)
    {
        OnnxModel model = OnnxReader.Read(TestPaths.CommittedModel(modelName));

        Assert.Equal(14, model.OpsetVersion);
        Assert.DoesNotContain(model.Nodes, node => node.OpType == "Transpose");
        Assert.DoesNotContain(model.Nodes, node => node.FindAttribute("auto_pad") is not null);

        // Every convolution carries explicit pads.
        Assert.All(
            model.Nodes.Where(node => node.OpType is "Conv" or "ConvTranspose"),
            node => Assert.Equal(4, node.FindAttribute("pads")?.IntValues.Count));

        // Global pooling is a ReduceMean (more accurate in ONNX Runtime here), and hard-swish is the exact op.
        Assert.DoesNotContain(model.Nodes, node => node.OpType == "GlobalAveragePool");
        Assert.Contains(model.Nodes, node => node.OpType == "HardSwish");
    }

    [Theory]
    [InlineData("selfie")]
    [InlineData("selfie-landscape")]
    public void CommittedModel_HasFloat32InitializersOnly(string modelName)
    {
        OnnxModel model = OnnxReader.Read(TestPaths.CommittedModel(modelName));

        Assert.NotEmpty(model.Initializers);
        Assert.All(model.Initializers, initializer =>
        {
            Assert.Equal(OnnxDataType.Float, initializer.DataType);
            Assert.Equal(ElementCount(initializer.Dims) * sizeof(float), initializer.RawData.Length);
        });

        // The 106,401 float16 weights of the MediaPipe network, plus 4 Resize scales for each of the 3 upsamplings.
        long parameters = model.Initializers.Sum(initializer => ElementCount(initializer.Dims));
        Assert.Equal(106_401 + (3 * 4), parameters);
    }

    private static long ElementCount(IReadOnlyList<long> dims)
    {
        long count = 1;
        foreach (long dim in dims)
        {
            count *= dim;
        }

        return count;
    }
}
