using System.Text.Json;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Inference.Instances;
using SegServe.Inference.Masks;

namespace SegServe.Api.FunctionalTests.Instances;

/// <summary>
/// The RoI mask paste against detectron2's own (the fixture's reference): the raw 28×28 masks and boxes of the
/// detectron2-style export, pasted into the original photo, must give the reference masks (as COCO RLE).
/// </summary>
public sealed class RoiMaskPasterFixtureTests
{
    [Theory]
    [InlineData("astronaut")]
    [InlineData("chelsea")]
    public void Detectron2Masks_PastedAsDetectron2Does(string photo)
    {
        string directory = SharedData.PathOf($"fixtures/formats/expected/detectron2_style_small/{photo}");
        (int[] _, double[] boxes) = NpyReader.ReadArray(Path.Combine(directory, "outputs", "pred_boxes.npy"));
        (int[] maskShape, double[] masks) = NpyReader.ReadArray(Path.Combine(directory, "outputs", "pred_masks.npy"));
        (int[] _, double[] inputSize) = NpyReader.ReadArray(Path.Combine(directory, "outputs", "image_size.npy"));
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "detections.json")));
        JsonElement[] detections = [.. reference.RootElement.GetProperty("detections").EnumerateArray()];
        JsonElement firstSize = detections[0].GetProperty("segmentation").GetProperty("size");
        int height = firstSize[0].GetInt32();
        int width = firstSize[1].GetInt32();
        int size = maskShape[^1];
        Assert.Equal(detections.Length, maskShape[0]);

        // Step 1–2 of the sidecar: boxes from the input frame to the photo, clipped.
        float scaleX = (float)(width / inputSize[1]);
        float scaleY = (float)(height / inputSize[0]);
        int equalStrings = 0;
        double worst = 1;
        for (int k = 0; k < detections.Length; k++)
        {
            float x0 = Math.Clamp((float)boxes[(k * 4) + 0] * scaleX, 0, width);
            float y0 = Math.Clamp((float)boxes[(k * 4) + 1] * scaleY, 0, height);
            float x1 = Math.Clamp((float)boxes[(k * 4) + 2] * scaleX, 0, width);
            float y1 = Math.Clamp((float)boxes[(k * 4) + 3] * scaleY, 0, height);
            float[] mask = new float[size * size];
            for (int i = 0; i < mask.Length; i++)
            {
                mask[i] = (float)masks[(k * size * size) + i];
            }

            CocoRle pasted = RoiMaskPaster.Paste(mask, size, x0, y0, x1, y1, width, height, 0.5f);

            string expected = detections[k].GetProperty("segmentation").GetProperty("counts").GetString()!;
            CocoRle truth = CocoRle.FromCompressedString(expected, height, width);
            double iou = truth.Area == 0 && pasted.Area == 0 ? 1 : CocoRle.Iou(pasted, truth, crowd: false);
            worst = Math.Min(worst, iou);
            equalStrings += pasted.ToCompressedString() == expected ? 1 : 0;
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{photo}: {equalStrings}/{detections.Length} RLE strings equal, worst IoU {worst:0.000000}");
        Assert.True(worst >= 0.99, $"{photo}: a pasted mask has IoU {worst:0.0000} with detectron2's");
        Assert.True(equalStrings == detections.Length, $"{photo}: only {equalStrings} of {detections.Length} RLE strings equal detectron2's");
    }
}
