using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Decoding;
using SegServe.Inference.Instances;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.UnitTests.Instances;

public sealed class InstanceDecoderTests
{
    private static readonly InputGeometry s_geometry = new(64, 48, 64, 48, 0, 0, 64, 48);
    private static readonly InstanceOptions s_all = new(0f, 0.5f, 100, null);
    private static readonly float[] s_box = [1, 1, 10, 10];
    private static readonly long[] s_label = [95];
    private static readonly float[] s_score = [0.9f];
    private static readonly long[] s_size = [48, 64];

    private static OrtValue Empty(TensorElementType type, params long[] shape) =>
        OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, shape);

    [Fact]
    public void TorchvisionMaskRcnn_NoDetections_IsAnEmptyList()
    {
        OrtValue[] outputs =
        [
            Empty(TensorElementType.Float, 0, 4),
            Empty(TensorElementType.Int64, 0),
            Empty(TensorElementType.Float, 0),
            Empty(TensorElementType.Float, 0, 1, 48, 64),
        ];
        try
        {
            Assert.Empty(InstanceDecoder.Decode(InstanceFamily.MaskRcnnTorchvision, outputs, s_geometry, 91, s_all));
        }
        finally
        {
            foreach (OrtValue value in outputs)
            {
                value.Dispose();
            }
        }
    }

    [Fact]
    public void Detectron2_NoDetections_IsAnEmptyList()
    {
        using OrtValue size = OrtValue.CreateTensorValueFromMemory(s_size.ToArray(), [2]);
        OrtValue[] outputs =
        [
            Empty(TensorElementType.Float, 0, 4),
            Empty(TensorElementType.Int64, 0),
            Empty(TensorElementType.Float, 0, 1, 28, 28),
            Empty(TensorElementType.Float, 0),
            size,
        ];
        try
        {
            Assert.Empty(InstanceDecoder.Decode(InstanceFamily.Detectron2, outputs, s_geometry, 80, s_all));
        }
        finally
        {
            for (int i = 0; i < 4; i++)
            {
                outputs[i].Dispose();
            }
        }
    }

    [Fact]
    public void ClassOutsideTheManifest_IsAModelFault()
    {
        using OrtValue boxes = OrtValue.CreateTensorValueFromMemory(s_box.ToArray(), [1, 4]);
        using OrtValue labels = OrtValue.CreateTensorValueFromMemory(s_label.ToArray(), [1]);
        using OrtValue scores = OrtValue.CreateTensorValueFromMemory(s_score.ToArray(), [1]);
        using OrtValue masks = OrtValue.CreateTensorValueFromMemory(new float[48 * 64], [1, 1, 48, 64]);

        ModelOutputException ex = Assert.Throws<ModelOutputException>(() =>
            InstanceDecoder.Decode(InstanceFamily.MaskRcnnTorchvision, [boxes, labels, scores, masks], s_geometry, 91, s_all));
        Assert.Contains("95", ex.Message, StringComparison.Ordinal);
    }
}
