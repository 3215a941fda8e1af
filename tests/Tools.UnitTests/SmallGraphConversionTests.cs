using SegServe.Tools.SelfieImporter.Conversion;
using SegServe.Tools.SelfieImporter.Onnx;
using SegServe.Tools.SelfieImporter.TfLite;

namespace SegServe.Tools.UnitTests;

/// <summary>
/// A hand-built TFLite graph converted and run on ONNX Runtime against a direct NHWC reference: checks SAME padding
/// (asymmetric on one axis), OHWI weights, fused activations, and a per-channel constant where W equals C, the
/// case where a constant left as [C] broadcasts over W without any error.
/// </summary>
public sealed class SmallGraphConversionTests
{
    private const int Height = 5;
    private const int Width = 8;
    private const int InputChannels = 3;
    private const int OutputChannels = 4;
    private const int Kernel = 3;
    private const int Stride = 2;
    private const int OutputHeight = 3;
    private const int OutputWidth = 4;

    [Fact]
    public void Convert_ConvWithSamePaddingAndPerChannelAdd_MatchesNhwcReference()
    {
        var random = new Random(1234);
        float[] filter = RandomValues(random, OutputChannels * Kernel * Kernel * InputChannels);
        float[] bias = RandomValues(random, OutputChannels);
        float[] channelOffsets = [0.5f, -1f, 2f, -0.25f];
        float[] image = RandomValues(random, Height * Width * InputChannels);

        var builder = new TfLiteTestModelBuilder();
        int input = builder.AddTensor("input", [1, Height, Width, InputChannels]);
        int filterTensor = builder.AddFloatConstant("filter", [OutputChannels, Kernel, Kernel, InputChannels], filter);
        int biasTensor = builder.AddFloatConstant("bias", [OutputChannels], bias);
        int conv = builder.AddTensor("conv", [1, OutputHeight, OutputWidth, OutputChannels]);
        int offsets = builder.AddFloatConstant("offsets", [OutputChannels], channelOffsets);
        int output = builder.AddTensor("shifted", [1, OutputHeight, OutputWidth, OutputChannels]);
        int convCode = builder.AddOperatorCode(TfLiteBuiltinOperator.Conv2D);
        int addCode = builder.AddOperatorCode(TfLiteBuiltinOperator.Add);
        builder.AddOperator(convCode, [input, filterTensor, biasTensor], [conv], TfLiteTestModelBuilder.Conv2DOptions(TfLitePadding.Same, Stride, TfLiteActivation.Relu));
        const byte AddOptionsUnionType = 11;
        builder.AddOperator(addCode, [conv, offsets], [output], TfLiteTestModelBuilder.ElementwiseOptions(AddOptionsUnionType, TfLiteActivation.Relu6));
        builder.SetInputsAndOutputs([input], [output]);

        OnnxModel onnx = TfLiteToOnnxConverter.Convert(TfLiteModel.Parse(builder.Build()));
        float[] actual = OnnxRunner.Run(OnnxWriter.Serialize(onnx), NhwcToNchw(image, Height, Width, InputChannels), [1, InputChannels, Height, Width], out long[] outputShape);

        Assert.Equal([1L, OutputChannels, OutputHeight, OutputWidth], outputShape);
        float[] expected = NhwcToNchw(Reference(image, filter, bias, channelOffsets), OutputHeight, OutputWidth, OutputChannels);
        Assert.True(OnnxRunner.MaxAbsoluteDifference(actual, expected) < 1e-5, "The converted graph differs from the NHWC reference.");

        OnnxNode convNode = Assert.Single(onnx.Nodes, node => node.OpType == "Conv");
        // H: 5 -> 3 needs 2 padding rows, 1 + 1. W: 8 -> 4 needs 1 column, all of it after (TF SAME).
        Assert.Equal([1L, 0, 1, 1], convNode.FindAttribute("pads")!.IntValues);
        Assert.Equal([OutputChannels, 1L, 1], onnx.Initializers.Single(tensor => tensor.Name == "offsets").Dims);
    }

    /// <summary>relu6(relu(conv_same(x) + bias) + offsets), computed directly in NHWC with TF's SAME rule.</summary>
    private static float[] Reference(float[] image, float[] filter, float[] bias, float[] offsets)
    {
        (int padTop, _) = ReferenceSamePadding(Height, OutputHeight);
        (int padLeft, _) = ReferenceSamePadding(Width, OutputWidth);
        var result = new float[OutputHeight * OutputWidth * OutputChannels];
        for (int y = 0; y < OutputHeight; y++)
        {
            for (int x = 0; x < OutputWidth; x++)
            {
                for (int o = 0; o < OutputChannels; o++)
                {
                    double sum = bias[o];
                    for (int ky = 0; ky < Kernel; ky++)
                    {
                        for (int kx = 0; kx < Kernel; kx++)
                        {
                            int inY = (y * Stride) + ky - padTop;
                            int inX = (x * Stride) + kx - padLeft;
                            if (inY < 0 || inY >= Height || inX < 0 || inX >= Width)
                            {
                                continue;
                            }

                            for (int c = 0; c < InputChannels; c++)
                            {
                                sum += image[(((inY * Width) + inX) * InputChannels) + c] * filter[(((((o * Kernel) + ky) * Kernel) + kx) * InputChannels) + c];
                            }
                        }
                    }

                    double activated = Math.Max(sum, 0) + offsets[o];
                    result[(((y * OutputWidth) + x) * OutputChannels) + o] = (float)Math.Clamp(activated, 0, 6);
                }
            }
        }

        return result;
    }

    private static (int Before, int After) ReferenceSamePadding(int inputSize, int outputSize)
    {
        int total = Math.Max(((outputSize - 1) * Stride) + Kernel - inputSize, 0);
        return (total / 2, total - (total / 2));
    }

    private static float[] NhwcToNchw(float[] values, int height, int width, int channels)
    {
        var result = new float[values.Length];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < channels; c++)
                {
                    result[(((c * height) + y) * width) + x] = values[(((y * width) + x) * channels) + c];
                }
            }
        }

        return result;
    }

    private static float[] RandomValues(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
