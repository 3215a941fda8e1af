using Microsoft.ML.OnnxRuntime;
using SegServe.Inference.Instances;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.UnitTests.Instances;

/// <summary>
/// YOLO-seg decoding on hand-made outputs: a 16×16 photo fed as is (no letterbox padding), 4×4 prototypes where
/// prototype 0 is 1 everywhere and the others 0 — so an object's mask logit is its coefficient 0 inside its box.
/// </summary>
public sealed class YoloSegDecoderTests
{
    private static readonly InputGeometry s_geometry = new(16, 16, 16, 16, 0, 0, 16, 16);
    private static readonly InstanceOptions s_options = new(0.25f, 0.5f, 100, null);

    private static float[] Prototypes()
    {
        float[] protos = new float[32 * 4 * 4];
        Array.Fill(protos, 1f, 0, 16);
        return protos;
    }

    [Fact]
    public void EndToEndHead_FiltersByScore_AndMasksTheBox()
    {
        // Rows: x1, y1, x2, y2, score, class, 32 coefficients. Zero-padded rows (score 0) follow, as exporters write.
        float[] head = new float[3 * 38];
        float[] first = [4, 4, 12, 12, 0.9f, 1, 1];
        first.CopyTo(head, 0);
        float[] second = [0, 0, 8, 8, 0.1f, 0, 1];
        second.CopyTo(head, 38);
        using OrtValue output0 = OrtValue.CreateTensorValueFromMemory(head, [1, 3, 38]);
        using OrtValue output1 = OrtValue.CreateTensorValueFromMemory(Prototypes(), [1, 32, 4, 4]);

        List<DetectedObject> objects = YoloSegDecoder.Decode([output0, output1], s_geometry, 80, s_options);

        DetectedObject only = Assert.Single(objects);
        Assert.Equal(1, only.ClassId);
        Assert.Equal((4f, 4f, 12f, 12f), (only.X1, only.Y1, only.X2, only.Y2));
        Assert.Equal(64, only.Mask.Area); // columns 4–11, rows 4–11
    }

    [Fact]
    public void ChannelMajorHead_NmsIsPerClass()
    {
        // Three anchors, 2 classes: anchors 0 and 1 overlap (IoU 0.81) with class 0 — the weaker is suppressed;
        // anchor 2 is the same box as anchor 1 but class 1 — kept.
        const int Anchors = 3, Classes = 2, Channels = 4 + Classes + 32;
        float[] head = new float[Channels * Anchors];
        void Set(int channel, int anchor, float value) => head[(channel * Anchors) + anchor] = value;
        float[][] boxes = [[8, 8, 8, 8], [8.5f, 8.5f, 8, 8], [8.5f, 8.5f, 8, 8]]; // cx, cy, w, h
        for (int a = 0; a < Anchors; a++)
        {
            for (int c = 0; c < 4; c++)
            {
                Set(c, a, boxes[a][c]);
            }

            Set(4 + Classes, a, 1f); // coefficient 0 = 1
        }

        Set(4, 0, 0.9f);
        Set(4, 1, 0.8f);
        Set(5, 2, 0.7f);
        using OrtValue output0 = OrtValue.CreateTensorValueFromMemory(head, [1, Channels, Anchors]);
        using OrtValue output1 = OrtValue.CreateTensorValueFromMemory(Prototypes(), [1, 32, 4, 4]);

        List<DetectedObject> objects = YoloSegDecoder.Decode([output0, output1], s_geometry, Classes, s_options);

        Assert.Equal(2, objects.Count);
        Assert.Equal((0, 0.9f), (objects[0].ClassId, objects[0].Score));
        Assert.Equal((1, 0.7f), (objects[1].ClassId, objects[1].Score));
    }
}
